import { z } from 'zod';
import { DISTRIBUTION_TARGETS } from '../domain/mailbox-rules.js';
import { boolParam, id, idParam, page, pageQuery, searchParam, text, timestamp } from './common.js';

/**
 * A mailbox (the e-mail channel integration, SPEC §3): where the engine reads mail (IMAP), and
 * what it does with it (conversion settings). The IMAP secret is write-only.
 */
export const distributionTarget = z.enum(DISTRIBUTION_TARGETS);

export const mailboxImap = z
  .object({
    host: z.string(),
    port: z.number(),
    tls: z.boolean(),
    user: z.string(),
    folder: z.string(),
    hasSecret: z.boolean().describe('a secret is stored; the secret itself is never shown'),
  })
  .meta({ id: 'MailboxImap' });

export const mailbox = z
  .object({
    id: z.number(),
    name: z.string(),
    imap: mailboxImap,
    sectorId: z.number().nullable().describe('types and occurrences must be linked to this sector or to none'),
    autoConvert: z.boolean().describe('on: every e-mail becomes a ticket; off: a pre-ticket in triage'),
    customerTypeId: z.number().nullable().describe('given to customers created from e-mail'),
    regionId: z.number().nullable().describe('given to customers created from e-mail'),
    creatorUserId: z.number().nullable().describe('the creator of tickets made from e-mail'),
    occurrenceTypeId: z.number().nullable(),
    occurrenceId: z.number().nullable(),
    solutionId: z.number().nullable().describe('its step flow starts on every converted ticket'),
    autoDistribute: z.boolean(),
    distributionTarget: distributionTarget.nullable().describe("null: the occurrence's solution group, else its sector (SPEC §5)"),
    active: z.boolean().describe('false: the mailbox is not read'),
    createdAt: timestamp,
    updatedAt: timestamp,
  })
  .meta({ id: 'Mailbox' });

const NO_NUL = (s: string) => !s.includes('\u0000');

/** The IMAP password (or app password): kept exactly as sent (not trimmed), encrypted at rest. */
const secret = z.string().min(1, 'must not be empty').max(1000, 'must be at most 1000 characters').refine(NO_NUL, 'must not contain NUL characters');

const imapFields = {
  host: text(253).regex(/^[^\s/\\]+$/, 'must be a host name or an IP address (no spaces or slashes)'),
  port: z.number().int('must be a whole number').min(1, 'must be from 1 to 65535').max(65535, 'must be from 1 to 65535'),
  tls: z.boolean(),
  user: text(320),
  secret: secret.describe('write-only: stored encrypted, never returned'),
  folder: text(500),
};

export const mailboxImapCreate = z.strictObject({
  ...imapFields,
  tls: imapFields.tls.default(true),
  folder: imapFields.folder.default('INBOX'),
});
export const mailboxImapUpdate = z.strictObject(imapFields).partial();

/** The settings a mailbox has besides its IMAP connection, without defaults (a PATCH changes only what it names). */
const settingFields = {
  name: text(200),
  sectorId: id.nullable(),
  autoConvert: z.boolean(),
  customerTypeId: id.nullable(),
  regionId: id.nullable(),
  creatorUserId: id.nullable(),
  occurrenceTypeId: id.nullable(),
  occurrenceId: id.nullable(),
  solutionId: id.nullable(),
  autoDistribute: z.boolean(),
  distributionTarget: distributionTarget.nullable(),
  active: z.boolean(),
};

export const mailboxCreate = z.strictObject({
  ...settingFields,
  imap: mailboxImapCreate,
  sectorId: settingFields.sectorId.optional(),
  autoConvert: settingFields.autoConvert.default(false),
  customerTypeId: settingFields.customerTypeId.optional(),
  regionId: settingFields.regionId.optional(),
  creatorUserId: settingFields.creatorUserId.optional(),
  occurrenceTypeId: settingFields.occurrenceTypeId.optional(),
  occurrenceId: settingFields.occurrenceId.optional(),
  solutionId: settingFields.solutionId.optional(),
  autoDistribute: settingFields.autoDistribute.default(false),
  distributionTarget: settingFields.distributionTarget.optional(),
  active: settingFields.active.default(true),
});
export const mailboxUpdate = z.strictObject({ ...settingFields, imap: mailboxImapUpdate }).partial();

export const mailboxListQuery = pageQuery.extend({
  name: searchParam.optional().describe('part of the name, any case'),
  sectorId: idParam.optional(),
  active: boolParam.optional(),
  autoConvert: boolParam.optional(),
});
export const mailboxPage = page(mailbox);

export type Mailbox = z.infer<typeof mailbox>;
export type MailboxCreate = z.infer<typeof mailboxCreate>;
export type MailboxUpdate = z.infer<typeof mailboxUpdate>;
export type MailboxListQuery = z.infer<typeof mailboxListQuery>;
