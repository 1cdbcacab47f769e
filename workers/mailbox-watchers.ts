import { WorkflowIdConflictPolicy, type Client } from '@temporalio/client';
import type { Sql } from '../db/client.js';
import { listActiveMailboxIds } from '../db/mailboxes.js';
import { mailboxWorkflowId } from '../domain/workflow-ids.js';
import { MailboxId } from '../workflows/search-attributes.js';

/** Makes sure every active mailbox has its running `mailbox:<id>` workflow (idempotent). */
export async function ensureMailboxWatchers(opts: { client: Client; sql: Sql; taskQueue: string; idleSeconds: number }): Promise<number[]> {
  const ids = await listActiveMailboxIds(opts.sql);
  for (const mailboxId of ids) {
    await opts.client.workflow.start('watchMailbox', {
      workflowId: mailboxWorkflowId(mailboxId),
      taskQueue: opts.taskQueue,
      args: [{ mailboxId, idleSeconds: opts.idleSeconds }],
      workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
      typedSearchAttributes: [{ key: MailboxId, value: String(mailboxId) }],
      staticSummary: `Watches mailbox ${mailboxId} for new e-mail`,
    });
  }
  return ids;
}
