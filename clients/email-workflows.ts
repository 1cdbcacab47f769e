import { WorkflowExecutionAlreadyStartedError, WorkflowIdConflictPolicy, WorkflowIdReusePolicy, type Client } from '@temporalio/client';
import { MailboxId } from '../contracts/search-attributes.js';
import { emailWorkflowId, type EmailRef } from '../contracts/workflow-ids.js';
import type { processEmail } from '../workflows/email.js';

/**
 * Starts the life of one stored e-mail (`processEmail`) from outside the mailbox watcher: mail
 * pushed over HTTP, and a quarantined e-mail sent through its workflow again. Idempotent: a
 * workflow already running under the id is left to run, one that ran already is not run again.
 */
export async function startEmailWorkflow(opts: { client: Client; taskQueue: string; ref: EmailRef; workflowId?: string; summary: string }): Promise<string> {
  const workflowId = opts.workflowId ?? emailWorkflowId(opts.ref);
  try {
    await opts.client.workflow.start<typeof processEmail>('processEmail', {
      workflowId,
      taskQueue: opts.taskQueue,
      args: [opts.ref],
      workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
      workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
      typedSearchAttributes: [{ key: MailboxId, value: String(opts.ref.mailboxId) }],
      staticSummary: opts.summary,
    });
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
  }
  return workflowId;
}

/** The id of the n-th re-processing of an e-mail: its own id with `:reprocess-<n>`. */
export function reprocessWorkflowId(ref: EmailRef, attempt: number): string {
  return `${emailWorkflowId(ref)}:reprocess-${attempt}`;
}
