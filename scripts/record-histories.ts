/**
 * Records the histories that `test/workflows/replay.test.ts` replays: starts the real parts (a
 * Temporal dev server in memory, embedded PostgreSQL, Dovecot, one worker, the API), runs each
 * representative case through the real workflows and writes each finished run's history as
 * JSON (the format `temporal workflow show --output json` writes) into
 * `test/workflows/histories/<workflow-type>-<case>[.<tag>].json`.
 *
 *   npx tsx scripts/record-histories.ts [--tag <name>]
 *
 * It never overwrites a stored history: the old ones must keep replaying. After a workflow
 * change, record the new shape next to them with a tag (`--tag assignment`).
 */
import { chmod, mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import proto from '@temporalio/proto';
import { patchProtobufRoot } from '@temporalio/proto/lib/patch-protobuf-root.js';
import { withImap } from '../activities/imap.js';
import { buildApp } from '../api/app.js';
import { poolChanged, requestAssignment } from '../clients/assigner.js';
import { startMailboxWatcher } from '../clients/mailbox-watchers.js';
import { newSecretsKey, parseSecretsKey, secretBox } from '../config/secret-box.js';
import { assignerWorkflowId, emailWorkflowId, mailboxWorkflowId, type EmailRef } from '../contracts/workflow-ids.js';
import { ensureAdminKey, newKey } from '../db/api-keys.js';
import { createSql } from '../db/client.js';
import type { ImapSettings } from '../db/mailboxes.js';
import { migrate } from '../db/migrate.js';
import { poolKey, type PoolRef } from '../domain/distribution.js';
import type { RecordedOutcome } from '../domain/email-outcome.js';
import { seedDemo, viaInject } from '../stack/demo-seed.js';
import { appendMail, startDovecot } from '../stack/dovecot.js';
import { startEmbeddedPostgres } from '../stack/embedded-postgres.js';
import { freePort } from '../stack/free-port.js';
import { ensureTemporalCli } from '../stack/temporal-cli.js';
import { startDevServer } from '../stack/temporal-dev-server.js';
import { createWorker } from '../workers/create-worker.js';
import { installRuntime } from '../workers/runtime.js';
import { loadWorkflowBundle } from '../workers/workflow-bundle.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const OUT_DIR = resolve(ROOT, 'test/workflows/histories');
const TASK_QUEUE = 'record-histories';

const { values } = parseArgs({ options: { tag: { type: 'string' } } });
const tag = values.tag ? `.${values.tag}` : '';
if (tag && !/^\.[\w-]+$/.test(tag)) throw new Error(`--tag: letters, digits, - and _ only, not ${JSON.stringify(values.tag)}`);

const CASES = [
  'processEmail-ticket-created-new-customer',
  'processEmail-ticket-created-known-customer',
  'processEmail-pre-ticket',
  'processEmail-quarantined-no-sender',
  'processEmail-ignored-duplicate',
  'watchMailbox-continued-as-new',
  'assignPool-continued-as-new',
] as const;
type Case = (typeof CASES)[number];
const fileOf = (c: Case) => join(OUT_DIR, `${c}${tag}.json`);

// Refuse before starting anything: stored histories are never replaced.
const taken = [];
for (const c of CASES) if (await stat(fileOf(c)).then(() => true, () => false)) taken.push(relative(ROOT, fileOf(c)));
if (taken.length) {
  console.error(`already recorded: ${taken.join(', ')}\nkeep them (they must keep replaying) and record next to them: --tag <name>`);
  process.exit(2);
}

const log = (m: string) => console.log(`[record-histories] ${m}`);
installRuntime('WARN', { coreLevel: 'ERROR' });

const stops: (() => Promise<unknown>)[] = [];
try {
  const pgDir = await mkdtemp(join(tmpdir(), 'mailtrack-record-'));
  stops.push(() => rm(pgDir, { recursive: true, force: true }));
  await chmod(pgDir, 0o755); // PostgreSQL runs as its own user when we are root.
  const cli = await ensureTemporalCli({ projectRoot: ROOT, explicitPath: process.env.TEMPORAL_CLI_PATH || undefined, log });
  const [temporal, db, dovecot] = await Promise.all([
    freePort().then((port) => startDevServer({ cli, port })),
    freePort().then((port) => startEmbeddedPostgres({ dir: join(pgDir, 'data'), port, database: 'record' })),
    startDovecot(),
  ]);
  stops.push(temporal.stop, db.stop, dovecot.stop);
  await migrate(db.url);
  const sql = createSql(db.url, { max: 10 });
  stops.push(() => sql.end());
  const secrets = secretBox(parseSecretsKey(newSecretsKey()));
  const bundle = await loadWorkflowBundle(resolve(ROOT, '.cache'));
  const { worker, connection: workerConnection } = await createWorker({ temporalAddress: temporal.address, namespace: 'default', taskQueue: TASK_QUEUE, sql, secrets, workflowBundle: bundle });
  const running = worker.run();
  stops.push(async () => {
    worker.shutdown();
    await running;
    await workerConnection.close();
  });
  const connection = await Connection.connect({ address: temporal.address });
  stops.push(() => connection.close());
  const client = new Client({ connection });
  const app = await buildApp({ sql, temporal: { client, taskQueue: TASK_QUEUE, mailboxIdleSeconds: 30 }, secrets });
  stops.push(() => app.close());
  const adminKey = newKey();
  await ensureAdminKey(sql, adminKey);
  const api = viaInject(app, adminKey);
  log(`up: Temporal ${temporal.address}, PostgreSQL, Dovecot ${dovecot.host}:${dovecot.port}`);

  const account = dovecot.users[0]!;
  const folder = async (name: string): Promise<ImapSettings> => {
    const imap = { host: dovecot.host, port: dovecot.port, tls: false, user: account.user, secret: account.password, folder: name };
    await withImap(imap, (c) => c.mailboxCreate(name));
    return imap;
  };
  // Configured through the API as an admin does it; an active mailbox's watcher starts with it.
  const [autoImap, triageImap, rollingImap] = [await folder('Auto'), await folder('Triage'), await folder('Rolling')];
  const auto = await seedDemo(api, autoImap, { suffix: '-auto' });
  const triage = await seedDemo(api, triageImap, { suffix: '-triage', autoConvert: false });
  // Inactive: its watcher is started below with one round per run.
  const rolling = await seedDemo(api, rollingImap, { suffix: '-rolling', activeMailbox: false });

  const record = async (c: Case, handle: WorkflowHandle, lastEvent: 'workflowExecutionCompletedEventAttributes' | 'workflowExecutionContinuedAsNewEventAttributes') => {
    const history = await handle.fetchHistory();
    const events = history.events ?? [];
    if (!events.at(-1)?.[lastEvent]) throw new Error(`${c}: the history of ${handle.workflowId} does not end with ${lastEvent}`);
    await mkdir(OUT_DIR, { recursive: true });
    // Stack traces in failures name this machine's paths: the files keep the project's relative ones.
    const json = `${historyToJSON(history).replaceAll(`${ROOT.replace(/\/$/, '')}/`, '')}\n`;
    await writeFile(fileOf(c), json);
    log(`${relative(ROOT, fileOf(c))}: ${events.length} events, ${(json.length / 1024).toFixed(1)} KB`);
  };
  const emailCase = async (c: Case, ref: EmailRef, expected: RecordedOutcome['outcome']) => {
    const handle = client.workflow.getHandle(emailWorkflowId(ref));
    await eventually(() => handle.describe().then(() => true, () => undefined), `workflow ${handle.workflowId}`);
    const outcome = (await handle.result()) as RecordedOutcome;
    if (outcome.outcome !== expected) throw new Error(`${c}: expected ${expected}, got ${JSON.stringify(outcome)}`);
    await record(c, handle, 'workflowExecutionCompletedEventAttributes');
    return outcome;
  };

  // A new customer, named after the local part of the address.
  const newCustomer = rawMail({ from: 'Antonio Carlos <Antonio.Carlos@new.example>', subject: 'Printer on fire', body: 'It smokes.', messageId: '<printer-on-fire@record.example>' });
  const newOutcome = await emailCase('processEmail-ticket-created-new-customer', { mailboxId: auto.mailboxId, ...(await appendMail(autoImap, newCustomer)) }, 'ticket_created');

  // A customer registered beforehand, matched by e-mail whatever the case.
  const known = await api('POST', '/customers', { name: 'Maria Known', email: 'maria@known.example', regionId: auto.regionId });
  if (known.status !== 201) throw new Error(`POST /customers answered ${known.status}: ${JSON.stringify(known.body)}`);
  const knownRef = { mailboxId: auto.mailboxId, ...(await appendMail(autoImap, rawMail({ from: 'MARIA@Known.example', subject: 'Known sender', messageId: '<known-sender@record.example>' }))) };
  const knownOutcome = await emailCase('processEmail-ticket-created-known-customer', knownRef, 'ticket_created');
  const ticket = await api('GET', `/tickets/${knownOutcome.protocol}`);
  const customerId = (ticket.body as { customer?: { id?: number } }).customer?.id;
  if (customerId !== (known.body as { id: number }).id) throw new Error(`the known sender's ticket is for customer ${customerId}, not ${(known.body as { id: number }).id}`);

  // Automatic conversion off: a pre-ticket.
  await emailCase('processEmail-pre-ticket', { mailboxId: triage.mailboxId, ...(await appendMail(triageImap, rawMail({ subject: 'Triage me', messageId: '<triage-me@record.example>' }))) }, 'pre_ticket');

  // No From header: quarantined (parseEmail refuses it).
  await emailCase('processEmail-quarantined-no-sender', { mailboxId: auto.mailboxId, ...(await appendMail(autoImap, rawMail({ from: '', subject: 'Nobody sent this', messageId: '<no-sender@record.example>' }))) }, 'quarantined');

  // The first message delivered again (same Message-ID, new UID): ignored.
  await emailCase('processEmail-ignored-duplicate', { mailboxId: auto.mailboxId, ...(await appendMail(autoImap, newCustomer)) }, 'ignored');

  // The watcher's first run: one round (a waiting message, its child workflow, the cursor), then continue-as-new.
  const rollingRef = { mailboxId: rolling.mailboxId, ...(await appendMail(rollingImap, rawMail({ subject: 'Round one', messageId: '<round-one@record.example>' }))) };
  const first = await startMailboxWatcher({ client, taskQueue: TASK_QUEUE, idleSeconds: 5, mailboxId: rolling.mailboxId, roundsPerRun: 1 });
  const firstRun = client.workflow.getHandle(mailboxWorkflowId(rolling.mailboxId), first.firstExecutionRunId);
  await eventually(async () => ((await firstRun.describe()).status.name === 'CONTINUED_AS_NEW' ? true : undefined), 'the watcher to continue as new');
  await record('watchMailbox-continued-as-new', firstRun, 'workflowExecutionContinuedAsNewEventAttributes');
  const started = (await firstRun.fetchHistory()).events?.some((e) => e.startChildWorkflowExecutionInitiatedEventAttributes?.workflowId === emailWorkflowId(rollingRef));
  if (!started) throw new Error('the recorded watcher run did not start the e-mail workflow');

  // The assigner's first run: started by a request (update-with-start), the pool loaded and the
  // answer written; told the pool changed, it reloads before the second request; its limit of
  // two requests a run reached, it continues as new.
  const pool: PoolRef = { kind: 'sector', id: auto.sectorId };
  // The API names tickets by protocol; the assigner takes their database id.
  const ticketOf = async (protocol: string) => {
    const [row] = await sql<{ id: number }[]>`SELECT id FROM ticket WHERE protocol = ${protocol}`;
    if (!row) throw new Error(`no ticket ${protocol}`);
    return { ticketId: row.id, protocol };
  };
  const ask = async (protocol: string) => requestAssignment({ client, taskQueue: TASK_QUEUE, pool, request: await ticketOf(protocol), requestsPerRun: 2 });
  const firstAnswer = await ask(newOutcome.protocol!);
  const assigner = client.workflow.getHandle(assignerWorkflowId(poolKey(pool)));
  const assignerRun = client.workflow.getHandle(assigner.workflowId, (await assigner.describe()).runId);
  await poolChanged(client, pool, 'histories: a member changed');
  const secondAnswer = await ask(knownOutcome.protocol!);
  if (firstAnswer.userId === null || secondAnswer.userId === null) throw new Error(`the assigner found nobody: ${JSON.stringify([firstAnswer, secondAnswer])}`);
  await eventually(async () => ((await assignerRun.describe()).status.name === 'CONTINUED_AS_NEW' ? true : undefined), 'the assigner to continue as new');
  await record('assignPool-continued-as-new', assignerRun, 'workflowExecutionContinuedAsNewEventAttributes');

  await assigner.terminate('histories recorded');
  for (const m of [auto, triage, rolling]) await client.workflow.getHandle(mailboxWorkflowId(m.mailboxId)).terminate('histories recorded');
  log('done');
} finally {
  for (const s of stops.reverse()) await s().catch((e: unknown) => console.error(e));
}

/**
 * What `historyToJSON` of @temporalio/common writes (proto JSON, as `temporal workflow show
 * --output json` does). Not that function itself: npm installs @temporalio/common and
 * @temporalio/proto (1.24) each with its own copy of protobufjs 8, and protobufjs's protojson
 * refuses the other copy's types ("type must be a Type"); so this uses @temporalio/proto's copy.
 */
function historyToJSON(history: proto.temporal.api.history.v1.IHistory): string {
  const protoRequire = createRequire(createRequire(import.meta.url).resolve('@temporalio/proto'));
  const { toJson } = protoRequire('protobufjs/ext/protojson') as { toJson(type: unknown, message: unknown): unknown };
  const historyType = (patchProtobufRoot(proto) as unknown as { lookupType(name: string): unknown }).lookupType('temporal.api.history.v1.History');
  return JSON.stringify(toJson(historyType, proto.temporal.api.history.v1.History.fromObject(history)), null, 2);
}

function rawMail(m: { from?: string; subject: string; body?: string; messageId: string }): string {
  return [
    ...(m.from === '' ? [] : [`From: ${m.from ?? 'Test Sender <sender@example.com>'}`]),
    'To: support@mailtrack.test',
    `Subject: ${m.subject}`,
    'Date: Mon, 02 Mar 2026 12:00:00 +0000',
    `Message-ID: ${m.messageId}`,
    'Content-Type: text/plain; charset=utf-8',
    '',
    m.body ?? 'Test body',
    '',
  ].join('\r\n');
}

async function eventually<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
