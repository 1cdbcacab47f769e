// The workflow bundle's entry point: every workflow the worker runs.
export { processEmail } from './email.js';
export { watchMailbox } from './mailbox.js';
export { assignPool } from './assigner.js';
export { ticketLifecycle } from './ticket.js';
export { deliverAlert } from './alert-delivery.js';
export { convertPreTicket } from './triage.js';
