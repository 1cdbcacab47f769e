import { z } from 'zod';
import { DEFAULT_CLOSE_RESOLVED_AFTER_HOURS, MAX_CLOSE_RESOLVED_AFTER_HOURS } from '../domain/auto-close.js';
import { DISTRIBUTION_TARGETS } from '../domain/mailbox-rules.js';
import {
  AFTER_PROCESSING,
  DEFAULT_MAX_MESSAGE_BYTES,
  DEFAULT_SENDER_TICKET_LIMIT,
  IMAP_AUTH,
  MAX_MAX_MESSAGE_BYTES,
  MIN_MAX_MESSAGE_BYTES,
  MIN_PUSH_SECRET_LENGTH,
  tokenUrlProblem,
} from '../domain/mailbox-settings.js';
import { boolParam, id, idParam, page, pageQuery, searchParam, text, timestamp } from './common.js';

/**
 * A mailbox (the e-mail channel integration, SPEC §3): where the engine reads mail (IMAP), and
 * what it does with it (conversion settings). The IMAP secret is write-only.
 */
export const distributionTarget = z.enum(DISTRIBUTION_TARGETS);
export const imapAuth = z.enum(IMAP_AUTH);
export const afterProcessing = z.enum(AFTER_PROCESSING);

export const mailboxOAuth = z
  .object({
    tokenUrl: z.string().describe('the token endpoint the refresh token is exchanged at (RFC 6749 §6)'),
    clientId: z.string(),
    scope: z.string().nullable(),
    hasClientSecret: z.boolean().describe('a client secret is stored; never shown'),
    hasRefreshToken: z.boolean().describe('a refresh token is stored; never shown'),
  })
  .meta({ id: 'MailboxOAuth' });

export const mailboxImap = z
  .object({
    host: z.string(),
    port: z.number(),
    tls: z.boolean(),
    user: z.string(),
    folder: z.string(),
    hasSecret: z.boolean().describe('a secret is stored; the secret itself is never shown'),
    auth: imapAuth.describe('`password`: the secret; `oauth2`: XOAUTH2/OAUTHBEARER with an access token from the refresh token (Microsoft 365, Gmail)'),
    oauth: mailboxOAuth.nullable().describe('the OAuth 2.0 client, when one is stored'),
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
    acknowledge: z.boolean().describe('on: one acknowledgement e-mail per new ticket to its customer, with the protocol in the subject'),
    acknowledgementSubject: z.string().nullable().describe('the acknowledgement subject template (placeholders `{{protocol}}`, `{{subject}}`, `{{customerName}}`, `{{mailbox}}`); null: the default'),
    acknowledgementBody: z.string().nullable().describe('the acknowledgement body template (the same placeholders); null: the default'),
    senderTicketLimit: z.number().describe('new tickets one sender may open per hour; more mail from them is appended to their latest ticket (a mail loop stays one ticket); 0: no limit'),
    afterProcessing: afterProcessing.describe('what happens to the message on the server once its outcome is recorded: left as it is, marked \\Seen, or moved to `afterProcessingFolder`'),
    afterProcessingFolder: z.string().nullable(),
    maxMessageBytes: z.number().describe('a message above this size is quarantined with the reason (its bytes kept); a pushed one is refused with 413'),
    closeResolvedAfterHours: z
      .number()
      .nullable()
      .describe("a ticket from this mailbox left resolved this many hours closes by itself (a reply before reopens it, one after opens a new ticket); the mailbox's setting when the ticket was resolved applies; null: never"),
    hasPushSecret: z.boolean().describe('mail can be pushed to `POST /inbound/{id}` with this secret; the secret is never shown'),
    createdAt: timestamp,
    updatedAt: timestamp,
  })
  .meta({ id: 'Mailbox' });

const NO_NUL = (s: string) => !s.includes('\u0000');

/** A write-only secret: kept exactly as sent (not trimmed), encrypted at rest. */
const writeOnly = (max: number) => z.string().min(1, 'must not be empty').max(max, `must be at most ${max} characters`).refine(NO_NUL, 'must not contain NUL characters');
/** The IMAP password (or app password). */
const secret = writeOnly(1000);

const tokenUrl = z
  .string()
  .max(2000, 'must be at most 2000 characters')
  .superRefine((url, ctx) => {
    const problem = tokenUrlProblem(url);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });

/** The OAuth 2.0 client of a mailbox: its secrets (client secret, refresh token) are write-only. */
const oauthFields = {
  tokenUrl: tokenUrl.describe('e.g. https://login.microsoftonline.com/<tenant>/oauth2/v2.0/token or https://oauth2.googleapis.com/token'),
  clientId: text(500),
  clientSecret: secret.nullable().describe('write-only; null removes it (a public client)'),
  refreshToken: writeOnly(8000).describe('write-only: stored encrypted, never returned'),
  scope: text(1000).nullable().describe('e.g. https://outlook.office.com/IMAP.AccessAsUser.All offline_access; null: the one the token was granted with'),
};
export const mailboxOAuthCreate = z.strictObject({ ...oauthFields, clientSecret: oauthFields.clientSecret.optional(), scope: oauthFields.scope.optional() });
export const mailboxOAuthUpdate = z.strictObject(oauthFields).partial();

const imapFields = {
  host: text(253).regex(/^[^\s/\\]+$/, 'must be a host name or an IP address (no spaces or slashes)'),
  port: z.number().int('must be a whole number').min(1, 'must be from 1 to 65535').max(65535, 'must be from 1 to 65535'),
  tls: z.boolean(),
  user: text(320),
  secret: secret.describe('write-only: stored encrypted, never returned; required with `auth: password`'),
  folder: text(500),
  auth: imapAuth,
};

export const mailboxImapCreate = z.strictObject({
  ...imapFields,
  tls: imapFields.tls.default(true),
  folder: imapFields.folder.default('INBOX'),
  secret: imapFields.secret.optional(),
  auth: imapFields.auth.default('password'),
  oauth: mailboxOAuthCreate.optional().describe('required with `auth: oauth2`'),
});
export const mailboxImapUpdate = z.strictObject({ ...imapFields, oauth: mailboxOAuthUpdate.describe('only the fields given change') }).partial();

/** The push secret: a password on the open internet, so not a short one. */
const pushSecret = secret
  .min(MIN_PUSH_SECRET_LENGTH, `must be at least ${MIN_PUSH_SECRET_LENGTH} characters (e.g. openssl rand -base64 24)`)
  .nullable()
  .describe('write-only: authenticates `POST /inbound/{id}`; null turns push off');

/** A header template: one line, since it becomes the Subject header. */
const subjectTemplate = z
  .string()
  .max(500, 'must be at most 500 characters')
  .refine(NO_NUL, 'must not contain NUL characters')
  .refine((s) => !/[\r\n]/.test(s), 'must be one line (no line breaks)')
  .transform((s) => s.trim() || null)
  .nullable();
const bodyTemplate = z
  .string()
  .max(5000, 'must be at most 5000 characters')
  .refine(NO_NUL, 'must not contain NUL characters')
  .transform((s) => (s.trim() ? s : null))
  .nullable();

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
  acknowledge: z.boolean(),
  acknowledgementSubject: subjectTemplate.describe('null or empty: the default'),
  acknowledgementBody: bodyTemplate.describe('null or empty: the default'),
  senderTicketLimit: z.number().int('must be a whole number').min(0, 'must be from 0 to 100000').max(100000, 'must be from 0 to 100000'),
  afterProcessing,
  afterProcessingFolder: text(500).nullable().describe('where `afterProcessing: move` puts messages (created when missing); must differ from `imap.folder`'),
  maxMessageBytes: z
    .number()
    .int('must be a whole number')
    .min(MIN_MAX_MESSAGE_BYTES, `must be from ${MIN_MAX_MESSAGE_BYTES} to ${MAX_MAX_MESSAGE_BYTES}`)
    .max(MAX_MAX_MESSAGE_BYTES, `must be from ${MIN_MAX_MESSAGE_BYTES} to ${MAX_MAX_MESSAGE_BYTES}`),
  closeResolvedAfterHours: z
    .number()
    .int('must be a whole number of hours')
    .min(1, `must be from 1 to ${MAX_CLOSE_RESOLVED_AFTER_HOURS} hours, or null for never`)
    .max(MAX_CLOSE_RESOLVED_AFTER_HOURS, `must be from 1 to ${MAX_CLOSE_RESOLVED_AFTER_HOURS} hours, or null for never`)
    .nullable(),
  pushSecret,
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
  acknowledge: settingFields.acknowledge.default(false),
  acknowledgementSubject: settingFields.acknowledgementSubject.optional(),
  acknowledgementBody: settingFields.acknowledgementBody.optional(),
  senderTicketLimit: settingFields.senderTicketLimit.default(DEFAULT_SENDER_TICKET_LIMIT),
  afterProcessing: settingFields.afterProcessing.default('leave'),
  afterProcessingFolder: settingFields.afterProcessingFolder.optional(),
  maxMessageBytes: settingFields.maxMessageBytes.default(DEFAULT_MAX_MESSAGE_BYTES),
  closeResolvedAfterHours: settingFields.closeResolvedAfterHours.default(DEFAULT_CLOSE_RESOLVED_AFTER_HOURS),
  pushSecret: settingFields.pushSecret.optional(),
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

/** What the watcher of a mailbox saw last, its cursor, and what is still to do (GET /mailboxes/{id}/status). */
export const mailboxStatus = z
  .object({
    mailboxId: z.number(),
    active: z.boolean(),
    connected: z.boolean().describe('the watcher holds an IMAP connection to the mailbox and was heard from in the last 150 s'),
    connectedSince: timestamp.nullable().describe('the start of the current unbroken stretch of successful rounds'),
    lastSeenAt: timestamp.nullable().describe("the watcher's last sign of life (a round, or a tick while it waits in IDLE)"),
    lastError: z.object({ message: z.string(), at: timestamp }).nullable().describe('the last error of the watcher (connection, login, folder); kept after it recovers'),
    lastMessage: z.object({ uidValidity: z.number(), uid: z.number(), readAt: timestamp }).nullable().describe('the newest message read and stored'),
    cursor: z.object({ uidValidity: z.number(), lastUid: z.number(), movedAt: timestamp }).nullable().describe('where reading stopped: messages up to `lastUid` have their e-mail workflow'),
    folder: z.object({ uidValidity: z.number(), messages: z.number(), checkedAt: timestamp }).nullable().describe('the folder as the server showed it at the last look'),
    backlog: z.object({
      onServer: z.number().nullable().describe('messages above the cursor not yet read, at the last look (null: not looked yet)'),
      unprocessed: z.number().describe('e-mails read and stored that have no outcome yet'),
      afterProcessing: z.number().describe('e-mails with an outcome whose message on the server is not yet marked or moved (`afterProcessing`)'),
    }),
  })
  .meta({ id: 'MailboxStatus' });

export type MailboxStatus = z.infer<typeof mailboxStatus>;
