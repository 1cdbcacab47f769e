import { NativeConnection, Worker } from '@temporalio/worker';
import { createActivities, type AlertSettings } from '../activities/index.js';
import type { SecretBox } from '../config/secret-box.js';
import type { Sql } from '../db/client.js';

export interface WorkerDeps {
  temporalAddress: string;
  namespace: string;
  taskQueue: string;
  sql: Sql;
  /** Opens the mailboxes' IMAP secrets (SECRETS_KEY). */
  secrets: SecretBox;
  /** Where alert e-mails go (SMTP_URL); without it, alerts are recorded and sent by webhook only. */
  alerts?: AlertSettings;
  workflowBundle: { code: string };
  /** Workflows kept in memory between their tasks (WORKER_MAX_CACHED_WORKFLOWS). */
  maxCachedWorkflows?: number;
}

/**
 * Every open ticket has a workflow waiting on its timers; a cached one costs about 0.55 MiB of
 * the worker's memory (bench/sla: 837 MiB with 1,000 cached, 274 idle), and the SDK's default
 * cache (a share of the heap, about 2,400 here) took the worker past 1 GiB. One that is not
 * cached replays its short history when its timer fires; with thousands of open tickets most
 * firings replay whatever the cache, so a smaller one costs little and keeps the worker, peaks
 * included, well under 1 GiB.
 */
export const MAX_CACHED_WORKFLOWS = 750;

/** One worker runs every workflow and activity of the product; scale by running more. */
export async function createWorker(deps: WorkerDeps): Promise<{ worker: Worker; connection: NativeConnection }> {
  const connection = await NativeConnection.connect({ address: deps.temporalAddress });
  const worker = await Worker.create({
    connection,
    namespace: deps.namespace,
    taskQueue: deps.taskQueue,
    workflowBundle: deps.workflowBundle,
    maxCachedWorkflows: deps.maxCachedWorkflows ?? MAX_CACHED_WORKFLOWS,
    activities: createActivities({ sql: deps.sql, secrets: deps.secrets, alerts: deps.alerts }),
  });
  return { worker, connection };
}
