import { z } from 'zod';
import { enumParam, id, idParam, intParam, ref, searchParam, text, timestamp } from './common.js';

/** Where a pre-ticket stands in triage (SPEC §4.5). */
export const PRE_TICKET_STATUSES = ['pending', 'converted', 'discarded'] as const;
export type PreTicketStatus = (typeof PRE_TICKET_STATUSES)[number];

/** A point in time in a query string: ISO 8601 with its offset, within the years PostgreSQL and JavaScript agree on. */
const instantParam = z
  .string({ error: (i) => (Array.isArray(i.input) ? 'give this parameter once' : 'must be a date and time, e.g. 2026-03-02T12:00:00Z') })
  .pipe(z.iso.datetime({ offset: true, error: 'must be an ISO 8601 date and time with its offset, e.g. 2026-03-02T12:00:00Z' }))
  .transform((s) => new Date(s))
  .refine((d) => !Number.isNaN(d.getTime()) && d.getUTCFullYear() >= 1 && d.getUTCFullYear() <= 9999, 'must be a real date and time from year 1 to 9999');

/** Who did something in triage, and when. */
const triageAct = { by: z.string().describe('the login of the admin or agent'), at: timestamp };

/** An e-mail waiting in triage (or triaged): what an admin or agent needs to decide on it. */
export const preTicket = z
  .object({
    emailId: z.number().describe('the e-mail (see `GET /emails/{id}`)'),
    mailbox: ref,
    receivedAt: timestamp,
    subject: z.string().nullable(),
    fromAddress: z.string().nullable(),
    fromName: z.string().nullable(),
    excerpt: z.string().describe('the first 300 characters of the e-mail\'s text'),
    attachments: z.number().describe('how many attachments and inline images it has'),
    reason: z.string().nullable().describe('why it is a pre-ticket (the e-mail\'s outcome reason)'),
    status: z.enum(PRE_TICKET_STATUSES),
    converted: z.object({ protocol: z.string().describe('the ticket it became'), ...triageAct }).nullable(),
    discarded: z.object({ reason: z.string(), ...triageAct }).nullable(),
  })
  .meta({ id: 'PreTicket' });
export type PreTicket = z.infer<typeof preTicket>;

export const preTicketListQuery = z.strictObject({
  limit: intParam(1, 200).default(50).describe('page size, 1 to 200 (default 50)'),
  before: idParam.optional().describe('the `nextBefore` of the previous page'),
  status: enumParam(PRE_TICKET_STATUSES).default('pending').describe('pending (the default): waiting for a decision'),
  mailboxId: idParam.optional(),
  sender: searchParam.optional().describe('part of the sender\'s address or name, any case'),
  receivedFrom: instantParam.optional().describe('received at or after this instant'),
  receivedTo: instantParam.optional().describe('received before this instant'),
});
export type PreTicketListQuery = z.infer<typeof preTicketListQuery>;

export const preTicketPage = z.object({
  items: z.array(preTicket),
  nextBefore: z.number().nullable().describe('pass as `before` for the next page; null on the last page'),
});

export const preTicketPath = z.object({ emailId: idParam });

export const preTicketConversion = z
  .strictObject({
    occurrenceTypeId: id,
    occurrenceId: id.describe('an occurrence of the occurrence type'),
    solutionId: id.nullable().optional().describe('a solution of the occurrence to start; when absent, the mailbox\'s solution if it belongs to the occurrence'),
  })
  .meta({ id: 'PreTicketConversion' });
export type PreTicketConversion = z.infer<typeof preTicketConversion>;

export const preTicketDiscard = z
  .strictObject({ reason: text(1000).describe('why it needs no ticket (spam, a duplicate, a wrong address, ...)') })
  .meta({ id: 'PreTicketDiscard' });
