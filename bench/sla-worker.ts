/**
 * One worker in a process of its own, for bench/sla.ts, so that the process's memory is the
 * worker's alone (the bench reads its RSS from /proc). Started by the bench with an IPC channel:
 *
 *   node --import tsx bench/sla-worker.ts '<SlaWorkerConfig as JSON>'
 *
 * kind `ticket`: the product's worker (workers/create-worker.ts) on the product's bundle.
 * kind `noop`: the ceiling's workflow (bench/noop-ticket-workflow.ts) with activities that do
 * nothing but note how late they ran. The bench builds both bundles into `bundlePath`.
 * Sends `ready` once the worker polls; answers `stats` with what it noted and its memory, and
 * `shutdown` by draining and exiting.
 */
import { readFile } from 'node:fs/promises';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities } from '../activities/index.js';
import { newSecretsKey, parseSecretsKey, secretBox } from '../config/secret-box.js';
import { createSql } from '../db/client.js';
import { createWorker } from '../workers/create-worker.js';
import { installRuntime } from '../workers/runtime.js';
import type { NoopTicketActivities } from './noop-ticket-workflow.js';

/** Worker options the bench may set; none set = the product's worker exactly as createWorker makes it. */
export type TunedOptions = Pick<WorkerOptions, 'maxCachedWorkflows' | 'maxConcurrentWorkflowTaskExecutions' | 'maxConcurrentActivityTaskExecutions'>;

export interface SlaWorkerConfig {
  kind: 'ticket' | 'noop';
  temporalAddress: string;
  databaseUrl: string;
  taskQueue: string;
  /** The workflow bundle, built by the bench: the product's (kind `ticket`) or the no-op workflow's. */
  bundlePath: string;
  options: TunedOptions;
}

/** `lateness`: with the no-op activities' lateness (large; asked once at the end). */
export type ToWorker = { type: 'stats'; lateness: boolean } | { type: 'shutdown' };
export type FromWorker =
  | { type: 'ready' }
  | { type: 'stats'; fired: number; lateMs: Record<number, number[]>; memory: NodeJS.MemoryUsage; cachedWorkflows: number };

const config = JSON.parse(process.argv[2] ?? '') as SlaWorkerConfig;
const send = (m: FromWorker) => process.send!(m);
installRuntime('WARN');

const workflowBundle = { code: await readFile(config.bundlePath, 'utf8') };
const tuned = Object.values(config.options).some((v) => v !== undefined);
const sql = createSql(config.databaseUrl);
/** The no-op activities' lateness by threshold. */
const lateMs: Record<number, number[]> = {};
let fired = 0;
let worker: Worker;
let connection: NativeConnection;

if (config.kind === 'noop') {
  const activities: NoopTicketActivities = {
    async noopLoad() {},
    async noopFire({ percent, dueAt }) {
      (lateMs[percent] ??= []).push(Date.now() - Date.parse(dueAt));
      fired++;
    },
  };
  connection = await NativeConnection.connect({ address: config.temporalAddress });
  worker = await Worker.create({ connection, namespace: 'default', taskQueue: config.taskQueue, workflowBundle, activities, ...config.options });
} else {
  const secrets = secretBox(parseSecretsKey(newSecretsKey()));
  if (!tuned) {
    ({ worker, connection } = await createWorker({ temporalAddress: config.temporalAddress, namespace: 'default', taskQueue: config.taskQueue, sql, secrets, workflowBundle }));
  } else {
    // createWorker's worker with the options under test added, to find which of them the product needs.
    connection = await NativeConnection.connect({ address: config.temporalAddress });
    worker = await Worker.create({ connection, namespace: 'default', taskQueue: config.taskQueue, workflowBundle, activities: createActivities({ sql, secrets }), ...config.options });
  }
}

process.on('message', (m: ToWorker) => {
  if (m.type === 'stats') {
    send({ type: 'stats', fired, lateMs: m.lateness ? lateMs : {}, memory: process.memoryUsage(), cachedWorkflows: worker.getStatus().numCachedWorkflows });
  } else if (m.type === 'shutdown') {
    worker.shutdown();
  }
});

const running = worker.run();
send({ type: 'ready' });
await running;
await connection.close();
await sql.end({ timeout: 5 });
process.disconnect();
