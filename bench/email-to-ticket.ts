/**
 * Throughput and latency of the whole path, on real parts: N e-mails APPENDed to Dovecot in
 * one burst → tickets in PostgreSQL, through a Temporal dev server (in memory) and one worker.
 *
 *   npx tsx bench/email-to-ticket.ts [--mails 200]
 *
 * Prints e-mails/s for the burst and the median and p95 of append → ticket latency, then the
 * latency of single e-mails sent one at a time into an idle engine (IMAP IDLE pickup).
 */
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { ImapFlow } from 'imapflow';
import { newSecretsKey, parseSecretsKey, secretBox } from '../config/secret-box.js';
import { createSql } from '../db/client.js';
import { migrate } from '../db/migrate.js';
import { seedDemo, viaInject } from '../stack/demo-seed.js';
import { buildApp } from '../api/app.js';
import { ensureAdminKey, newKey } from '../db/api-keys.js';
import { startDovecot } from '../stack/dovecot.js';
import { startEmbeddedPostgres } from '../stack/embedded-postgres.js';
import { freePort } from '../stack/free-port.js';
import { ensureTemporalCli } from '../stack/temporal-cli.js';
import { startDevServer } from '../stack/temporal-dev-server.js';
import { createWorker } from '../workers/create-worker.js';
import { loadWorkflowBundle } from '../workers/workflow-bundle.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const { values } = parseArgs({ options: { mails: { type: 'string', default: '200' } } });
const N = Number(values.mails);

const quantile = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))]!;

const pgDir = await mkdtemp(join(tmpdir(), 'mailtrack-bench-'));
await chmod(pgDir, 0o755);
const cli = await ensureTemporalCli({ projectRoot: ROOT, explicitPath: process.env.TEMPORAL_CLI_PATH || undefined });
const [temporal, db, dovecot] = await Promise.all([
  freePort().then((port) => startDevServer({ cli, port })),
  freePort().then((port) => startEmbeddedPostgres({ dir: join(pgDir, 'data'), port, database: 'bench' })),
  startDovecot(),
]);
await migrate(db.url);
const sql = createSql(db.url, { max: 20 });
const imap = { host: dovecot.host, port: dovecot.port, tls: false, user: 'support', secret: 'support-secret', folder: 'INBOX' };
const secrets = secretBox(parseSecretsKey(newSecretsKey()));
const bundle = await loadWorkflowBundle(resolve(ROOT, '.cache'));
const { worker, connection: workerConnection } = await createWorker({ temporalAddress: temporal.address, namespace: 'default', taskQueue: 'bench', sql, secrets, workflowBundle: bundle });
const running = worker.run();
const connection = await Connection.connect({ address: temporal.address });
const client = new Client({ connection });
// Configured through the API, as npm start does; creating the mailbox starts its watcher.
const app = await buildApp({ sql, temporal: { client, taskQueue: 'bench', mailboxIdleSeconds: 60 }, secrets });
const adminKey = newKey();
await ensureAdminKey(sql, adminKey);
await seedDemo(viaInject(app, adminKey), imap);
await app.close();

const imapClient = new ImapFlow({ host: imap.host, port: imap.port, secure: false, auth: { user: imap.user, pass: imap.secret }, logger: false });
await imapClient.connect();
const appendedAt = new Map<string, number>();
const t0 = Date.now();
for (let i = 0; i < N; i++) {
  const subject = `bench ${i}`;
  await imapClient.append('INBOX', `From: sender${i % 50}@bench.example\r\nSubject: ${subject}\r\nMessage-ID: <bench-${i}@bench>\r\n\r\nbody ${i}\r\n`);
  appendedAt.set(subject, Date.now());
}
const appendMs = Date.now() - t0;

async function waitForTickets(count: number) {
  for (;;) {
    const [row] = await sql<{ n: number }[]>`SELECT count(*)::int AS n FROM ticket`;
    if (row!.n >= count) return;
    await new Promise((r) => setTimeout(r, 20));
  }
}
await waitForTickets(N);
const totalMs = Date.now() - t0;
const rows = await sql<{ subject: string; created_at: Date }[]>`SELECT subject, created_at FROM ticket`;
const latencies = rows.map((r) => r.created_at.getTime() - appendedAt.get(r.subject)!);

console.log(`machine: ${cpus().length} cores, ${cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.versions.node}`);
console.log(`e-mails: ${N} appended in ${appendMs} ms; all tickets after ${totalMs} ms`);
console.log(`throughput: ${((N * 1000) / totalMs).toFixed(1)} e-mails/s (burst, one worker)`);
console.log(`append → ticket latency in the burst: median ${quantile(latencies, 0.5)} ms, p95 ${quantile(latencies, 0.95)} ms, max ${Math.max(...latencies)} ms`);

const SINGLES = 20;
const single: number[] = [];
for (let i = 0; i < SINGLES; i++) {
  const subject = `single ${i}`;
  const sent = Date.now();
  await imapClient.append('INBOX', `From: single${i}@bench.example\r\nSubject: ${subject}\r\nMessage-ID: <single-${i}@bench>\r\n\r\nbody\r\n`);
  await waitForTickets(N + i + 1);
  single.push(Date.now() - sent);
}
await imapClient.logout();
console.log(`single e-mail into an idle engine, append → ticket: median ${quantile(single, 0.5)} ms, p95 ${quantile(single, 0.95)} ms (${SINGLES} e-mails)`);

worker.shutdown();
await running;
await workerConnection.close();
await connection.close();
await sql.end();
await Promise.all([temporal.stop(), db.stop(), dovecot.stop()]);
await rm(pgDir, { recursive: true, force: true });
