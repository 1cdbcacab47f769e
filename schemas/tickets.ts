import { z } from 'zod';
import { PROTOCOL_PATTERN } from '../domain/protocol.js';
import { SLA_STATES, STEP_STATUSES, TICKET_CHANNELS, TICKET_STATUSES } from '../domain/ticket-status.js';
import { enumParam, id, idParam, intParam, ref, timestamp } from './common.js';

/**
 * An id filter, the same in a query string (`?occurrenceId=12`, read strictly as decimal
 * digits) and in a JSON body (a saved filter's `{ "occurrenceId": 12 }`): one schema for the
 * list's query and for saved filters, so a saved filter is exactly a set of list filters.
 */
const idFilter = z.union([id, idParam], {
  error: (i) => (Array.isArray(i.input) ? 'give this parameter once' : 'must be a positive whole number (an id), e.g. 42'),
});

/** The ticket list's filters (SPEC §8); every one optional, all given ones must match. */
export const ticketFilters = z.object({
  mailboxId: idFilter.optional().describe('the mailbox the ticket came from'),
  channel: enumParam(TICKET_CHANNELS).optional(),
  occurrenceTypeId: idFilter.optional(),
  occurrenceId: idFilter.optional(),
  creatorUserId: idFilter.optional().describe('the creator user'),
  assigneeUserId: idFilter.optional().describe('the assignee'),
  status: enumParam(TICKET_STATUSES).optional(),
  sectorId: idFilter.optional(),
  slaState: enumParam(SLA_STATES).optional(),
});

/** The same filters as a saved filter's body holds them: unknown fields refused. */
export const savedTicketFilters = z.strictObject(ticketFilters.shape);

/**
 * The filters as a saved filter shows them: as stored (ids as numbers, other values as text),
 * an output schema without the input's transforms, so a filter saved before a value was
 * renamed is still listed (and refused, naming it, when applied to the list).
 */
export const shownTicketFilters = z
  .object(Object.fromEntries(Object.keys(ticketFilters.shape).map((k) => [k, (k.endsWith('Id') ? z.number() : z.string()).optional()])) as {
    [K in keyof typeof ticketFilters.shape]: z.ZodOptional<K extends `${string}Id` ? z.ZodNumber : z.ZodString>;
  })
  .meta({ id: 'TicketFilters' });

export const ticketListQuery = z.strictObject({
  ...ticketFilters.shape,
  limit: intParam(1, 200).default(50).describe('page size, 1 to 200 (default 50)'),
  before: idParam.optional().describe('the `nextBefore` of the previous page'),
  filterId: idParam.optional().describe('apply this saved ticket filter (see /ticket-filters); the other parameters given override its values'),
});

const customer = z.object({ id: z.number(), code: z.string().nullable(), name: z.string(), email: z.string().nullable() });

/** A ticket as the list shows it: what it is about and who has it, without its messages and history. */
export const ticket = z
  .object({
    protocol: z.string().describe('the ticket\'s number, unique and immutable'),
    status: z.enum(TICKET_STATUSES),
    subject: z.string(),
    channel: z.enum(TICKET_CHANNELS),
    customer,
    mailbox: ref.nullable(),
    creator: ref.nullable().describe('the creator user'),
    occurrenceType: ref.nullable(),
    occurrence: ref.nullable(),
    sector: ref.nullable(),
    assignee: ref.nullable().describe('the user working the ticket; null = not assigned'),
    sla: z.object({ dueAt: timestamp.nullable(), state: z.enum(SLA_STATES) }),
    createdAt: timestamp,
    updatedAt: timestamp,
  })
  .meta({ id: 'Ticket' });

export const ticketMessage = z
  .object({
    id: z.number().describe('the e-mail\'s id (see /emails/{id})'),
    from: z.object({ address: z.string().nullable(), name: z.string().nullable() }),
    to: z.array(z.string()),
    subject: z.string().nullable(),
    sentAt: timestamp.nullable().describe('the Date header'),
    receivedAt: timestamp,
    text: z.string().nullable().describe('the text body (derived from the HTML part when there is no text part)'),
  })
  .meta({ id: 'TicketMessage' });

export const attachment = z
  .object({
    id: z.number(),
    emailId: z.number(),
    filename: z.string().nullable(),
    contentType: z.string(),
    size: z.number().describe('bytes'),
    sha256: z.string(),
    inline: z.boolean().describe('shown in the body (e.g. an embedded image) rather than attached'),
    url: z.string().describe('where to download its bytes'),
  })
  .meta({ id: 'Attachment' });

/** A step of a ticket's solution (SPEC §7). */
export const ticketStep = z
  .object({
    id: z.number().describe('the step\'s id in actions (/tickets/{protocol}/steps/{stepId}/...)'),
    position: z.number().describe('its place among the ticket\'s steps, from 1 (an alternative flow\'s steps follow the main flow\'s)'),
    flow: z.enum(['main', 'alternative']),
    name: z.string(),
    sector: ref.describe('the sector whose BackOffice staff work it'),
    status: z.enum(STEP_STATUSES).describe('`active` (the one to work now), `pending`, `completed` or `cancelled`'),
    sla: z.object({ dueAt: timestamp.nullable().describe('null while the ticket waits for the customer'), state: z.enum(SLA_STATES) }).nullable().describe('the step\'s own SLA; null when it has none'),
    activatedAt: timestamp.nullable(),
    finishedAt: timestamp.nullable(),
    finishedBy: z.string().nullable().describe('`user:<login>` or `system:<part>`'),
    note: z.string().nullable().describe('the note given when it was completed'),
  })
  .meta({ id: 'TicketStep' });

/** One ticket with everything that happened to it. */
export const ticketDetail = ticket
  .extend({
    description: z.string(),
    followsUp: z.string().nullable().describe('the protocol of the closed or cancelled ticket this one follows up (a reply to it opened this one, SPEC §4.4)'),
    followedUpBy: z.array(z.string()).describe('the protocols of the tickets opened by replies after this one was closed or cancelled'),
    messages: z.array(ticketMessage).describe('the original e-mail and the replies appended to it, oldest first'),
    attachments: z.array(attachment),
    steps: z.array(ticketStep).describe('the solution\'s steps in the order they run, and where each stands (empty when the ticket runs no solution)'),
    alerts: z
      .array(
        z.object({
          id: z.number(),
          kind: z.enum(['sla', 'step_sla', 'pool_empty']).describe('the ticket\'s SLA, a step\'s SLA, or nobody in the pool could take it'),
          threshold: z.number().nullable().describe('percent of the SLA'),
          stepId: z.number().nullable(),
          dueAt: timestamp.describe('when it was due: it never fires before'),
          firedAt: timestamp,
          recipients: z.array(z.string()).describe('the e-mail addresses it went to'),
          deliveries: z
            .array(z.object({ channel: z.enum(['email', 'webhook']), status: z.enum(['pending', 'delivered', 'failed']), attempts: z.number(), lastError: z.string().nullable(), deliveredAt: timestamp.nullable() }))
            .describe('each channel: `pending` while it is retried with backoff, `delivered`, or `failed` once given up'),
        }),
      )
      .describe('every SLA alert that fired for this ticket, oldest first'),
    timeline: z
      .array(z.object({ kind: z.string(), actor: z.string().describe('`system:<part>` or `user:<login>`'), at: timestamp, data: z.record(z.string(), z.unknown()) }))
      .describe('every event, oldest first'),
  })
  .meta({ id: 'TicketDetail' });

export const ticketPage = z.object({ items: z.array(ticket), nextBefore: z.number().nullable().describe('pass as `before` for the next page; null on the last page') });

export const protocolPath = z.object({ protocol: z.string().regex(PROTOCOL_PATTERN, 'a protocol is 10 to 20 digits, e.g. 2026000001') });
export const attachmentPath = protocolPath.extend({ id: idParam });

export type TicketFilters = z.infer<typeof ticketFilters>;
export type TicketListQuery = z.infer<typeof ticketListQuery>;
export type Ticket = z.infer<typeof ticket>;
export type TicketDetail = z.infer<typeof ticketDetail>;
