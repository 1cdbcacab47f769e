/**
 * The ceiling of bench/ingest: the product's mailbox watcher, unchanged, starting one `email:`
 * workflow per message whose body does nothing (no activity, no timer, no search attribute).
 * What the engine does per e-mail is measured against this, on the same server in the same run.
 */
import type { EmailRef } from '../contracts/workflow-ids.js';

export { watchMailbox } from '../workflows/mailbox.js';

export async function processEmail(_ref: EmailRef): Promise<void> {}
