import { WorkflowIdConflictPolicy, type Client } from '@temporalio/client';
import type { Sql } from '../db/client.js';
import { listActiveMailboxIds } from '../db/mailboxes.js';
import { mailboxWorkflowId } from '../domain/workflow-ids.js';
import type { watchMailbox } from '../workflows/mailbox.js';
import { MailboxId } from '../workflows/search-attributes.js';

/** Makes sure every active mailbox has its running `mailbox:<id>` workflow (idempotent). */
export async function ensureMailboxWatchers(opts: { client: Client; sql: Sql; taskQueue: string; idleSeconds: number }): Promise<number[]> {
  const ids = await listActiveMailboxIds(opts.sql);
  for (const mailboxId of ids) await startMailboxWatcher({ ...opts, mailboxId });
  return ids;
}

/** Starts `mailbox:<id>`, or leaves the running one alone. */
export async function startMailboxWatcher(opts: { client: Client; taskQueue: string; idleSeconds: number; mailboxId: number; roundsPerRun?: number }) {
  const { mailboxId, roundsPerRun } = opts;
  return opts.client.workflow.start<typeof watchMailbox>('watchMailbox', {
    workflowId: mailboxWorkflowId(mailboxId),
    taskQueue: opts.taskQueue,
    args: [{ mailboxId, idleSeconds: opts.idleSeconds, roundsPerRun }],
    workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
    typedSearchAttributes: [{ key: MailboxId, value: String(mailboxId) }],
    staticSummary: `Watches mailbox ${mailboxId} for new e-mail`,
  });
}
