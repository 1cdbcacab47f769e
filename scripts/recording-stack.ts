/**
 * What the history recorders (scripts/record-histories.ts, scripts/record-inbound-histories.ts)
 * share: the real parts they run the workflows on, and the file format they write.
 */
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { withImap } from '../activities/imap.js';
import { buildApp } from '../api/app.js';
import { newSecretsKey, parseSecretsKey, secretBox } from '../config/secret-box.js';
import { ensureAdminKey, newKey } from '../db/api-keys.js';
import { createSql, type Sql } from '../db/client.js';
import type { ImapSettings } from '../db/mailboxes.js';
import { migrate } from '../db/migrate.js';
import { viaInject, type ApiCall } from '../stack/demo-seed.js';
import { startDovecot, type Dovecot } from '../stack/dovecot.js';
import { startEmbeddedPostgres } from '../stack/embedded-postgres.js';
import { freePort } from '../stack/free-port.js';
import { ensureTemporalCli } from '../stack/temporal-cli.js';
import { startDevServer } from '../stack/temporal-dev-server.js';
import { createWorker } from '../workers/create-worker.js';
import { installRuntime } from '../workers/runtime.js';
import { loadWorkflowBundle } from '../workers/workflow-bundle.js';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
export { storedHistoryJson } from '../workers/stored-history.js';
export { eventually } from '../stack/eventually.js';
export const OUT_DIR = resolve(ROOT, 'test/workflows/histories');

/** Received by the recording's SMTP server: the recipients and Message-ID of each message. */
export interface SmtpReceiver {
  url: string;
  messages: { to: string; messageId: string }[];
  received(): number;
  close(): Promise<void>;
}

export interface RecordingStack {
  sql: Sql;
  client: Client;
  app: FastifyInstance;
  /** The API as an admin. */
  api: ApiCall;
  dovecot: Dovecot;
  /** Where the worker's mail (acknowledgements, alerts) goes. */
  smtp: SmtpReceiver;
  /** A new folder of Dovecot's first user. */
  folder(name: string): Promise<ImapSettings>;
  /** Run in reverse order when the recording ends; a recorder adds its own. */
  stops: (() => Promise<unknown>)[];
}

/**
 * A Temporal dev server in memory, embedded PostgreSQL (migrated), Dovecot, an SMTP receiver,
 * one worker on `taskQueue` with the product's bundle and activities, and the API. The caller
 * runs `stops` in a `finally`, including when this throws half-way (it fills them as it goes).
 */
export async function startRecordingStack(opts: { name: string; taskQueue: string; log: (m: string) => void; stops: (() => Promise<unknown>)[] }): Promise<RecordingStack> {
  const { stops, log } = opts;
  installRuntime('WARN', { coreLevel: 'ERROR' });
  const pgDir = await mkdtemp(join(tmpdir(), `mailtrack-${opts.name}-`));
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
  const alerts = { smtp: { url: smtp.url, from: 'Mailtrack <alerts@record.example>' } };
  const { worker, connection: workerConnection } = await createWorker({ temporalAddress: temporal.address, namespace: 'default', taskQueue: opts.taskQueue, sql, secrets, workflowBundle: bundle, alerts });
  const running = worker.run();
  stops.push(async () => {
    worker.shutdown();
    await running;
    await workerConnection.close();
  });
  const connection = await Connection.connect({ address: temporal.address });
  stops.push(() => connection.close());
  const client = new Client({ connection });
  const app = await buildApp({ sql, temporal: { client, taskQueue: opts.taskQueue, mailboxIdleSeconds: 30 }, secrets });
  stops.push(() => app.close());
  const adminKey = newKey();
  await ensureAdminKey(sql, adminKey);
  log(`up: Temporal ${temporal.address}, PostgreSQL, Dovecot ${dovecot.host}:${dovecot.port}`);
  const account = dovecot.users[0]!;
  const folder = async (name: string): Promise<ImapSettings> => {
    const imap = { host: dovecot.host, port: dovecot.port, tls: false, user: account.user, secret: account.password, folder: name };
    await withImap(imap, (c) => c.mailboxCreate(name));
    return imap;
  };
  return { sql, client, app, api: viaInject(app, adminKey), dovecot, smtp, folder, stops };
}

/** A plain-text message; `from: ''` leaves the From header out. */
export function rawMail(m: { from?: string; subject: string; body?: string; messageId: string; headers?: string[] }): string {
  return [
    ...(m.from === '' ? [] : [`From: ${m.from ?? 'Test Sender <sender@example.com>'}`]),
    'To: support@mailtrack.test',
    `Subject: ${m.subject}`,
    'Date: Mon, 02 Mar 2026 12:00:00 +0000',
    `Message-ID: ${m.messageId}`,
    ...(m.headers ?? []),
    'Content-Type: text/plain; charset=utf-8',
    '',
    m.body ?? 'Test body',
    '',
  ].join('\r\n');
}

/** An SMTP server on loopback that accepts every message. */
async function startSmtpReceiver(): Promise<SmtpReceiver> {
  const messages: { to: string; messageId: string }[] = [];
  let count = 0;
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, callback) {
      simpleParser(stream).then(
        (mail) => {
          count++;
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
  const { port } = server.server.address() as AddressInfo;
  return { url: `smtp://127.0.0.1:${port}`, messages, received: () => count, close: () => new Promise<void>((ok) => server.close(() => ok())) };
}

/** An HTTP receiver on loopback that answers 200 to every call (the alerts' webhook), counting them. */
export async function startWebhookReceiver(): Promise<{ url: string; received: () => number; close: () => Promise<void> }> {
  let count = 0;
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      count++;
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    });
  });
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => ok());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    received: () => count,
    close: () =>
      new Promise<void>((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}
