/**
 * The assignment workflow (SPEC §5, workflows/assigner.ts) under a burst, on real parts: a
 * Temporal dev server (in memory), embedded PostgreSQL and the product's worker.
 *
 *   npx tsx bench/assign.ts [--tickets 1000] [--agents 50] [--rounds 3] [--naive]
 *
 * Creates with SQL, in its own database, `--agents` agents in one solution group, a customer and
 * `--tickets` unassigned tickets, then asks for all the assignments at once (requestAssignment,
 * update-with-start, every call made together; it lets 10 at a time reach the server) and prints:
 *  - assignments/s, first request sent → last answer received;
 *  - request → answer latency p50/p99;
 *  - when the workflow had written every decision, and the pool's max − min open tickets as
 *    the database has them then;
 *  - the engine's ceiling on the same server, in the same process: the same number of
 *    concurrent update-with-start calls into a no-op entity workflow of the same shape
 *    (bench/noop-entity-workflow.ts, its own bundle, its own worker and task queue), and the
 *    ratio of the two;
 *  - the workflow tasks each of the two went through, from their histories.
 * Both are warmed up first (a small burst into another pool and another no-op workflow).
 * The pair is measured `--rounds` times (new tickets into the same pool, a new no-op workflow),
 * then the medians: one burst lasts a few seconds, and on two cores one run varies by ±30 %.
 *
 * The server admits 10 updates in flight per workflow execution (history.maxInFlightUpdates);
 * requestAssignment keeps its process within that (clients/assigner.ts withUpdateSlot), and the
 * no-op burst goes through the same admission, so the ceiling is the engine's pace with its
 * admission full. `--naive` also fires the no-op burst all at once, without admission, and
 * prints what that does (refusals, the SDK's retries after 1 s and more; about a minute).
 */
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Client, Connection, WithStartWorkflowOperation } from '@temporalio/client';
import { bundleWorkflowCode, Worker } from '@temporalio/worker';
import { MAX_IN_FLIGHT_UPDATES, requestAssignment, withUpdateSlot } from '../clients/assigner.js';
import { newSecretsKey, parseSecretsKey, secretBox } from '../config/secret-box.js';
import type { AssignRequest } from '../contracts/assignment.js';
import { assignerWorkflowId } from '../contracts/workflow-ids.js';
import { createSql, type Sql } from '../db/client.js';
import { migrate } from '../db/migrate.js';
import { poolKey, type PoolRef } from '../domain/distribution.js';
import { startEmbeddedPostgres } from '../stack/embedded-postgres.js';
import { freePort } from '../stack/free-port.js';
import { ensureTemporalCli } from '../stack/temporal-cli.js';
import { startDevServer } from '../stack/temporal-dev-server.js';
import { createWorker } from '../workers/create-worker.js';
import { loadWorkflowBundle } from '../workers/workflow-bundle.js';
import { noopUpdate } from './noop-entity-workflow.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const { values } = parseArgs({
  options: {
    tickets: { type: 'string', default: '1000' },
    agents: { type: 'string', default: '50' },
    rounds: { type: 'string', default: '3' },
    naive: { type: 'boolean', default: false },
  },
});
const TICKETS = Number(values.tickets);
const AGENTS = Number(values.agents);
const ROUNDS = Number(values.rounds);
const WARMUP = 50;
const TASK_QUEUE = 'bench-assign';
const NOOP_TASK_QUEUE = 'bench-noop';

const quantile = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))]!;
const ms = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e6;
const log = (m: string) => console.log(m);

const pgDir = await mkdtemp(join(tmpdir(), 'mailtrack-bench-assign-'));
await chmod(pgDir, 0o755);
const cli = await ensureTemporalCli({ projectRoot: ROOT, explicitPath: process.env.TEMPORAL_CLI_PATH || undefined });
const [temporal, db] = await Promise.all([
  freePort().then((port) => startDevServer({ cli, port })),
  freePort().then((port) => startEmbeddedPostgres({ dir: join(pgDir, 'data'), port, database: 'bench' })),
]);
await migrate(db.url);
const sql = createSql(db.url, { max: 20 });

/** `agents` agents in a new solution group; returns the pool and its members' ids. */
async function createPool(name: string, agents: number): Promise<{ ref: PoolRef; userIds: number[] }> {
  return sql.begin(async (tx) => {
    const users = await tx<{ id: number }[]>`
      INSERT INTO app_user (login, name, email, role)
      SELECT ${name} || '-agent' || g, ${name} || ' agent ' || g, ${name} || '-agent' || g || '@bench.example', 'agent'
        FROM generate_series(1, ${agents}::int) g
      RETURNING id`;
    const [group] = await tx<{ id: number }[]>`INSERT INTO solution_group (name) VALUES (${name}) RETURNING id`;
    await tx`INSERT INTO solution_group_member (solution_group_id, user_id) SELECT ${group!.id}, unnest(${users.map((u) => u.id)}::bigint[])`;
    return { ref: { kind: 'group', id: group!.id } as PoolRef, userIds: users.map((u) => u.id) };
  });
}

const [customer] = await sql<{ id: number }[]>`INSERT INTO customer (name) VALUES ('Bench customer') RETURNING id`;

/** `n` new unassigned tickets, oldest first. */
async function createTickets(n: number): Promise<AssignRequest[]> {
  const rows = await sql<{ id: number; protocol: string }[]>`
    INSERT INTO ticket (protocol, subject, description, customer_id, channel)
    SELECT '2000' || lpad(nextval('protocol_sequence')::text, 8, '0'), 'Bench ' || g, '-', ${customer!.id}, 'api'
      FROM generate_series(1, ${n}::int) g
    RETURNING id, protocol`;
  return rows.map((r) => ({ ticketId: r.id, protocol: r.protocol }));
}

async function openTickets(db: Sql, userIds: number[]): Promise<number[]> {
  const rows = await db<{ n: number }[]>`
    SELECT (SELECT count(*)::int FROM ticket t WHERE t.assignee_user_id = u.id AND t.status IN ('open', 'waiting_customer')) AS n
      FROM app_user u WHERE u.id IN ${db(userIds)}`;
  return rows.map((r) => r.n);
}

const secrets = secretBox(parseSecretsKey(newSecretsKey()));
const bundle = await loadWorkflowBundle(resolve(ROOT, '.cache'));
const noopBundle = await bundleWorkflowCode({
  workflowsPath: fileURLToPath(new URL('./noop-entity-workflow.ts', import.meta.url)),
  logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error: (m: string) => console.error(m) },
});
const { worker, connection: workerConnection } = await createWorker({ temporalAddress: temporal.address, namespace: 'default', taskQueue: TASK_QUEUE, sql, secrets, workflowBundle: bundle });
const noopWorker = await Worker.create({ connection: workerConnection, namespace: 'default', taskQueue: NOOP_TASK_QUEUE, workflowBundle: noopBundle });
const running = Promise.all([worker.run(), noopWorker.run()]);
const connection = await Connection.connect({ address: temporal.address });
const client = new Client({ connection });

interface Burst {
  totalMs: number;
  latencies: number[];
}

/** Sends every request at once; each latency is from the moment the burst began. */
async function burst<T>(requests: T[], send: (r: T) => Promise<unknown>): Promise<Burst> {
  const t0 = process.hrtime.bigint();
  const latencies = await Promise.all(
    requests.map(async (r) => {
      await send(r);
      return ms(t0);
    }),
  );
  return { totalMs: ms(t0), latencies };
}

const assign = (pool: PoolRef) => (request: AssignRequest) => requestAssignment({ client, taskQueue: TASK_QUEUE, pool, request });

let noopRuns = 0;
const noopId = () => `noop-entity-${noopRuns}`;
/** Through the same per-workflow admission as requestAssignment, unless `naive`. */
const noop = (naive = false) => {
  const workflowId = `noop-entity-${++noopRuns}`;
  const send = (request: AssignRequest) =>
    client.workflow.executeUpdateWithStart(noopUpdate, {
      args: [request],
      updateId: `noop-ticket-${request.ticketId}`,
      startWorkflowOperation: new WithStartWorkflowOperation('noopEntity', {
        workflowId,
        taskQueue: NOOP_TASK_QUEUE,
        args: [{}],
        workflowIdConflictPolicy: 'USE_EXISTING',
      }),
    });
  return naive ? send : (request: AssignRequest) => withUpdateSlot(workflowId, () => send(request));
};

type HistoryPage = Awaited<ReturnType<Client['workflowService']['getWorkflowExecutionHistory']>>;

/**
 * Workflow tasks and updates in every run of `workflowId` so far (following continue-as-new
 * back from the current run): how many workflow tasks the server and the worker went through.
 */
async function taskStats(workflowId: string): Promise<{ workflowTasks: number; updates: number; runs: number }> {
  const stats = { workflowTasks: 0, updates: 0, runs: 0 };
  let runId = '';
  for (;;) {
    let continuedFrom = '';
    let nextPageToken: Uint8Array | undefined;
    do {
      // Small pages: a page of a thousand events with the answers in it passes gRPC's 4 MB.
      const page: HistoryPage = await client.workflowService.getWorkflowExecutionHistory({
        namespace: 'default',
        execution: { workflowId, runId },
        maximumPageSize: 100,
        nextPageToken,
      });
      for (const e of page.history?.events ?? []) {
        if (e.workflowExecutionStartedEventAttributes) continuedFrom = e.workflowExecutionStartedEventAttributes.continuedExecutionRunId ?? '';
        if (e.workflowTaskCompletedEventAttributes) stats.workflowTasks++;
        if (e.workflowExecutionUpdateCompletedEventAttributes) stats.updates++;
      }
      nextPageToken = page.nextPageToken?.length ? page.nextPageToken : undefined;
    } while (nextPageToken);
    stats.runs++;
    if (!continuedFrom) return stats;
    runId = continuedFrom;
  }
}

/** Polls until every ticket of `ids` has an assignee; the time it took. */
async function written(ids: number[]): Promise<number> {
  const t0 = process.hrtime.bigint();
  for (;;) {
    const [row] = await sql<{ n: number }[]>`SELECT count(*)::int AS n FROM ticket WHERE id IN ${sql(ids)} AND assignee_user_id IS NOT NULL`;
    if (row!.n === ids.length) return ms(t0);
    await new Promise((r) => setTimeout(r, 10));
  }
}

// Warm-up: the worker's first workflow tasks, the first update-with-start of each kind.
const warmPool = await createPool('Warm-up pool', 5);
await burst(await createTickets(WARMUP), assign(warmPool.ref));
await burst(Array.from({ length: WARMUP }, (_, i) => ({ ticketId: i + 1, protocol: 'warm-up' })), noop());

const pool = await createPool('Bench pool', AGENTS);
const cpu = cpus();
log(`machine: ${cpu[0]?.model ?? 'unknown CPU'}, ${cpu.length} cores, Node ${process.versions.node}; Temporal dev server (in memory), embedded PostgreSQL, one worker`);
log(`burst: ${TICKETS} tickets requested at once into one pool of ${AGENTS} agents (all with 0 open tickets)`);
const fmt = (n: number) => n.toFixed(0);
const assignerId = assignerWorkflowId(poolKey(pool.ref));
let before = { workflowTasks: 0, updates: 0, runs: 0 };
const rounds: { rate: number; p50: number; p99: number; spread: number; ceiling: number }[] = [];
for (let round = 1; round <= ROUNDS; round++) {
  const requests = await createTickets(TICKETS);
  const a = await burst(requests, assign(pool.ref));
  const writtenAfter = await written(requests.map((r) => r.ticketId));
  const loads = await openTickets(sql, pool.userIds);
  const after = await taskStats(assignerId);
  const n = await burst(requests, noop());
  const noopStats = await taskStats(noopId());
  const rate = (TICKETS * 1000) / a.totalMs;
  const ceiling = (TICKETS * 1000) / n.totalMs;
  if (ROUNDS > 1) log(`round ${round}:`);
  log(`  assignments: ${fmt(rate)}/s (${TICKETS} in ${fmt(a.totalMs)} ms, first request sent → last answer received)`);
  log(`  request → answer latency: p50 ${fmt(quantile(a.latencies, 0.5))} ms, p99 ${fmt(quantile(a.latencies, 0.99))} ms`);
  log(`  database: every decision written ${fmt(writtenAfter)} ms after the last answer; open tickets per agent min ${Math.min(...loads)}, max ${Math.max(...loads)}, max − min ${Math.max(...loads) - Math.min(...loads)}`);
  log(`  ceiling (no-op entity workflow, ${TICKETS} concurrent update-with-start): ${fmt(ceiling)} updates/s (${fmt(n.totalMs)} ms; p50 ${fmt(quantile(n.latencies, 0.5))} ms, p99 ${fmt(quantile(n.latencies, 0.99))} ms)`);
  log(`  ratio: ${((100 * rate) / ceiling).toFixed(0)} % of the ceiling`);
  const wft = (x: { workflowTasks: number; updates: number }) => `${x.workflowTasks} workflow tasks for ${x.updates} updates (${(x.updates / x.workflowTasks).toFixed(1)} updates a task)`;
  log(`  assigner: ${wft({ workflowTasks: after.workflowTasks - before.workflowTasks, updates: after.updates - before.updates })}; no-op: ${wft(noopStats)}`);
  before = after;
  const spread = Math.max(...loads) - Math.min(...loads);
  rounds.push({ rate, p50: quantile(a.latencies, 0.5), p99: quantile(a.latencies, 0.99), spread, ceiling });
}
if (ROUNDS > 1) {
  const median = (k: 'rate' | 'p50' | 'p99' | 'ceiling') => quantile(rounds.map((r) => r[k]), 0.5);
  const ratios = rounds.map((r) => (100 * r.rate) / r.ceiling);
  log(`medians of ${ROUNDS} rounds: ${fmt(median('rate'))} assignments/s, p50 ${fmt(median('p50'))} ms, p99 ${fmt(median('p99'))} ms; ceiling ${fmt(median('ceiling'))} updates/s; ratio ${fmt(quantile(ratios, 0.5))} % (${ratios.map(fmt).join(', ')}); max − min ${Math.max(...rounds.map((r) => r.spread))} at worst`);
}
if (values.naive) {
  const send = noop(true);
  let failed = 0;
  const requests = Array.from({ length: TICKETS }, (_, i) => ({ ticketId: i + 1, protocol: 'naive' }));
  const n = await burst(requests, (r) => send(r).catch(() => failed++));
  log(`naive: ${TICKETS} update-with-start fired at once into one no-op workflow (no admission, server limit ${MAX_IN_FLIGHT_UPDATES} in flight): ${fmt(n.totalMs)} ms, ${failed} failed after the SDK's retries, ${fmt(((TICKETS - failed) * 1000) / n.totalMs)} answered/s`);
}

worker.shutdown();
noopWorker.shutdown();
await running;
await workerConnection.close();
await connection.close();
await sql.end();
await Promise.all([temporal.stop(), db.stop()]);
await rm(pgDir, { recursive: true, force: true });
