import { z } from 'zod';
import { generatedCustomerCode } from '../domain/customer-naming.js';
import { addressKey } from '../domain/email-address.js';
import { emailAddress, id, idParam, page, pageQuery, searchParam, text, timestamp } from './common.js';

/**
 * A customer (SPEC §3, seed 002): who tickets are for. Created by hand (admins and agents),
 * from a CSV file, or by the e-mail path from a sender's address.
 */
export const customer = z
  .object({
    id: z.number(),
    code: z.string().describe('unique; `C` + the zero-padded id when none was given, or a code of your own such as a CPF/CNPJ'),
    name: z.string(),
    email: z.string().nullable(),
    phone: z.string().nullable(),
    phone2: z.string().nullable(),
    mobile: z.string().nullable(),
    regionId: z.number().nullable().describe('null only for customers the e-mail path created when its mailbox names no region'),
    customerTypeId: z.number().nullable(),
    consentEmail: z.boolean().describe('may be contacted by e-mail'),
    consentSms: z.boolean(),
    consentPhone: z.boolean(),
    consentWhatsapp: z.boolean(),
    observerIds: z.array(z.number()).describe("users told of every action on this customer's tickets, by id"),
    createdAt: timestamp,
    updatedAt: timestamp,
  })
  .meta({ id: 'Customer' });

/** Codes of this form are the generated ones (`C` + 6 or more digits): a code of your own must look different. */
export const GENERATED_CODE = /^C\d{6,}$/;

/** A phone number as people write it: digits, spaces and `+ ( ) - . /`, at least 3 digits; empty means none. */
const phone = z
  .string()
  .trim()
  .max(40, 'must be at most 40 characters')
  .refine((s) => s === '' || (/^[\d\s+().\-/]+$/.test(s) && (s.match(/\d/g)?.length ?? 0) >= 3), {
    message: 'must be a phone number: digits, spaces and + ( ) - . / (at least 3 digits)',
    when: (p) => p.issues.length === 0,
  })
  .transform((s) => s || null);

/** An e-mail address of one mailbox; compared case-insensitively (two customers cannot share one). */
const customerEmail = emailAddress.refine((s) => addressKey(s) !== null, { message: 'must be an e-mail address', when: (p) => p.issues.length === 0 });

export const customerCreate = z.strictObject({
  name: text(200),
  code: text(60)
    .optional()
    .describe(
      'unique; leave it out to have one generated (`C` + the zero-padded id), or give a code of your own such as a CPF/CNPJ, stored as written. ' +
        '`C` followed by 6 or more digits is the generated form and is kept for generated codes.',
    ),
  email: customerEmail.nullable().optional().describe('unique whatever the case: two customers cannot share an address'),
  phone: phone.nullable().optional(),
  phone2: phone.nullable().optional(),
  mobile: phone.nullable().optional(),
  regionId: id,
  customerTypeId: id.nullable().optional(),
  consentEmail: z.boolean().optional().describe('default false'),
  consentSms: z.boolean().optional().describe('default false'),
  consentPhone: z.boolean().optional().describe('default false'),
  consentWhatsapp: z.boolean().optional().describe('default false'),
  observerIds: z
    .array(id)
    .max(100, 'must have at most 100 observers')
    .optional()
    .describe('users told of every action on this customer\'s tickets; a PATCH that gives it replaces the whole set'),
});
export const customerUpdate = customerCreate.partial();

const GENERATED_FORM = 'has the form of generated codes (C followed by 6 or more digits); leave code out to have one generated, or use another code';

/** The refusal of a code of the generated form given by hand (`ownId`: a customer may keep its own generated code). */
export function reservedCodeProblem(code: string | undefined, ownId?: number): string | undefined {
  if (code === undefined || !GENERATED_CODE.test(code)) return undefined;
  if (ownId !== undefined && code === generatedCustomerCode(ownId)) return undefined;
  return `«${code}» ${GENERATED_FORM}`;
}

/** The rules of a new customer, as POST /customers applies them, for callers without an HTTP body (the CSV import). */
export function checkCustomer(input: unknown): { ok: true; customer: CustomerCreate } | { ok: false; problems: { field: string; message: string }[] } {
  const parsed = customerCreate.safeParse(input);
  const problems = parsed.success ? [] : parsed.error.issues.map((i) => ({ field: String(i.path[0] ?? ''), message: i.message }));
  const reserved = reservedCodeProblem((input as { code?: string }).code);
  if (reserved) problems.push({ field: 'code', message: reserved });
  return parsed.success && problems.length === 0 ? { ok: true, customer: parsed.data } : { ok: false, problems };
}
export const customerListQuery = pageQuery.extend({
  q: searchParam.optional().describe('part of the name, the e-mail or the code, any case'),
  regionId: idParam.optional(),
  customerTypeId: idParam.optional(),
});
export const customerPage = page(customer);

/** The answer to a CSV import (POST /customers/import). */
export const importReport = z
  .object({
    dryRun: z.boolean(),
    rows: z.number().describe('data rows in the file (the header and blank rows not counted)'),
    imported: z.number().describe('customers created; in a dry run, the customers that would be created'),
    failed: z
      .array(z.object({ line: z.number().describe('the line in the file; the header is line 1'), field: z.string().describe('the column, or `row`'), reason: z.string() }))
      .describe('every problem of every row left out, by line; a row with two problems is listed twice'),
  })
  .meta({ id: 'CustomerImportReport' });

export type Customer = z.infer<typeof customer>;
export type CustomerCreate = z.infer<typeof customerCreate>;
export type CustomerUpdate = z.infer<typeof customerUpdate>;
export type CustomerListQuery = z.infer<typeof customerListQuery>;
export type ImportReport = z.infer<typeof importReport>;
