import { z } from 'zod';
import { EMAIL_OUTCOMES } from '../domain/email-outcome.js';
import { boolParam, enumParam, idParam, intParam, timestamp } from './common.js';
import { PRE_TICKET_STATUSES } from './pre-tickets.js';
import { attachment } from './tickets.js';

/** A received e-mail as the list shows it: where it came from and what became of it. */
export const email = z
  .object({
    id: z.number(),
    mailboxId: z.number(),
    uidValidity: z.number(),
    uid: z.number(),
    messageId: z.string().nullable(),
    size: z.number().describe('bytes of the raw message'),
    receivedAt: timestamp,
    subject: z.string().nullable(),
    fromAddress: z.string().nullable(),
    outcome: z.enum(EMAIL_OUTCOMES).nullable().describe('null while it is being processed'),
    outcomeReason: z.string().nullable(),
    protocol: z.string().nullable().describe('the ticket it opened'),
  })
  .meta({ id: 'Email' });

/** One e-mail with its headers and attachments. */
export const emailDetail = email
  .extend({
    fromName: z.string().nullable(),
    toAddresses: z.array(z.string()),
    sentAt: timestamp.nullable().describe('the Date header'),
    outcomeAt: timestamp.nullable(),
    noticedAt: timestamp
      .nullable()
      .describe("when the mailbox watcher learned of the message (the server's IMAP IDLE notification, or the round that found it); null for pushed mail and mail read before it was recorded"),
    headers: z
      .array(z.object({ name: z.string(), value: z.string() }))
      .describe('the header fields in message order, unfolded, values as written (encoded words not decoded)'),
    attachments: z.array(attachment),
    triage: z
      .object({
        status: z.enum(PRE_TICKET_STATUSES).describe('pending: waiting for a decision; converted: `protocol` is the ticket it became'),
        discardReason: z.string().nullable(),
        by: z.string().nullable().describe('the login of the admin or agent who decided'),
        at: timestamp.nullable(),
        url: z.string().describe('the pre-ticket (`GET /pre-tickets/{emailId}`)'),
      })
      .nullable()
      .describe('where a pre-ticket (outcome `pre_ticket`) stands in triage; null for any other outcome'),
    rawUrl: z.string().describe('where to download the message exactly as received'),
  })
  .meta({ id: 'EmailDetail' });

export const emailListQuery = z.strictObject({
  limit: intParam(1, 200).default(50).describe('page size, 1 to 200 (default 50)'),
  before: idParam.optional().describe('the `nextBefore` of the previous page'),
  mailboxId: idParam.optional(),
  outcome: enumParam(EMAIL_OUTCOMES).optional(),
  pending: boolParam.optional().describe('true: only e-mails still being processed (no outcome yet)'),
});

export const emailPage = z.object({ items: z.array(email), nextBefore: z.number().nullable().describe('pass as `before` for the next page; null on the last page') });

export const emailAttachmentPath = z.object({ id: idParam, attachmentId: idParam });

export type Email = z.infer<typeof email>;
export type EmailDetail = z.infer<typeof emailDetail>;
export type EmailListQuery = z.infer<typeof emailListQuery>;

/** The answer to `POST /emails/{id}/reprocess`. */
export const emailReprocessing = z
  .object({
    emailId: z.number(),
    attempt: z.number().describe('1 for the first re-processing of this e-mail, 2 for the next, ...'),
    workflowId: z.string().describe('the e-mail workflow that runs again: `email:<mailbox>:<uidvalidity>:<uid>:reprocess-<attempt>`'),
    previous: z
      .object({ outcome: z.enum(EMAIL_OUTCOMES), reason: z.string().nullable() })
      .nullable()
      .describe('the outcome it had (kept in its history); null when this repeats a request whose workflow had not started'),
  })
  .meta({ id: 'EmailReprocessing' });
