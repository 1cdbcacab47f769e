import { z } from 'zod';
import { boolParam, date, pageQuery, page, slaUnit, text, timestamp } from './common.js';

/**
 * A customer's contract (seed 002): what the customer signed up for, for a period. An
 * optional SLA package overrides the occurrence's SLA on the customer's tickets while the
 * contract is in force (active and valid today).
 */
export const contract = z
  .object({
    id: z.number(),
    customerId: z.number(),
    name: z.string(),
    number: z.string().describe('unique across all customers'),
    startsOn: date,
    endsOn: date.nullable().describe('null = open-ended'),
    active: z.boolean(),
    slaValue: z.number().nullable().describe('the SLA package: with slaUnit, or both null'),
    slaUnit: slaUnit.nullable(),
    validToday: z.boolean().describe("today (the database's date) is within startsOn..endsOn"),
    inForce: z.boolean().describe('active and valid today: its SLA package, if any, applies'),
    createdAt: timestamp,
  })
  .meta({ id: 'Contract' });

const slaValue = z.number().int('must be a whole number').min(1, 'must be at least 1').max(1_000_000, 'must be at most 1000000');

const contractFields = z.strictObject({
  name: text(200),
  number: text(100).describe('unique across all customers'),
  startsOn: date.describe('first day of validity, YYYY-MM-DD'),
  endsOn: date.nullable().optional().describe('last day of validity (not before startsOn); null or absent = open-ended'),
  active: z.boolean().optional().describe('default true'),
  slaValue: slaValue.nullable().optional().describe('the SLA package: give slaValue and slaUnit together, or neither'),
  slaUnit: slaUnit.nullable().optional(),
});

/** The rules between fields of a contract as it will be stored: each problem names its field. */
export function contractProblems(c: { startsOn: string; endsOn?: string | null; slaValue?: number | null; slaUnit?: string | null }): { field: string; message: string }[] {
  const problems: { field: string; message: string }[] = [];
  if (c.endsOn != null && c.endsOn < c.startsOn) problems.push({ field: 'endsOn', message: `must not be before startsOn (${c.startsOn})` });
  if (c.slaValue != null && c.slaUnit == null) problems.push({ field: 'slaUnit', message: 'is required with slaValue (an SLA package has both)' });
  if (c.slaUnit != null && c.slaValue == null) problems.push({ field: 'slaValue', message: 'is required with slaUnit (an SLA package has both)' });
  return problems;
}

export const contractCreate = contractFields.superRefine((c, ctx) => {
  for (const p of contractProblems(c)) ctx.addIssue({ code: 'custom', path: [p.field], message: p.message });
});
/** Only the fields given change; the rules above are checked against the contract as it will be. */
export const contractUpdate = contractFields.partial();
export const contractListQuery = pageQuery.extend({
  inForce: boolParam.optional().describe('true = only contracts in force (active and valid today); false = only the others'),
});
export const contractPage = page(contract);

export type Contract = z.infer<typeof contract>;
export type ContractCreate = z.infer<typeof contractCreate>;
export type ContractUpdate = z.infer<typeof contractUpdate>;
export type ContractListQuery = z.infer<typeof contractListQuery>;
