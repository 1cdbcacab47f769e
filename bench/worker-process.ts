/**
 * One worker in a process of its own, for the benchmarks (bench/sla.ts, bench/ingest.ts), as in
 * production: the process's memory and CPU are the worker's alone (the bench reads them from
 * /proc), and neither the bench's own work nor its garbage collection lands in the worker's
 * figures. Started by bench/worker-processes.ts with an IPC channel:
 *
 *   node --import tsx bench/worker-process.ts '<WorkerProcessConfig as JSON>'
 *
 * kind `product`: the product's worker (workers/create-worker.ts) on the bundle at `bundlePath`:
 * the product's, or a bench's workflows that use the product's activities (bench/ingest's
 * ceiling, bench/noop-email-workflow.ts).
 * kind `noop-ticket`: bench/sla's ceiling (bench/noop-ticket-workflow.ts) with activities that do
 * nothing but note how late they ran.
 * kind `shape`: the product's activities and the no-op steps of bench/shape-email-workflow.ts.
 * The bench builds the bundles. Sends `ready` once the worker polls; answers `stats` with what
 * it noted and its memory, and `shutdown` by draining and exiting.
 */
import { readFile } from 'node:fs/promises';
import { Context } from '@temporalio/activity';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities } from '../activities/index.js';
import { newSecretsKey, parseSecretsKey, secretBox } from '../config/secret-box.js';
import { createSql } from '../db/client.js';
import { createWorker, MAX_CACHED_WORKFLOWS } from '../workers/create-worker.js';
import { installRuntime } from '../workers/runtime.js';
import type { NoopTicketActivities } from './noop-ticket-workflow.js';
import type { ShapeActivities } from './shape-email-workflow.js';

/** Worker options the bench may set; none set = the product's worker exactly as createWorker makes it. */
export type TunedOptions = Pick<WorkerOptions, 'maxCachedWorkflows' | 'maxConcurrentWorkflowTaskExecutions' | 'maxConcurrentActivityTaskExecutions'>;

export interface WorkerProcessConfig {
  kind: 'product' | 'noop-ticket' | 'shape';
  temporalAddress: string;
  databaseUrl: string;
  taskQueue: string;
  /** The workflow bundle, built by the bench. */
  bundlePath: string;
  /** SECRETS_KEY of the API that configured the mailboxes (bench/ingest); a new one when absent. */
  secretsKey?: string;
  options?: TunedOptions;
}

/** `lateness`: with the no-op activities' lateness (large; asked once at the end). */
export type ToWorker = { type: 'stats'; lateness: boolean } | { type: 'shutdown' };
export type FromWorker =
  | { type: 'ready' }
  | { type: 'stats'; fired: number; lateMs: Record<number, number[]>; memory: NodeJS.MemoryUsage; cachedWorkflows: number };

const config = JSON.parse(process.argv[2] ?? '') as WorkerProcessConfig;
const send = (m: FromWorker) => process.send!(m);
installRuntime('WARN');

const workflowBundle = { code: await readFile(config.bundlePath, 'utf8') };
const options = config.options ?? {};
const tuned = Object.values(options).some((v) => v !== undefined);
const sql = createSql(config.databaseUrl);
const secrets = secretBox(parseSecretsKey(config.secretsKey ?? newSecretsKey()));
/** The no-op activities' lateness by threshold. */
const lateMs: Record<number, number[]> = {};
let fired = 0;
let worker: Worker;
let connection: NativeConnection;

if (config.kind === 'product' && !tuned) {
  ({ worker, connection } = await createWorker({ temporalAddress: config.temporalAddress, namespace: 'default', taskQueue: config.taskQueue, sql, secrets, workflowBundle }));
} else {
  const noopTicket: NoopTicketActivities = {
    async noopLoad() {},
    async noopFire({ percent, dueAt }) {
      (lateMs[percent] ??= []).push(Date.now() - Date.parse(dueAt));
      fired++;
    },
  };
  const shape: ShapeActivities = {
    async shapeStep() {},
    async shapeHandOver({ workflowId }) {
      const ctx = Context.current();
      await ctx.client.workflow.start('shapeTicket', { workflowId, taskQueue: ctx.info.taskQueue, args: [] });
    },
  };
  // With options under test: createWorker's worker with them added, to find which of them the product needs.
  const activities = config.kind === 'noop-ticket' ? noopTicket : { ...createActivities({ sql, secrets }), ...(config.kind === 'shape' ? shape : {}) };
  connection = await NativeConnection.connect({ address: config.temporalAddress });
  const cache = config.kind === 'shape' ? { maxCachedWorkflows: MAX_CACHED_WORKFLOWS } : {};
  worker = await Worker.create({ connection, namespace: 'default', taskQueue: config.taskQueue, workflowBundle, activities, ...cache, ...options });
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
