import { z } from 'zod';
import { SLA_STATES, TICKET_STATUSES } from '../domain/ticket-status.js';
import { id, idParam, intParam, longText, page, ref, timestamp } from './common.js';
import { protocolPath } from './tickets.js';

/**
 * What the API sends to a ticket's workflow (SPEC §7, §8): each body is one action, with an
 * optional note the timeline keeps. Unknown fields are refused, so a typo is a 400 naming it.
 */

const note = longText(2000).optional().describe('why, for the timeline (at most 2,000 characters)');

export const statusChange = z.strictObject({
  status: z.enum(TICKET_STATUSES, { error: (i) => (i.input === undefined ? 'is required' : `must be one of: ${TICKET_STATUSES.join(', ')}`) }).describe(
    '`resolved` (resolve), `closed` (close a resolved ticket), `cancelled` (cancel), `waiting_customer` (wait for the customer: the SLA clock pauses), `open` (reopen, or stop waiting)',
  ),
  note,
});

export const reassignment = z.strictObject({ userId: id.describe('the new assignee: an active user'), note });

export const reclassification = z
  .strictObject({
    occurrenceId: id.optional().describe('the new occurrence (its SLA applies from now on)'),
    sectorId: id.optional().describe('the new sector (its calendar counts the SLA)'),
    note,
  })
  .refine((b) => b.occurrenceId !== undefined || b.sectorId !== undefined, { message: 'give occurrenceId, sectorId or both' });

export const stepCompletion = z.strictObject({ note });
export const flowSwitch = z.strictObject({ note });
export const stepMove = z.strictObject({ sectorId: id.describe('the sector the step moves to'), note });

export const stepPath = protocolPath.extend({ stepId: idParam });

export const activeStepQuery = z.strictObject({
  sectorId: idParam.optional().describe('only this sector\'s steps (BackOffice: one of your sectors)'),
  limit: intParam(1, 200).default(50).describe('page size, 1 to 200 (default 50)'),
  after: idParam.optional().describe('the `nextAfter` of the previous page'),
});

/** An active step as BackOffice's queue shows it. */
export const activeStep = z
  .object({
    id: z.number().describe('the step\'s id, for /tickets/{protocol}/steps/{stepId}/...'),
    ticket: z.object({ protocol: z.string(), subject: z.string(), status: z.enum(TICKET_STATUSES) }),
    position: z.number().describe('its place among the ticket\'s steps, from 1'),
    flow: z.enum(['main', 'alternative']),
    name: z.string(),
    sector: ref,
    activatedAt: timestamp.describe('when it became the active step (the queue\'s order)'),
    sla: z.object({ dueAt: timestamp.nullable(), state: z.enum(SLA_STATES) }).nullable().describe('the step\'s own SLA; null when the step has none'),
  })
  .meta({ id: 'ActiveStep' });

export const activeStepPage = page(activeStep);

export type StatusChangeBody = z.infer<typeof statusChange>;
export type ActiveStepQuery = z.infer<typeof activeStepQuery>;
export type ActiveStep = z.infer<typeof activeStep>;
