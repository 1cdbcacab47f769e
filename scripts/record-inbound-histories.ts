/**
 * Records the histories of the e-mail workflow's inbound paths (issue 8: behind
 * patched('inbound-threading')) that `test/workflows/replay.test.ts` replays, next to those of
 * `scripts/record-histories.ts` and in the same format: automatic mail ignored, a bounce of our
 * acknowledgement linked to its ticket, a ticket acknowledged, a reply appended (and its
 * ticket's workflow told), a reply to a closed ticket opening a linked one, an e-mail past its
 * sender's hourly limit, a pre-ticket and a quarantine on the new path; and the pre-ticket
 * converted through the API (the workflow `convertPreTicket`, SPEC §4.5).
 *
 *   npx tsx scripts/record-inbound-histories.ts [--tag <name>]
 *
 * Writes `test/workflows/histories/processEmail-<case>[.<tag>].json`: without a tag for the
 * cases that have no history stored yet in any generation, with one (after a workflow change)
 * for every case not yet recorded under it; never overwrites one (the old ones must keep replaying).
 */
import { chmod, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import proto from '@temporalio/proto';
import { patchProtobufRoot } from '@temporalio/proto/lib/patch-protobuf-root.js';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { withImap } from '../activities/imap.js';
import { buildApp } from '../api/app.js';
import { newSecretsKey, parseSecretsKey, secretBox } from '../config/secret-box.js';
import { ticketViewQuery } from '../contracts/ticket.js';
import { emailWorkflowId, mailboxWorkflowId, ticketWorkflowId, type EmailRef } from '../contracts/workflow-ids.js';
import { ensureAdminKey, newKey } from '../db/api-keys.js';
import { createSql } from '../db/client.js';
import type { ImapSettings } from '../db/mailboxes.js';
import { migrate } from '../db/migrate.js';
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
const TASK_QUEUE = 'record-inbound-histories';
/** The inbound path's patch, or a later one that implies it. */
const PATCHES = ['inbound-threading', 'email-steps-together'];

const { values } = parseArgs({ options: { tag: { type: 'string' } } });
const tag = values.tag ? `.${values.tag}` : '';
if (tag && !/^\.[\w-]+$/.test(tag)) throw new Error(`--tag: letters, digits, - and _ only, not ${JSON.stringify(values.tag)}`);

const CASES = [
  'processEmail-ignored-automatic',
  'processEmail-ticket-created-acknowledged',
  'processEmail-ignored-bounce-linked',
  'processEmail-appended-reply',
  'processEmail-ticket-created-follow-up',
  'processEmail-appended-sender-limit',
  'processEmail-pre-ticket-inbound',
  'processEmail-quarantined-inbound',
  'convertPreTicket-converted',
] as const;
type Case = (typeof CASES)[number];
// Without a tag, the cases never recorded; with one, a new generation of every case not recorded under that tag.
const storedFiles = (await readdir(OUT_DIR).catch(() => [] as string[])).filter((f) => f.endsWith('.json'));
const storedCases = new Set(tag ? storedFiles.map((f) => f.slice(0, -'.json'.length)) : storedFiles.map((f) => f.split('.')[0]!));
const wanted = new Set<Case>(CASES.filter((c) => !storedCases.has(`${c}${tag}`)));
if (wanted.size === 0) {
  console.error('every inbound case has a stored history already');
  process.exit(2);
}

const log = (m: string) => console.log(`[record-inbound-histories] ${m}`);
installRuntime('WARN', { coreLevel: 'ERROR' });
const stops: (() => Promise<unknown>)[] = [];
try {
  const pgDir = await mkdtemp(join(tmpdir(), 'mailtrack-record-inbound-'));
  stops.push(() => rm(pgDir, { recursive: true, force: true }));
  await chmod(pgDir, 0o755); // PostgreSQL runs as its own user when we are root.
  const cli = await ensureTemporalCli({ projectRoot: ROOT, explicitPath: process.env.TEMPORAL_CLI_PATH || undefined, log });
  const [temporal, db, dovecot] = await Promise.all([
    freePort().then((port) => startDevServer({ cli, port })),
    freePort().then((port) => startEmbeddedPostgres({ dir: join(pgDir, 'data'), port, database: 'record' })),
    startDovecot(),
  ]);
  stops.push(temporal.stop, db.stop, dovecot.stop);
  const smtp = await startSmtpReceiver();
  stops.push(smtp.close);
  await migrate(db.url);
  const sql = createSql(db.url, { max: 10 });
  stops.push(() => sql.end());
  const secrets = secretBox(parseSecretsKey(newSecretsKey()));
  const bundle = await loadWorkflowBundle(resolve(ROOT, '.cache'));
  const from = 'Mailtrack <alerts@record.example>';
  const { worker, connection: workerConnection } = await createWorker({ temporalAddress: temporal.address, namespace: 'default', taskQueue: TASK_QUEUE, sql, secrets, workflowBundle: bundle, alerts: { smtp: { url: smtp.url, from } } });
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

  const account = dovecot.users[0]!;
  const folder = async (name: string): Promise<ImapSettings> => {
    const imap = { host: dovecot.host, port: dovecot.port, tls: false, user: account.user, secret: account.password, folder: name };
    await withImap(imap, (c) => c.mailboxCreate(name));
    return imap;
  };
  const [autoImap, triageImap] = [await folder('Inbound'), await folder('InboundTriage')];
  const auto = await seedDemo(api, autoImap, { suffix: '-inbound' });
  const triage = await seedDemo(api, triageImap, { suffix: '-inbound-triage', autoConvert: false });
  await sql`UPDATE mailbox SET acknowledge = true, sender_ticket_limit = 2 WHERE id = ${auto.mailboxId}`;

  /** Appends the message, waits for its outcome, checks it and the patch marker, and writes the history if the case is wanted. */
  const emailCase = async (c: Case, imap: ImapSettings, mailboxId: number, raw: string, expected: RecordedOutcome['outcome']): Promise<RecordedOutcome> => {
    const ref: EmailRef = { mailboxId, ...(await appendMail(imap, raw)) };
    const handle = client.workflow.getHandle(emailWorkflowId(ref));
    await eventually(() => handle.describe().then(() => true, () => undefined), handle.workflowId);
    const outcome = (await handle.result()) as RecordedOutcome;
    if (outcome.outcome !== expected) throw new Error(`${c}: expected ${expected}, got ${JSON.stringify(outcome)}`);
    const history = await handle.fetchHistory();
    const markers = (history.events ?? []).flatMap((e) => Object.values(e.markerRecordedEventAttributes?.details ?? {}).flatMap((p) => p.payloads ?? []).map((p) => Buffer.from(p.data ?? []).toString('utf8')));
    if (!markers.some((m) => PATCHES.some((p) => m.includes(p)))) throw new Error(`${c}: no ${PATCHES.join(' or ')} marker in the history (${markers.join(' ')})`);
    if (wanted.has(c)) {
      await mkdir(OUT_DIR, { recursive: true });
      const file = join(OUT_DIR, `${c}${tag}.json`);
      const json = `${historyToJSON(history).replaceAll(`${ROOT.replace(/\/$/, '')}/`, '')}\n`;
      await writeFile(file, json, { flag: 'wx' });
      log(`${relative(ROOT, file)}: ${history.events?.length} events`);
    }
    return outcome;
  };

  await emailCase('processEmail-ignored-automatic', autoImap, auto.mailboxId, rawMail({ from: 'Ana Away <away@customer.example>', subject: 'Out of office', messageId: '<away@record.example>', headers: ['Auto-Submitted: auto-replied'] }), 'ignored');

  const opened = await emailCase('processEmail-ticket-created-acknowledged', autoImap, auto.mailboxId, rawMail({ from: 'Bia <bia@customer.example>', subject: 'Cannot log in', messageId: '<cannot-log-in@record.example>' }), 'ticket_created');
  const ack = await eventually(async () => smtp.messages.find((m) => m.to === 'bia@customer.example'), 'the acknowledgement');

  const bounce = [
    'From: Mail Delivery System <MAILER-DAEMON@mx.customer.example>',
    'To: alerts@record.example',
    'Subject: Undelivered Mail Returned to Sender',
    'Date: Mon, 02 Mar 2026 12:00:00 +0000',
    'Message-ID: <bounce@mx.customer.example>',
    'MIME-Version: 1.0',
    'Content-Type: multipart/report; report-type=delivery-status; boundary="b1"',
    '',
    '--b1',
    'Content-Type: message/delivery-status',
    '',
    'Reporting-MTA: dns; mx.customer.example',
    '',
    'Final-Recipient: rfc822; bia@customer.example',
    'Action: failed',
    'Status: 5.2.2',
    '--b1',
    'Content-Type: text/rfc822-headers',
    '',
    `Message-ID: ${ack.messageId}`,
    '--b1--',
    '',
  ].join('\r\n');
  const bounced = await emailCase('processEmail-ignored-bounce-linked', autoImap, auto.mailboxId, bounce, 'ignored');
  if (!bounced.reason.includes(opened.protocol!)) throw new Error(`the bounce was not linked to ticket ${opened.protocol}: ${bounced.reason}`);

  await emailCase('processEmail-appended-reply', autoImap, auto.mailboxId, rawMail({ from: 'bia@customer.example', subject: `Re: [#${opened.protocol}] Cannot log in`, messageId: '<reply@record.example>', headers: [`In-Reply-To: ${ack.messageId}`] }), 'appended_to_ticket');

  // The ticket closed through the API; the customer writes again in the old thread.
  const ticketHandle = client.workflow.getHandle(ticketWorkflowId(opened.protocol!));
  await eventually(() => ticketHandle.query(ticketViewQuery).catch(() => undefined), 'the ticket workflow');
  for (const status of ['resolved', 'closed']) {
    const res = await api('POST', `/tickets/${opened.protocol}/status`, { status });
    if (res.status !== 200) throw new Error(`POST /tickets/${opened.protocol}/status ${status}: ${res.status} ${JSON.stringify(res.body)}`);
  }
  await emailCase('processEmail-ticket-created-follow-up', autoImap, auto.mailboxId, rawMail({ from: 'bia@customer.example', subject: 'Re: Cannot log in', messageId: '<late-reply@record.example>', headers: ['In-Reply-To: <cannot-log-in@record.example>'] }), 'ticket_created');
  // Bia's second ticket within the hour; the third e-mail goes to it.
  await emailCase('processEmail-appended-sender-limit', autoImap, auto.mailboxId, rawMail({ from: 'bia@customer.example', subject: 'Another question', messageId: '<another@record.example>' }), 'appended_to_ticket');

  await emailCase('processEmail-pre-ticket-inbound', triageImap, triage.mailboxId, rawMail({ subject: 'Triage me', messageId: '<triage-inbound@record.example>' }), 'pre_ticket');
  // The pre-ticket converted by an admin (SPEC §4.5): the workflow triage:<emailId>, with distribution and the ticket's workflow.
  {
    const c: Case = 'convertPreTicket-converted';
    await sql`UPDATE mailbox SET auto_distribute = true, distribution_target = 'sector' WHERE id = ${triage.mailboxId}`;
    const [pre] = await sql<{ id: number }[]>`SELECT id FROM inbound_email WHERE message_id = '<triage-inbound@record.example>' AND mailbox_id = ${triage.mailboxId}`;
    const res = await api('POST', `/pre-tickets/${pre!.id}/convert`, { occurrenceTypeId: triage.occurrenceTypeId, occurrenceId: triage.occurrenceId });
    if (res.status !== 201) throw new Error(`POST /pre-tickets/${pre!.id}/convert: ${res.status} ${JSON.stringify(res.body)}`);
    const history = await client.workflow.getHandle(`triage:${pre!.id}`).fetchHistory();
    if (wanted.has(c)) {
      const file = join(OUT_DIR, `${c}${tag}.json`);
      await writeFile(file, `${historyToJSON(history).replaceAll(`${ROOT.replace(/\/$/, '')}/`, '')}\n`, { flag: 'wx' });
      log(`${relative(ROOT, file)}: ${history.events?.length} events`);
    }
  }
  await emailCase('processEmail-quarantined-inbound', autoImap, auto.mailboxId, rawMail({ from: '', subject: 'Nobody sent this', messageId: '<nobody-inbound@record.example>' }), 'quarantined');

  for (const m of [auto, triage]) await client.workflow.getHandle(mailboxWorkflowId(m.mailboxId)).terminate('histories recorded');
  log('done');
} finally {
  for (const s of stops.reverse()) await s().catch((e: unknown) => console.error(e));
}

async function eventually<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

function rawMail(m: { from?: string; subject: string; messageId: string; headers?: string[] }): string {
  return [
    ...(m.from === '' ? [] : [`From: ${m.from ?? 'Test Sender <sender@example.com>'}`]),
    'To: support@mailtrack.test',
    `Subject: ${m.subject}`,
    'Date: Mon, 02 Mar 2026 12:00:00 +0000',
    `Message-ID: ${m.messageId}`,
    ...(m.headers ?? []),
    'Content-Type: text/plain; charset=utf-8',
    '',
    'Test body',
    '',
  ].join('\r\n');
}

/** An SMTP server on loopback that keeps the recipient and Message-ID of what it receives (the acknowledgements). */
async function startSmtpReceiver(): Promise<{ url: string; messages: { to: string; messageId: string }[]; close: () => Promise<void> }> {
  const messages: { to: string; messageId: string }[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, callback) {
      simpleParser(stream).then(
        (mail) => {
          for (const r of session.envelope.rcptTo) messages.push({ to: r.address, messageId: mail.messageId ?? '' });
          callback();
        },
        (err: Error) => callback(err),
      );
    },
  });
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => ok());
  });
  const { port } = server.server.address() as { port: number };
  return { url: `smtp://127.0.0.1:${port}`, messages, close: () => new Promise<void>((ok) => server.close(() => ok())) };
}

/** The JSON `temporal workflow show --output json` writes, as scripts/record-histories.ts writes it (see there why with @temporalio/proto's protobufjs). */
function historyToJSON(history: proto.temporal.api.history.v1.IHistory): string {
  const protoRequire = createRequire(createRequire(import.meta.url).resolve('@temporalio/proto'));
  const { toJson } = protoRequire('protobufjs/ext/protojson') as { toJson(type: unknown, message: unknown): unknown };
  const historyType = (patchProtobufRoot(proto) as unknown as { lookupType(name: string): unknown }).lookupType('temporal.api.history.v1.History');
  return JSON.stringify(toJson(historyType, proto.temporal.api.history.v1.History.fromObject(history)), null, 2);
}
