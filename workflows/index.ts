// The workflow bundle's entry point: every workflow the worker runs.
export { processEmail } from './email.js';
export { watchMailbox } from './mailbox.js';
export { assignPool } from './assigner.js';
