/**
 * The floor of the engine's shape, for bench/ingest: what Temporal and the SDK cost for an
 * e-mail workflow with the engine's steps, with no work in any of them. The product's mailbox
 * watcher, unchanged, starts one `processEmail` per message; it runs the engine's local steps in
 * the engine's order (two pairs of them together, as the engine runs them), each one a no-op,
 * the last one starting a ticket-shaped workflow that runs one no-op step (its load) and waits
 * on a timer, as a ticket's waits on its SLA; then it upserts the engine's search attributes.
 * Between the ceiling (a workflow that does nothing) and the engine, this says how much of the
 * distance is the shape itself and how much the engine's work.
 */
import { condition, patched, proxyLocalActivities, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import { CustomerEmail, EmailOutcome, Protocol, TicketStatus } from '../contracts/search-attributes.js';
import type { EmailRef } from '../contracts/workflow-ids.js';

export { watchMailbox } from '../workflows/mailbox.js';

export interface ShapeActivities {
  shapeStep(): Promise<void>;
  /** Starts `shapeTicket` under the given id, as `handOverTicket` starts the ticket's workflow. */
  shapeHandOver(input: { workflowId: string }): Promise<void>;
}

const step = proxyLocalActivities<ShapeActivities>({ startToCloseTimeout: '1 minute' });

export async function processEmail(_ref: EmailRef): Promise<void> {
  patched('shape-of-the-engine');
  await step.shapeStep(); // receiveEmail
  await Promise.all([step.shapeStep(), step.shapeStep()]); // classifyEmail beside parseEmail
  await step.shapeStep(); // threadEmail
  await step.shapeStep(); // resolveCustomer
  await step.shapeStep(); // openTicketFromEmail
  await Promise.all([step.shapeStep(), step.shapeStep()]); // startSolution beside assignTicket
  await step.shapeHandOver({ workflowId: `shape-ticket:${workflowInfo().workflowId}` }); // handOverTicket
  upsertSearchAttributes([
    { key: CustomerEmail, value: 'customer@bench.example' },
    { key: Protocol, value: '2026000000' },
    { key: EmailOutcome, value: 'ticket_created' },
  ]);
}

export async function shapeTicket(): Promise<void> {
  patched('shape-of-the-ticket');
  await step.shapeStep(); // loadTicket
  upsertSearchAttributes([
    { key: Protocol, value: '2026000000' },
    { key: TicketStatus, value: 'new' },
  ]);
  await condition(() => false, '1 day'); // its SLA
}
