/**
 * Open tickets with live SLA timers on one worker (SPEC §6, workflows/ticket.ts), on real parts:
 * a Temporal dev server (in memory), embedded PostgreSQL and the product's worker, alone in a
 * process of its own (bench/worker-process.ts) so that its memory can be read cleanly.
 *
 *   npm run bench:sla -- [--tickets 10000] [--shapes burst,spread,hold] [--kinds noop,ticket]
 *                        [--sla-minutes 20] [--spread-seconds 800] [--spread-sla-minutes 4]
 *                        [--hold-rate 25] [--hold-open-seconds N/30]
 *                        [--concurrency 50] [--stall-seconds 300]
 *                        [--max-cached-workflows N] [--max-concurrent-wft N] [--max-concurrent-activities N]
 *
 * Seeds with SQL an alert with thresholds 50 % and 100 % that goes to nobody (no assignee, no
 * sector, no address, no webhook: a firing has no delivery and starts no child workflow, so
 * what is measured is the timers) and an occurrence with it, on the default 24×7 calendar.
 * Then, for each shape, on a fresh worker process each:
 *  - burst: `--tickets` tickets created at one instant, SLA `--sla-minutes`: every 50 % timer
 *    falls due at the same instant, then every 100 % timer: the hard case. Half the SLA must
 *    outlast the opening of all the tickets (the report counts those that opened too late);
 *  - spread: the tickets' creation spread evenly over `--spread-seconds`, each workflow started
 *    at its ticket's creation, SLA `--spread-sla-minutes`: tickets open and timers fire at a
 *    steady pace, together;
 *  - hold: the worker holds all N tickets open, then their alerts fire at a steady pace: every
 *    workflow is started at once (as fast as the server takes them), the tickets' creation
 *    instants lie in the past so that their 50 % instants follow one another evenly, at
 *    `--hold-rate` a second, from `--hold-open-seconds` after the first start, and their 100 %
 *    instants the same way right after (the SLA is the whole minutes that rate gives). Most
 *    workflows are out of the worker's cache when they fire, as in a helpdesk's day;
 * it starts every ticket's workflow (`ticket:<protocol>`, args `[{ protocol }]`, `--concurrency`
 * start calls in flight), waits until the 2 × N firings are recorded in alert_firing (or none
 * came for `--stall-seconds` after the last instant), and prints:
 *  - tickets opened per second: first start call → the last workflow has loaded its ticket and
 *    set its timer (read afterwards from each history: the first workflow task completed after
 *    the load activity); the start calls' own pace beside it;
 *  - alert lateness, fired − due (alert_firing.fired_at, the database's clock in the recording
 *    activity, minus due_at), p50/p99/max per threshold and overall;
 *  - the worker process's RSS: idle before the first start, peak (sampled every 500 ms, and
 *    the kernel's high-water mark), and at the end, once every firing is recorded;
 *  - the cores the worker, the Temporal server, PostgreSQL and the bench kept busy while the
 *    tickets opened and while they fired (sampled every second from /proc): what limits it;
 *    and the cores everything else on the machine took meanwhile (others' tests share it);
 *  - the engine's ceiling on the same server in the same run, measured first: a no-op workflow
 *    of the same shape (bench/noop-ticket-workflow.ts, its own bundle, worker process and task
 *    queue: one activity at start, a timer to each of the same instants with one activity at
 *    each, which notes its own lateness), and the ratios.
 * Both kinds get the same worker options; none given = the product's createWorker as it is.
 * The defaults are the issue's case: 10,000 tickets held open on one worker, alerts at 25 a
 * second per threshold, about 40 minutes on 2 cores for both kinds (`--shapes hold,burst,spread`
 * adds the others, well over an hour more). Needs Linux (/proc) for the memory and CPU figures.
 */
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode } from '@temporalio/worker';
import { TICKET_WORKFLOW } from '../contracts/ticket.js';
import { ticketWorkflowId } from '../contracts/workflow-ids.js';
import { createSql } from '../db/client.js';
import { migrate } from '../db/migrate.js';
import { startEmbeddedPostgres } from '../stack/embedded-postgres.js';
import { freePort } from '../stack/free-port.js';
import { cpuNow, findPids, procStatus, type Cpu } from './proc-usage.js';
import { ensureTemporalCli } from '../stack/temporal-cli.js';
import { startDevServer } from '../stack/temporal-dev-server.js';
import { loadWorkflowBundle } from '../workers/workflow-bundle.js';
import type { TunedOptions } from './worker-process.js';
import { startWorkerProcess, type WorkerProcess } from './worker-processes.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const { values } = parseArgs({
  options: {
    tickets: { type: 'string', default: '10000' },
    'sla-minutes': { type: 'string', default: '20' },
    shapes: { type: 'string', default: 'hold' },
    kinds: { type: 'string', default: 'noop,ticket' },
    'spread-seconds': { type: 'string', default: '800' },
    'spread-sla-minutes': { type: 'string', default: '4' },
    'hold-rate': { type: 'string', default: '25' },
    'hold-open-seconds': { type: 'string' },
    concurrency: { type: 'string', default: '50' },
    'stall-seconds': { type: 'string', default: '300' },
    'max-cached-workflows': { type: 'string' },
    'max-concurrent-wft': { type: 'string' },
    'max-concurrent-activities': { type: 'string' },
  },
});
const N = Number(values.tickets);
const HOLD_RATE = Number(values['hold-rate']);
const HOLD_OPEN_MS = Number(values['hold-open-seconds'] ?? Math.ceil(N / 30)) * 1000;
const SLA_MINUTES: Record<Shape, number> = {
  burst: Number(values['sla-minutes']),
  spread: Number(values['spread-sla-minutes']),
  // Half the SLA holds the N 50 % instants at the given rate.
  hold: Math.max(1, Math.ceil((2 * N) / HOLD_RATE / 60)),
};
const SHAPES = values.shapes.split(',').map((s) => s.trim()) as Shape[];
const KINDS = values.kinds.split(',').map((s) => s.trim()) as Kind[];
const SPREAD_MS = Number(values['spread-seconds']) * 1000;
const CONCURRENCY = Number(values.concurrency);
const STALL_MS = Number(values['stall-seconds']) * 1000;
const THRESHOLDS = [50, 100];
const num = (v: string | undefined) => (v === undefined ? undefined : Number(v));
const OPTIONS: TunedOptions = {
  maxCachedWorkflows: num(values['max-cached-workflows']),
  maxConcurrentWorkflowTaskExecutions: num(values['max-concurrent-wft']),
  maxConcurrentActivityTaskExecutions: num(values['max-concurrent-activities']),
};
type Shape = 'burst' | 'spread' | 'hold';
type Kind = 'ticket' | 'noop';
if (Object.values(SLA_MINUTES).some((m) => !Number.isInteger(m) || m < 1)) throw new Error('--sla-minutes, --spread-sla-minutes: whole numbers of minutes (the occurrence stores minutes)');
if (SHAPES.some((s) => s !== 'burst' && s !== 'spread' && s !== 'hold')) throw new Error('--shapes: burst, spread, hold, or several');
if (KINDS.length === 0 || KINDS.some((k) => k !== 'noop' && k !== 'ticket')) throw new Error('--kinds: noop (the ceiling), ticket or both');

const quantile = (xs: number[], q: number) => (xs.length ? [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))]! : NaN);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const log = (m: string) => console.log(m);
const MiB = 1024 * 1024;


// ---- the stack ----------------------------------------------------------------------------

const pgDir = await mkdtemp(join(tmpdir(), 'mailtrack-bench-sla-'));
await chmod(pgDir, 0o755);
const cli = await ensureTemporalCli({ projectRoot: ROOT, explicitPath: process.env.TEMPORAL_CLI_PATH || undefined });
const [temporal, db] = await Promise.all([
  freePort().then((port) => startDevServer({ cli, port })),
  freePort().then((port) => startEmbeddedPostgres({ dir: join(pgDir, 'data'), port, database: 'bench' })),
]);
await migrate(db.url);
const sql = createSql(db.url, { max: 10 });
const pids = await findPids();
const connection = await Connection.connect({ address: temporal.address });
const client = new Client({ connection });

// Both bundles built once, here, into files the worker processes read: they never run webpack
// (whose memory would count as theirs), and every ticket phase runs the same code even if the
// sources change during the run.
const ticketBundlePath = join(pgDir, 'ticket-bundle.js');
await writeFile(ticketBundlePath, (await loadWorkflowBundle(resolve(ROOT, '.cache'))).code);
const noopBundlePath = join(pgDir, 'noop-ticket-bundle.js');
const noopBundle = await bundleWorkflowCode({
  workflowsPath: fileURLToPath(new URL('./noop-ticket-workflow.ts', import.meta.url)),
  logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error: (m: string) => console.error(m) },
});
await writeFile(noopBundlePath, noopBundle.code);

// An alert that goes to nobody, and an occurrence with it on the default 24×7 calendar.
const [customer] = await sql<{ id: number }[]>`INSERT INTO customer (name) VALUES ('Bench customer') RETURNING id`;
const [alert] = await sql<{ id: number }[]>`
  INSERT INTO alert (name, thresholds, notify_assignee, notify_sector, emails) VALUES ('Bench SLA', ${THRESHOLDS}, false, false, '{}') RETURNING id`;
const [type] = await sql<{ id: number }[]>`INSERT INTO occurrence_type (name) VALUES ('Bench type') RETURNING id`;
const [occurrence] = await sql<{ id: number }[]>`
  INSERT INTO occurrence (occurrence_type_id, name, sla_value, sla_unit, alert_id) VALUES (${type!.id}, 'Bench occurrence', ${SLA_MINUTES.burst}, 'minutes', ${alert!.id}) RETURNING id`;
/** As domain/sla-clock.ts plans a threshold on a 24×7 calendar: never early. */
const dueOffsetsFor = (shape: Shape) => THRESHOLDS.map((p) => Math.ceil((SLA_MINUTES[shape] * 60_000 * p) / 100));

// ---- a worker process ---------------------------------------------------------------------

function startWorker(kind: Kind, taskQueue: string): Promise<WorkerProcess> {
  return startWorkerProcess({
    kind: kind === 'ticket' ? 'product' : 'noop-ticket',
    temporalAddress: temporal.address,
    databaseUrl: db.url,
    taskQueue,
    bundlePath: kind === 'ticket' ? ticketBundlePath : noopBundlePath,
    options: OPTIONS,
  });
}

/**
 * Samples the worker's RSS every 500 ms, and every second the CPU seconds used so far by each
 * process, until stopped: the CPU used in a window (opening, a threshold's firings) is then
 * the difference between the samples around it.
 */
function sample(workerPid: number) {
  const rss: number[] = [];
  const cpu: { at: number; cpu: Cpu }[] = [];
  let ticks = 0;
  const timer = setInterval(() => {
    void procStatus(workerPid).then((s) => s && rss.push(s.rss));
    if (ticks++ % 2 === 0) void cpuNow(pids, workerPid).then((c) => cpu.push({ at: Date.now(), cpu: c }));
  }, 500);
  return { rss, cpu, stop: () => clearInterval(timer) };
}

/** Cores each process kept busy on average between `from` and `to` (the samples nearest inside). */
function coresBetween(samples: { at: number; cpu: Cpu }[], from: number, to: number): Cpu | undefined {
  const inside = samples.filter((x) => x.at >= from - 500 && x.at <= to + 1000);
  if (inside.length < 2) return undefined;
  const a = inside[0]!;
  const b = inside[inside.length - 1]!;
  const s = (b.at - a.at) / 1000;
  const d = (k: keyof Cpu) => (b.cpu[k] - a.cpu[k]) / s;
  return { worker: d('worker'), temporal: d('temporal'), postgres: d('postgres'), bench: d('bench'), others: d('others') };
}

// ---- one phase: N workflows of one kind in one shape ---------------------------------------

interface PhaseResult {
  kind: Kind;
  shape: Shape;
  startCallsPerSec: number;
  openedPerSec: number;
  openedAfterDue: number;
  lateMs: Record<number, number[]>;
  fired: number;
  rss: { idle: number; peakSampled: number; hwm: number; end: number; cachedEnd: number };
  /** Wall seconds, first start call → last firing. */
  wall: number;
  /** Cores in use while the tickets opened, and while each threshold's firings were recorded (due → last recorded). */
  cores: { opening?: Cpu; all?: Cpu; firing: Record<number, Cpu | undefined> };
}

/** Runs `fn` over `items`, `limit` at a time. */
async function eachLimited<T>(items: T[], limit: number, fn: (item: T, i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        await fn(items[i]!, i);
      }
    }),
  );
}

const tsMs = (t: { seconds?: { toNumber(): number } | number | null; nanos?: number | null } | null | undefined) =>
  t ? (typeof t.seconds === 'number' ? t.seconds : (t.seconds?.toNumber() ?? 0)) * 1000 + Math.floor((t.nanos ?? 0) / 1e6) : NaN;

/**
 * When the workflow had loaded and set its first timer: the first workflow task completed after
 * its first activity, or, for a local activity, the workflow task whose completion recorded it.
 */
async function openedAt(workflowId: string): Promise<number> {
  const page = await client.workflowService.getWorkflowExecutionHistory({ namespace: 'default', execution: { workflowId }, maximumPageSize: 40 });
  let loaded = false;
  let taskCompleted = NaN;
  for (const e of page.history?.events ?? []) {
    if (e.markerRecordedEventAttributes?.markerName === 'core_local_activity') return taskCompleted;
    if (e.activityTaskCompletedEventAttributes) loaded = true;
    else if (e.workflowTaskCompletedEventAttributes) {
      if (loaded) return tsMs(e.eventTime);
      taskCompleted = tsMs(e.eventTime);
    }
  }
  return NaN;
}

async function runPhase(kind: Kind, shape: Shape): Promise<PhaseResult> {
  const taskQueue = `bench-sla-${kind}-${shape}`;
  const worker = await startWorker(kind, taskQueue);
  const pid = worker.child.pid!;
  const samples = sample(pid);
  await sleep(1000);
  const idle = (await procStatus(pid))?.rss ?? NaN;

  // Creation instants: all at t0, or spread evenly; t0 leaves time to insert the rows. A hold
  // starts every workflow at t0 and spreads the creation instants (in the past) instead.
  const t0 = Date.now() + 3000;
  const dueOffsets = dueOffsetsFor(shape);
  const holdStep = dueOffsets[0]! / N;
  const createdAt = Array.from({ length: N }, (_, i) =>
    shape === 'hold' ? t0 + HOLD_OPEN_MS - dueOffsets[0]! + Math.round(i * holdStep) : t0 + Math.round(i * (shape === 'spread' ? SPREAD_MS / N : 0)),
  );
  const startAt = shape === 'hold' ? createdAt.map(() => t0) : createdAt;
  let ids: { id: number; workflowId: string }[];
  let start: (i: number) => Promise<unknown>;
  if (kind === 'ticket') {
    // The workflow reads the SLA when it loads its ticket.
    await sql`UPDATE occurrence SET sla_value = ${SLA_MINUTES[shape]} WHERE id = ${occurrence!.id}`;
    const rows = await sql<{ id: number; protocol: string; createdAt: string }[]>`
      INSERT INTO ticket (protocol, subject, description, customer_id, channel, occurrence_type_id, occurrence_id, created_at, updated_at)
      SELECT to_char(now(), 'YYYY') || lpad(nextval('protocol_sequence')::text, 8, '0'), 'Bench ' || i, '-', ${customer!.id}, 'api', ${type!.id}, ${occurrence!.id}, c, c
        FROM unnest(${createdAt.map((t) => new Date(t).toISOString())}::timestamptz[]) WITH ORDINALITY AS x(c, i)
       ORDER BY i
      RETURNING id, protocol, created_at`;
    // In creation order, as createdAt is (RETURNING promises no order).
    rows.sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id - b.id);
    await sql`INSERT INTO ticket_event (ticket_id, kind, actor, at) SELECT id, 'created', 'system:bench', created_at FROM ticket WHERE id IN ${sql(rows.map((r) => r.id))}`;
    ids = rows.map((r) => ({ id: r.id, workflowId: ticketWorkflowId(r.protocol) }));
    start = (i) => client.workflow.start(TICKET_WORKFLOW, { workflowId: ids[i]!.workflowId, taskQueue, args: [{ protocol: rows[i]!.protocol }] });
  } else {
    ids = createdAt.map((_, i) => ({ id: i + 1, workflowId: `noop-ticket-${shape}-${i + 1}` }));
    start = (i) =>
      client.workflow.start('noopTicket', {
        workflowId: ids[i]!.workflowId,
        taskQueue,
        args: [{ id: i + 1, thresholds: THRESHOLDS.map((percent, k) => ({ percent, dueAt: new Date(createdAt[i]! + dueOffsets[k]!).toISOString() })) }],
      });
  }
  const lo = Math.min(...ids.map((x) => x.id));
  const hi = Math.max(...ids.map((x) => x.id));
  const lastDue = createdAt[N - 1]! + dueOffsets[dueOffsets.length - 1]!;
  const label = `${shape} ${kind === 'ticket' ? 'tickets' : 'no-op ceiling'}`;
  log(`  ${label}: starting ${N} workflows…`);

  await sleep(Math.max(0, t0 - Date.now()));
  const firstCall = Date.now();
  await eachLimited(startAt, CONCURRENCY, async (at, i) => {
    if (at > Date.now()) await sleep(at - Date.now());
    await start(i);
  });
  const startCallsMs = Date.now() - firstCall;

  // Until every firing is recorded, or none comes for STALL_MS after the last instant.
  const expected = N * THRESHOLDS.length;
  const firedCount = async () =>
    kind === 'ticket'
      ? Number((await sql<{ n: number }[]>`SELECT count(*)::int AS n FROM alert_firing WHERE ticket_id BETWEEN ${lo} AND ${hi}`)[0]!.n)
      : (await worker.stats()).fired;
  let fired = 0;
  /** When the count reached k × N: when the k-th threshold's last firing was recorded (exact while the thresholds' firings do not overlap: a burst, or a spread shorter than half the SLA). */
  const reached: number[] = [];
  let progressAt = Date.now();
  let reportedAt = Date.now();
  for (;;) {
    const n = await firedCount();
    if (n !== fired) progressAt = Date.now();
    fired = n;
    THRESHOLDS.forEach((_, k) => {
      if (reached[k] === undefined && fired >= (k + 1) * N) reached[k] = Date.now();
    });
    if (fired >= expected) break;
    // Nothing comes between the instants: only after the last one does a silence mean a stall.
    if (Date.now() - Math.max(progressAt, lastDue) > STALL_MS) {
      log(`  ${label}: stalled at ${fired}/${expected} firings (none for ${STALL_MS / 1000} s); reporting what there is`);
      break;
    }
    if (Date.now() - reportedAt > 30_000) {
      reportedAt = Date.now();
      // Only while nothing is due: a spread has an instant every few milliseconds.
      const now = Date.now();
      const nextDue = createdAt.reduce((min, c) => dueOffsets.reduce((m, d) => (c + d > now && c + d < m ? c + d : m), min), Infinity);
      const wait = Number.isFinite(nextDue) ? nextDue - now : 0;
      log(`  ${label}: ${fired}/${expected} firings, worker RSS ${((samples.rss.at(-1) ?? NaN) / MiB).toFixed(0)} MiB${wait > 1000 ? `, next instant in ${(wait / 1000).toFixed(0)} s` : ''}`);
    }
    await sleep(250);
  }
  const wall = (Date.now() - firstCall) / 1000;
  await sleep(1100);
  samples.stop();
  const end = await procStatus(pid);
  const stats = await worker.stats(true);

  const lateMs: Record<number, number[]> = Object.fromEntries(THRESHOLDS.map((t) => [t, [] as number[]]));
  if (kind === 'ticket') {
    const rows = await sql<{ threshold: number; ms: number }[]>`
      SELECT threshold, (extract(epoch FROM fired_at - due_at) * 1000)::float8 AS ms
        FROM alert_firing WHERE ticket_id BETWEEN ${lo} AND ${hi}`;
    for (const r of rows) lateMs[r.threshold]?.push(r.ms);
  } else {
    for (const t of THRESHOLDS) lateMs[t] = stats.lateMs[t] ?? [];
  }

  // Opened: after the run, from the histories (the server's clock, the same as ours).
  const opened: number[] = new Array<number>(N);
  await eachLimited(ids, 10, async (x, i) => {
    opened[i] = await openedAt(x.workflowId);
  });
  const lastOpened = Math.max(...opened.filter((t) => !Number.isNaN(t)));
  const openedAfterDue = opened.filter((t, i) => Number.isNaN(t) || t > createdAt[i]! + dueOffsets[0]!).length;
  await worker.stop();
  return {
    kind,
    shape,
    startCallsPerSec: (N * 1000) / startCallsMs,
    openedPerSec: (N * 1000) / (lastOpened - firstCall),
    openedAfterDue,
    lateMs,
    fired,
    rss: { idle, peakSampled: Math.max(...samples.rss), hwm: end?.hwm ?? NaN, end: end?.rss ?? NaN, cachedEnd: stats.cachedWorkflows },
    wall,
    cores: {
      opening: coresBetween(samples.cpu, firstCall, lastOpened),
      all: coresBetween(samples.cpu, createdAt[0]! + dueOffsets[0]!, firstCall + wall * 1000),
      // Per threshold only while their firings keep apart.
      firing: Object.fromEntries(
        THRESHOLDS.map((t, k) => {
          const apart = THRESHOLDS.every((_, j) => j === 0 || createdAt[N - 1]! + dueOffsets[j - 1]! < createdAt[0]! + dueOffsets[j]!);
          return [t, apart && reached[k] ? coresBetween(samples.cpu, createdAt[0]! + dueOffsets[k]!, reached[k]!) : undefined];
        }),
      ),
    },
  };
}

// ---- the report ---------------------------------------------------------------------------

const f0 = (n: number) => (Number.isFinite(n) ? n.toFixed(0) : '-');
const f1 = (n: number) => (Number.isFinite(n) ? n.toFixed(1) : '-');
const mib = (n: number) => f0(n / MiB);
const late = (xs: number[]) => `${f0(quantile(xs, 0.5))} / ${f0(quantile(xs, 0.99))} / ${f0(xs.length ? Math.max(...xs) : NaN)}`;
const allLate = (r: PhaseResult) => Object.values(r.lateMs).flat();

/** One row: a label, a cell per phase, and the tickets' figure against the ceiling's when both ran. */
type Row = [label: string, cell: (r: PhaseResult) => string, ratio?: (t: PhaseResult, n: PhaseResult) => string];

const ROWS: Row[] = [
  ['opened/s (first start → last timer set)', (r) => f1(r.openedPerSec), (t, n) => `${f0((100 * t.openedPerSec) / n.openedPerSec)} %`],
  ['  start calls/s (client side)', (r) => f1(r.startCallsPerSec), (t, n) => `${f0((100 * t.startCallsPerSec) / n.startCallsPerSec)} %`],
  ['  opened after their 50 % instant', (r) => String(r.openedAfterDue)],
  ...THRESHOLDS.map((p): Row => [`lateness ${p} % p50 / p99 / max (ms)`, (r) => late(r.lateMs[p]!), (t, n) => `p99 ×${f1(quantile(t.lateMs[p]!, 0.99) / quantile(n.lateMs[p]!, 0.99))}`]),
  ['lateness, all firings (ms)', (r) => late(allLate(r)), (t, n) => `p99 ×${f1(quantile(allLate(t), 0.99) / quantile(allLate(n), 0.99))}`],
  ['  firings recorded', (r) => `${r.fired}/${N * THRESHOLDS.length}`],
  ['worker RSS idle / peak / end (MiB)', (r) => `${mib(r.rss.idle)} / ${mib(r.rss.peakSampled)} / ${mib(r.rss.end)}`, (t, n) => `peak ×${f1(t.rss.peakSampled / n.rss.peakSampled)}`],
  ['  RSS high-water mark (kernel, MiB)', (r) => mib(r.rss.hwm)],
  ["  workflows in the worker's cache at end", (r) => String(r.rss.cachedEnd)],
  ['cores busy opening (worker / Temporal / PG / bench / others)', (r) => cores(r.cores.opening)],
  ['cores busy first due → last firing', (r) => cores(r.cores.all)],
  ...THRESHOLDS.map((p): Row => [`  due → last firing of ${p} %`, (r) => cores(r.cores.firing[p])]),
  ['wall s (first start → last firing)', (r) => f0(r.wall)],
];

function report(ticket: PhaseResult | undefined, noop: PhaseResult | undefined): void {
  const phases = [ticket, noop].filter((r): r is PhaseResult => r !== undefined);
  const header = ['', ...(ticket ? ['tickets'] : []), ...(noop ? ['no-op ceiling'] : []), ...(ticket && noop ? ['tickets / ceiling'] : [])];
  const rows = [header, ...ROWS.map(([label, cell, ratio]) => [label, ...phases.map(cell), ...(ticket && noop ? [ratio ? ratio(ticket, noop) : ''] : [])])];
  const width = header.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  for (const r of rows) log(`  ${r.map((c, i) => (i === 0 ? c.padEnd(width[i]!) : c.padStart(width[i]!))).join('   ')}`);
  if (!ticket) return;
  const p99 = quantile(allLate(ticket), 0.99);
  const peak = Math.max(ticket.rss.peakSampled, ticket.rss.hwm);
  log(`  targets: lateness p99 ≤ 1 s: ${p99 <= 1000 ? 'met' : 'NOT met'} (${f0(p99)} ms); worker RSS ≤ 1 GiB: ${peak <= 1024 * MiB ? 'met' : 'NOT met'} (peak ${mib(peak)} MiB)`);
}

function cores(c: Cpu | undefined): string {
  return c ? `${f1(c.worker)} / ${f1(c.temporal)} / ${f1(c.postgres)} / ${f1(c.bench)} / ${f1(c.others)}` : '-';
}

// ---- the run ------------------------------------------------------------------------------

const cpu = cpus();
const options = Object.entries(OPTIONS).filter(([, v]) => v !== undefined);
log(`machine: ${cpu[0]?.model ?? 'unknown CPU'}, ${cpu.length} cores, ${(totalmem() / 1024 ** 3).toFixed(1)} GiB, Node ${process.versions.node}`);
log(`stack: Temporal dev server (in memory), embedded PostgreSQL, one worker in its own process; worker options: ${options.length ? options.map(([k, v]) => `${k}=${v}`).join(', ') : "the SDK's defaults (createWorker)"}`);
log(`tickets: ${N}; alerts at ${THRESHOLDS.join(' % and ')} % of the SLA on a 24×7 calendar, to nobody (no deliveries)`);
for (const shape of SHAPES) {
  const sla = `SLA ${SLA_MINUTES[shape]} min: alerts due +${dueOffsetsFor(shape).map((d) => `${d / 1000} s`).join(', +')} after creation`;
  const holdRate = (N * 1000) / dueOffsetsFor('hold')[0]!;
  log(
    shape === 'burst'
      ? `burst: all ${N} tickets created at one instant; ${sla}`
      : shape === 'spread'
        ? `spread: ${N} tickets created evenly over ${SPREAD_MS / 1000} s (${((N * 1000) / SPREAD_MS).toFixed(1)}/s), each started at its creation; ${sla}`
        : `hold: ${N} tickets started at once, their 50 % instants from ${HOLD_OPEN_MS / 1000} s on at ${holdRate.toFixed(1)}/s, then their 100 % instants; SLA ${SLA_MINUTES.hold} min`,
  );
  // The ceiling first: the tickets' phase then runs with its workflows open on the server, not the other way round.
  const noop = KINDS.includes('noop') ? await runPhase('noop', shape) : undefined;
  const ticket = KINDS.includes('ticket') ? await runPhase('ticket', shape) : undefined;
  report(ticket, noop);
}

await connection.close();
await sql.end();
await Promise.all([temporal.stop(), db.stop()]);
await rm(pgDir, { recursive: true, force: true });
