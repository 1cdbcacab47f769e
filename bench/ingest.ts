/**
 * Inbound throughput and latency on real parts, next to the engine's ceiling in the same run:
 *
 *   npm run bench:ingest -- [--bursts 200,1000] [--singles 200] [--kinds noop,shape,engine]
 *
 * One Temporal dev server (in memory), embedded PostgreSQL, Dovecot and one worker per kind, each
 * in a process of its own (bench/worker-process.ts, as in production) on its own task queue:
 *  - `engine`: the product's worker and bundle; every e-mail goes all the way (classified,
 *    parsed, threaded, customer, ticket, solution, distribution, the ticket's workflow);
 *  - `noop` (the ceiling): the same mailbox watcher and activities, but the `email:` workflow it
 *    starts does nothing (bench/noop-email-workflow.ts);
 *  - `shape`: the floor of the engine's shape: the engine's steps, each one a no-op, and a
 *    ticket-shaped workflow started at the end (bench/shape-email-workflow.ts).
 * Each mailbox is configured through the API (as `npm start` does). A burst of N messages is
 * APPENDed to a staging folder first, then MOVEd into the watched folder in one command, so the
 * N arrive at once. Printed per burst and kind: throughput to outcome (e-mails/s), append →
 * outcome latency (the ticket, for the engine), and the longest pause between two e-mail
 * workflows starting (and, the watcher's own side of it, between two messages stored). Then
 * single e-mails into an idle engine: append → ticket, and the engine's own part, from the
 * moment the watcher was told of the new message (IMAP IDLE) to the ticket committed; Dovecot
 * holds its IDLE notification for about half a second, which is not ours.
 */
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode } from '@temporalio/worker';
import { buildApp } from '../api/app.js';
import { newSecretsKey, parseSecretsKey, secretBox } from '../config/secret-box.js';
import { emailWorkflowId } from '../contracts/workflow-ids.js';
import { ensureAdminKey, newKey } from '../db/api-keys.js';
import { createSql } from '../db/client.js';
import type { ImapSettings } from '../db/mailboxes.js';
import { migrate } from '../db/migrate.js';
import { seedDemo, viaInject } from '../stack/demo-seed.js';
import { withImap } from '../activities/imap.js';
import { appendMail, startDovecot } from '../stack/dovecot.js';
import { startEmbeddedPostgres } from '../stack/embedded-postgres.js';
import { freePort } from '../stack/free-port.js';
import { ensureTemporalCli } from '../stack/temporal-cli.js';
import { startDevServer } from '../stack/temporal-dev-server.js';
import { loadWorkflowBundle } from '../workers/workflow-bundle.js';
import { cpuNow, findPids, type Cpu } from './proc-usage.js';
import { startWorkerProcess } from './worker-processes.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const { values } = parseArgs({
  options: {
    bursts: { type: 'string', default: '200,1000' },
    singles: { type: 'string', default: '200' },
    kinds: { type: 'string', default: 'noop,shape,engine' },
  },
});
const BURSTS = values.bursts.split(',').filter(Boolean).map(Number);
const SINGLES = Number(values.singles);
const ALL_KINDS = ['noop', 'shape', 'engine'] as const;
type Kind = (typeof ALL_KINDS)[number];
const KINDS = values.kinds.split(',').filter(Boolean) as Kind[];
if (KINDS.some((k) => !ALL_KINDS.includes(k))) throw new Error('--kinds: noop (the ceiling), shape (the engine\'s shape, no work), engine, or several');

const quantile = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))]!;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const log = (s: string) => console.log(s);

/** Each kind's mailbox is a Dovecot user of its own. */
const users: Record<Kind, [string, string]> = { engine: ['support', 'support-secret'], noop: ['sales', 'sales-secret'], shape: ['billing', 'billing-secret'] };

// ---------------------------------------------------------------------------------------------
// The stack.
const pgDir = await mkdtemp(join(tmpdir(), 'mailtrack-bench-ingest-'));
await chmod(pgDir, 0o755);
const cli = await ensureTemporalCli({ projectRoot: ROOT, explicitPath: process.env.TEMPORAL_CLI_PATH || undefined });
const [temporal, db, dovecot] = await Promise.all([
  freePort().then((port) => startDevServer({ cli, port })),
  freePort().then((port) => startEmbeddedPostgres({ dir: join(pgDir, 'data'), port, database: 'bench' })),
  startDovecot({ users: Object.values(users).map(([user, password]) => ({ user, password })) }),
]);
await migrate(db.url);
const sql = createSql(db.url, { max: 20 });
const pids = await findPids();
const secretsKey = newSecretsKey();
const secrets = secretBox(parseSecretsKey(secretsKey));
const connection = await Connection.connect({ address: temporal.address });
const client = new Client({ connection });
const adminKey = newKey();
await ensureAdminKey(sql, adminKey);

// Built here, once, into files the worker processes read (they never run webpack).
const quiet = { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error: (m: string) => console.error(m) };
const benchBundle = async (file: string) => (await bundleWorkflowCode({ workflowsPath: fileURLToPath(new URL(file, import.meta.url)), logger: quiet })).code;
const bundlePaths = {} as Record<Kind, string>;
for (const kind of KINDS) {
  bundlePaths[kind] = join(pgDir, `${kind}-bundle.js`);
  const code = kind === 'engine' ? (await loadWorkflowBundle(resolve(ROOT, '.cache'))).code : await benchBundle(`./${kind}-email-workflow.ts`);
  await writeFile(bundlePaths[kind], code);
}

interface Setup {
  kind: Kind;
  taskQueue: string;
  workerPid: number;
  mailboxId: number;
  imap: ImapSettings;
  stop: () => Promise<void>;
}

/** A worker of this kind on its own task queue, and a mailbox of its own (its own Dovecot user) configured through the API. */
async function setUp(kind: Kind, user: string, password: string): Promise<Setup> {
  const taskQueue = `ingest-${kind}`;
  const worker = await startWorkerProcess({
    kind: kind === 'shape' ? 'shape' : 'product',
    temporalAddress: temporal.address,
    databaseUrl: db.url,
    taskQueue,
    bundlePath: bundlePaths[kind],
    secretsKey,
  });
  const imap = { host: dovecot.host, port: dovecot.port, tls: false, user, secret: password, folder: 'INBOX' };
  const app = await buildApp({ sql, temporal: { client, taskQueue, mailboxIdleSeconds: 300 }, secrets });
  const seeded = await seedDemo(viaInject(app, adminKey), imap, { suffix: kind === 'engine' ? '' : `-${kind}` });
  await app.close();
  return { kind, taskQueue, workerPid: worker.child.pid!, mailboxId: seeded.mailboxId, imap, stop: () => worker.stop() };
}

const setups = new Map<Kind, Setup>();
for (const kind of KINDS) setups.set(kind, await setUp(kind, ...users[kind]));

// ---------------------------------------------------------------------------------------------
// Mail as clients send it: multipart/alternative, a quoted reply below, 500 senders.
let sequence = 0;
function message(tag: string): string {
  const n = ++sequence;
  const boundary = `b-${n}`;
  const text = `Olá,\r\n\r\nO pedido ${n} ainda não chegou. Podem verificar?\r\n\r\nObrigado,\r\nCliente ${n % 500}\r\n\r\n> Em ${new Date().toUTCString()}, suporte escreveu:\r\n> Seu pedido foi enviado.\r\n`;
  return [
    `From: Cliente ${n % 500} <cliente${n % 500}@bench.example>`,
    'To: suporte@mailtrack.example',
    `Subject: Pedido ${n} (${tag})`,
    `Date: ${new Date().toUTCString()}`,
    `Message-ID: <${tag}-${n}-${Date.now()}@bench.example>`,
    'MIME-Version: 1.0',
    `Content-Type: multipart/alternative; boundary="${boundary}"`,
    '',
    `--${boundary}`,
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: 8bit',
    '',
    text,
    `--${boundary}`,
    'Content-Type: text/html; charset=utf-8',
    'Content-Transfer-Encoding: 8bit',
    '',
    `<html><body>${text.split('\r\n').map((l) => `<p>${l}</p>`).join('')}</body></html>`,
    `--${boundary}--`,
    '',
  ].join('\r\n');
}

// ---------------------------------------------------------------------------------------------
// One burst.
interface Burst {
  kind: Kind;
  n: number;
  /** From the MOVE to the last outcome. */
  totalMs: number;
  /** Append → outcome (the engine: → ticket) per e-mail. */
  latencies: number[];
  firstStartMs: number;
  longestPauseMs: number;
  /** Between two of its messages stored by the watcher. */
  longestStorePauseMs: number;
  /** Cores used from the MOVE to the last outcome, per process. */
  cores: Cpu;
}

async function workflowTimes(ids: string[]): Promise<{ start: number; close: number | undefined }[]> {
  const out: { start: number; close: number | undefined }[] = [];
  for (let i = 0; i < ids.length; i += 25) {
    out.push(
      ...(await Promise.all(
        ids.slice(i, i + 25).map(async (id) => {
          const d = await client.workflow.getHandle(id).describe();
          return { start: d.startTime.getTime(), close: d.closeTime?.getTime() };
        }),
      )),
    );
  }
  return out;
}

async function burst(setup: Setup, n: number): Promise<Burst> {
  // Appended to a staging folder first (not timed), then moved in with one command: the N arrive at once.
  const { moved, t0, cpu0, uidValidity } = await withImap(setup.imap, async (imap) => {
    const staging = `Staging-${n}-${Date.now()}`;
    await imap.mailboxCreate(staging);
    for (let i = 0; i < n; i++) await imap.append(staging, message(`${setup.kind}-${n}`));
    const lock = await imap.getMailboxLock(staging);
    const cpu0 = await cpuNow(pids, setup.workerPid);
    const t0 = Date.now();
    let result;
    try {
      result = await imap.messageMove('1:*', setup.imap.folder, { uid: true });
    } finally {
      lock.release();
    }
    if (!result || !result.uidMap) throw new Error('the IMAP server did not say where the messages went (no COPYUID)');
    const inbox = await imap.status(setup.imap.folder, { uidValidity: true });
    if (!inbox) throw new Error(`no STATUS for ${setup.imap.folder}`);
    await imap.mailboxDelete(staging).catch(() => {});
    return { moved: result.uidMap, t0, cpu0, uidValidity: Number(inbox.uidValidity) };
  });
  const uids = [...moved.values()];
  if (uids.length !== n) throw new Error(`moved ${uids.length} of ${n} messages`);
  const ids = uids.map((uid) => emailWorkflowId({ mailboxId: setup.mailboxId, uidValidity, uid }));

  let outcomes: number[];
  let latencies: number[];
  let starts: number[];
  let cpu1: Cpu;
  let cpuAt: number;
  if (setup.kind === 'engine') {
    await until(async () => {
      const [row] = await sql<{ n: number }[]>`
        SELECT count(*)::int AS n FROM inbound_email WHERE mailbox_id = ${setup.mailboxId} AND uid_validity = ${uidValidity} AND uid = ANY(${uids}) AND outcome IS NOT NULL`;
      return row!.n >= n;
    });
    [cpu1, cpuAt] = [await cpuNow(pids, setup.workerPid), Date.now()];
    const rows = await sql<{ outcomeAt: number; ticketAt: number | null }[]>`
      SELECT (extract(epoch FROM e.outcome_at) * 1000)::float8 AS outcome_at, (extract(epoch FROM t.created_at) * 1000)::float8 AS ticket_at FROM inbound_email e LEFT JOIN ticket t ON t.source_email_id = e.id
      WHERE e.mailbox_id = ${setup.mailboxId} AND e.uid_validity = ${uidValidity} AND e.uid = ANY(${uids})`;
    const missing = rows.filter((r) => !r.ticketAt).length;
    if (missing > 0) throw new Error(`${missing} of ${n} e-mails did not become a ticket`);
    outcomes = rows.map((r) => r.outcomeAt);
    latencies = rows.map((r) => Math.round(r.ticketAt! - t0));
    starts = (await workflowTimes(ids)).map((w) => w.start);
  } else {
    let times: { start: number; close: number | undefined }[] = [];
    await until(async () => {
      const started = await client.workflow.count(`TaskQueue = '${setup.taskQueue}' AND WorkflowType = 'processEmail' AND ExecutionStatus = 'Completed' AND StartTime >= '${new Date(t0).toISOString()}'`);
      if (started.count < n) return false;
      times = await workflowTimes(ids);
      return times.every((w) => w.close !== undefined);
    });
    [cpu1, cpuAt] = [await cpuNow(pids, setup.workerPid), Date.now()];
    outcomes = times.map((w) => w.close!);
    latencies = outcomes.map((c) => c - t0);
    starts = times.map((w) => w.start);
  }
  const seconds = (cpuAt - t0) / 1000;
  const cores = Object.fromEntries(Object.entries(cpu1).map(([k, v]) => [k, (v - cpu0[k as keyof Cpu]) / seconds])) as Cpu;
  // The watcher's own side of a pause between two starts: when it stored each message (the database's clock).
  const stored = await sql<{ at: number }[]>`
    SELECT (extract(epoch FROM received_at) * 1000)::float8 AS at FROM inbound_email WHERE mailbox_id = ${setup.mailboxId} AND uid_validity = ${uidValidity} AND uid = ANY(${uids})`;
  return {
    kind: setup.kind,
    n,
    totalMs: Math.max(...outcomes) - t0,
    latencies,
    firstStartMs: Math.min(...starts) - t0,
    longestPauseMs: longestGap(starts),
    longestStorePauseMs: Math.round(longestGap(stored.map((r) => r.at))),
    cores,
  };
}

/** The longest time between two consecutive instants. */
function longestGap(instants: number[]): number {
  const sorted = [...instants].sort((a, b) => a - b);
  let longest = 0;
  for (let i = 1; i < sorted.length; i++) longest = Math.max(longest, sorted[i]! - sorted[i - 1]!);
  return longest;
}

async function until(done: () => Promise<boolean>, timeoutMs = 15 * 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error('timed out waiting for the burst to finish');
    await sleep(50);
  }
}

// ---------------------------------------------------------------------------------------------
// Single e-mails into an idle engine.
interface Single {
  workflowId: string;
  appendToTicket: number;
  /** The watcher told of the message (IDLE) → the ticket committed, and its parts: → stored, → its workflow started, → the ticket. */
  engine: number;
  stored: number;
  started: number;
  ticket: number;
}

async function single(setup: Setup): Promise<Single> {
  const sent = Date.now();
  const { uid, uidValidity } = await appendMail(setup.imap, message('single'));
  type Row = { ticketAt: number; noticedAt: number | null; storedAt: number };
  let row: Row | undefined;
  await until(async () => {
    [row] = await sql<Row[]>`
      SELECT (extract(epoch FROM t.created_at) * 1000)::float8 AS ticket_at, (extract(epoch FROM e.noticed_at) * 1000)::float8 AS noticed_at,
             (extract(epoch FROM e.received_at) * 1000)::float8 AS stored_at
        FROM inbound_email e JOIN ticket t ON t.source_email_id = e.id
       WHERE e.mailbox_id = ${setup.mailboxId} AND e.uid_validity = ${Number(uidValidity)} AND e.uid = ${uid}`;
    // The watcher records when it was told of the message once the message's workflow has started.
    return row !== undefined && row.noticedAt !== null;
  }, 60_000);
  const { ticketAt, noticedAt, storedAt } = row!;
  const startedAt = (await client.workflow.getHandle(emailWorkflowId({ mailboxId: setup.mailboxId, uidValidity: Number(uidValidity), uid })).describe()).startTime.getTime();
  const ms = (x: number) => Math.round(x);
  const workflowId = emailWorkflowId({ mailboxId: setup.mailboxId, uidValidity: Number(uidValidity), uid });
  return { workflowId, appendToTicket: ms(ticketAt - sent), engine: ms(ticketAt - noticedAt!), stored: ms(storedAt - noticedAt!), started: ms(startedAt - storedAt), ticket: ms(ticketAt - startedAt) };
}

/** The e-mail workflow's history as a timeline: each event (a local activity's marker by its step) in ms after the workflow started. */
async function timeline(workflowId: string): Promise<string> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  const events = history.events ?? [];
  const at = (e: (typeof events)[number]) => Number(e.eventTime?.seconds ?? 0) * 1000 + (e.eventTime?.nanos ?? 0) / 1e6;
  const t0 = at(events[0]!);
  return events
    .map((e) => {
      const marker = e.markerRecordedEventAttributes;
      const data = marker?.markerName === 'core_local_activity' ? marker.details?.data?.payloads?.[0]?.data : undefined;
      const la = data ? (JSON.parse(Buffer.from(data).toString()) as { activity_type: string; complete_time: { seconds: number; nanos: number } }) : undefined;
      const what = la ? `${la.activity_type} done at +${(la.complete_time.seconds * 1000 + la.complete_time.nanos / 1e6 - t0).toFixed(0)}` : String(e.eventType).replace('EVENT_TYPE_', '');
      return `+${(at(e) - t0).toFixed(0)} ${what}`;
    })
    .join(' · ');
}

// ---------------------------------------------------------------------------------------------
log(`machine: ${cpus().length} cores, ${cpus()[0]?.model ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB, Node ${process.versions.node}`);
log("stack: Temporal dev server (in memory), embedded PostgreSQL, Dovecot; each kind's worker in a process of its own");
// Warm-up: the first workflows of a worker pay for its V8 contexts.
for (const setup of setups.values()) await burst(setup, 20);

const engineSetup = setups.get('engine');
if (engineSetup && SINGLES > 0) {
  // Idle: no e-mail in flight, and a few seconds for the ticket workflows the warm-up started.
  await until(async () => (await client.workflow.count(`TaskQueue = '${engineSetup.taskQueue}' AND WorkflowType = 'processEmail' AND ExecutionStatus = 'Running'`)).count === 0);
  await sleep(5_000);
  const singles: Single[] = [];
  for (let i = 0; i < SINGLES; i++) {
    singles.push(await single(engineSetup));
    await sleep(500);
  }
  const q = (pick: (s: Single) => number) => `p50 ${quantile(singles.map(pick), 0.5)} ms, p99 ${quantile(singles.map(pick), 0.99)} ms`;
  log(`single e-mail into an idle engine (${SINGLES}): append → ticket ${q((s) => s.appendToTicket)}`);
  log(`  the engine's own part (watcher told of the message → ticket committed): ${q((s) => s.engine)}, max ${Math.max(...singles.map((s) => s.engine))} ms`);
  log(`    of which: → message fetched (its storing began) ${q((s) => s.stored)}; → its workflow started ${q((s) => s.started)}; → ticket committed ${q((s) => s.ticket)}`);
  const slowest = singles.reduce((a, b) => (b.engine > a.engine ? b : a));
  log(`    the slowest (${slowest.engine} ms: ${slowest.stored} + ${slowest.started} + ${slowest.ticket}), ms after its workflow started: ${await timeline(slowest.workflowId)}`);
}

const results: Burst[] = [];
for (const n of BURSTS) {
  for (const kind of KINDS) {
    const r = await burst(setups.get(kind)!, n);
    results.push(r);
    log(
      `${kind.padEnd(6)} burst ${String(n).padStart(5)}: ${((n * 1000) / r.totalMs).toFixed(1).padStart(6)} e-mails/s to outcome` +
        ` · append → ${kind === 'engine' ? 'ticket' : 'outcome'} p50 ${quantile(r.latencies, 0.5)} ms, p99 ${quantile(r.latencies, 0.99)} ms` +
        ` · first workflow started after ${r.firstStartMs} ms, longest pause between two starts ${r.longestPauseMs} ms (between two messages stored: ${r.longestStorePauseMs} ms)` +
        ` · cores: Temporal ${r.cores.temporal.toFixed(2)}, PostgreSQL ${r.cores.postgres.toFixed(2)}, worker ${r.cores.worker.toFixed(2)}, bench ${r.cores.bench.toFixed(2)}, others ${r.cores.others.toFixed(2)}`,
    );
    await sleep(2_000);
  }
  const of = (kind: Kind) => results.find((r) => r.kind === kind && r.n === n);
  const [noop, shape, engine] = [of('noop'), of('shape'), of('engine')];
  const ratio = (a: Burst, b: Burst) => (b.totalMs / a.totalMs).toFixed(2);
  if (engine && noop) log(`ratio burst ${n}: engine / ceiling throughput = ${ratio(engine, noop)}`);
  if (shape && noop) log(`  the engine's shape with no work / ceiling = ${ratio(shape, noop)}${engine ? `; engine / its shape = ${ratio(engine, shape)}` : ''}`);
}

for (const setup of setups.values()) await setup.stop();
await connection.close();
await sql.end();
await Promise.all([temporal.stop(), db.stop(), dovecot.stop()]);
await rm(pgDir, { recursive: true, force: true });
