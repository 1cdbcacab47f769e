import { WorkflowIdConflictPolicy, WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { Sql } from '../db/client.js';
import { listActiveMailboxIds } from '../db/mailboxes.js';
import { MailboxId } from '../contracts/search-attributes.js';
import { mailboxWorkflowId } from '../contracts/workflow-ids.js';
import type { watchMailbox } from '../workflows/mailbox.js';


/**
 * The `mailbox:<id>` watcher workflows, started, restarted and stopped as the configuration
 * says (workers at start-up, the API when a mailbox changes). A restart loses and repeats
 * nothing: the cursor moves only after the e-mail workflows exist, and their ids are
 * deterministic.
 */
export interface WatcherOptions {
  client: Client;
  taskQueue: string;
  idleSeconds: number;
  mailboxId: number;
  roundsPerRun?: number;
}

/** Makes sure every active mailbox has its running `mailbox:<id>` workflow (idempotent). */
export async function ensureMailboxWatchers(opts: { client: Client; sql: Sql; taskQueue: string; idleSeconds: number }): Promise<number[]> {
  const ids = await listActiveMailboxIds(opts.sql);
  for (const mailboxId of ids) await startMailboxWatcher({ ...opts, mailboxId });
  return ids;
}

function start(opts: WatcherOptions, conflict: WorkflowIdConflictPolicy) {
  const { mailboxId, roundsPerRun } = opts;
  return opts.client.workflow.start<typeof watchMailbox>('watchMailbox', {
    workflowId: mailboxWorkflowId(mailboxId),
    taskQueue: opts.taskQueue,
    args: [{ mailboxId, idleSeconds: opts.idleSeconds, roundsPerRun }],
    workflowIdConflictPolicy: conflict,
    typedSearchAttributes: [{ key: MailboxId, value: String(mailboxId) }],
    staticSummary: `Watches mailbox ${mailboxId} for new e-mail`,
  });
}

/** Starts `mailbox:<id>`, or leaves the running one alone. */
export async function startMailboxWatcher(opts: WatcherOptions) {
  return start(opts, WorkflowIdConflictPolicy.USE_EXISTING);
}

/**
 * Replaces the running `mailbox:<id>` with a new run (its IMAP settings changed), in one
 * step: the server terminates the old run as it starts the new one.
 */
export async function restartMailboxWatcher(opts: WatcherOptions) {
  return start(opts, WorkflowIdConflictPolicy.TERMINATE_EXISTING);
}

/** Terminates `mailbox:<id>` with the reason the Temporal UI shows; true if one was running. */
export async function stopMailboxWatcher(opts: { client: Client; mailboxId: number; reason: string }): Promise<boolean> {
  try {
    await opts.client.workflow.getHandle(mailboxWorkflowId(opts.mailboxId)).terminate(opts.reason);
    return true;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return false;
    throw err;
  }
}
