import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import type { LogLevel } from '@temporalio/worker';
import { buildApp } from '../api/app.js';
import { ensureMailboxWatchers } from '../clients/mailbox-watchers.js';
import type { Env } from '../config/env.js';
import { parseSecretsKey, secretBox } from '../config/secret-box.js';
import { ensureAdminKey } from '../db/api-keys.js';
import { createSql } from '../db/client.js';
import { migrate } from '../db/migrate.js';
import { createWorker } from '../workers/create-worker.js';
import { installRuntime } from '../workers/runtime.js';
import { loadWorkflowBundle } from '../workers/workflow-bundle.js';
import { DEMO_MAILBOX, startDemoMailbox } from './demo-mailbox.js';
import { seedDemo, viaInject } from './demo-seed.js';
import { localAdminKey, localSecretsKey } from './local-keys.js';
import { startEmbeddedPostgres } from './embedded-postgres.js';
import { stopLeftovers } from './pid-files.js';
import { assertPortsFree } from './ports.js';
import { ensureTemporalCli } from './temporal-cli.js';
import { startDevServer } from './temporal-dev-server.js';
import { startMailCatcher } from './mail-catcher.js';

const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));

function temporalLogLevel(level: Env['LOG_LEVEL']): LogLevel {
  if (level === 'debug' || level === 'trace') return level.toUpperCase() as LogLevel;
  return level === 'error' || level === 'fatal' || level === 'silent' ? 'ERROR' : 'WARN';
}

export interface RunningStack {
  apiUrl: string;
  temporalAddress: string;
  temporalUiUrl?: string;
  stop(): Promise<void>;
}

/**
 * The whole product on one machine: Temporal dev server (or TEMPORAL_ADDRESS), PostgreSQL
 * (DATABASE_URL or embedded), migrations, the demo, one worker and the API. Stops in reverse.
 */
export async function startStack(env: Env, log: (m: string) => void): Promise<RunningStack> {
  const dataDir = resolve(PROJECT_ROOT, env.DATA_DIR);
  await mkdir(dataDir, { recursive: true });
  const stops: [string, () => Promise<unknown>][] = [];
  const stop = async () => {
    for (const [name, fn] of stops.reverse()) {
      // A step that hangs should say so rather than leave the terminal silent.
      const slow = setTimeout(() => log(`still stopping ${name}...`), 5_000);
      await fn().catch((err: unknown) => log(`stopping ${name}: ${String(err)}`));
      clearTimeout(slow);
    }
  };
  const step = async <T>(name: string, fn: () => Promise<T>): Promise<T> => {
    const t0 = Date.now();
    const result = await fn();
    log(`${name} (${Date.now() - t0} ms)`);
    return result;
  };

  // The launcher owns Ctrl-C: it stops the API first, then the worker, then the servers.
  // Installed before anything (the SDK download path) can create the default runtime.
  // Worker lifecycle chatter stays out of the terminal unless LOG_LEVEL asks for it.
  installRuntime(temporalLogLevel(env.LOG_LEVEL), { shutdownSignals: [] });
  try {
    // What an earlier launcher, killed before it could stop them, left running.
    await stopLeftovers(resolve(dataDir, 'run'), log);
    await assertPortsFree({
      API_PORT: env.API_PORT,
      ...(env.TEMPORAL_ADDRESS ? {} : { TEMPORAL_PORT: env.TEMPORAL_PORT, TEMPORAL_UI_PORT: env.TEMPORAL_UI_PORT }),
      ...(env.DATABASE_URL ? {} : { POSTGRES_PORT: env.POSTGRES_PORT }),
      ...(env.DEMO ? { DEMO_IMAP_PORT: env.DEMO_IMAP_PORT } : {}),
    });
    let temporalAddress = env.TEMPORAL_ADDRESS;
    let temporalUiUrl: string | undefined;
    if (!temporalAddress) {
      const cli = await step('Temporal CLI found', () =>
        ensureTemporalCli({ projectRoot: PROJECT_ROOT, explicitPath: env.TEMPORAL_CLI_PATH, log }),
      );
      const server = await step('Temporal dev server up', () =>
        startDevServer({ cli, port: env.TEMPORAL_PORT, uiPort: env.TEMPORAL_UI_PORT, dbFilename: resolve(dataDir, 'temporal.db'), namespace: env.TEMPORAL_NAMESPACE, pidFile: resolve(dataDir, 'run', 'temporal.pid') }),
      );
      stops.push(['the Temporal dev server', server.stop]);
      temporalAddress = server.address;
      temporalUiUrl = server.uiUrl;
    }

    let databaseUrl = env.DATABASE_URL;
    if (!databaseUrl) {
      const db = await step('embedded PostgreSQL up', () =>
        startEmbeddedPostgres({ dir: resolve(dataDir, 'postgres'), port: env.POSTGRES_PORT, database: 'mailtrack', pidFile: resolve(dataDir, 'run', 'postgres.pid') }),
      );
      stops.push(['PostgreSQL', db.stop]);
      databaseUrl = db.url;
    }
    await step('migrations applied', () => migrate(databaseUrl, () => {}));
    const sql = createSql(databaseUrl);
    const secrets = secretBox(parseSecretsKey(await localSecretsKey(dataDir, env.SECRETS_KEY)));
    const admin = await localAdminKey(dataDir, env.ADMIN_API_KEY);
    await ensureAdminKey(sql, admin.key);
    if (admin.created) log(`admin API key (shown once; also in ${admin.file}, readable by you only): ${admin.key}`);
    stops.push(['the database pool', () => sql.end({ timeout: 5 })]);

    const demoMailbox = env.DEMO ? await step('demo mailbox up', () => startDemoMailbox({ port: env.DEMO_IMAP_PORT })) : undefined;
    if (demoMailbox) stops.push(['the demo mailbox', demoMailbox.stop]);

    // Alert e-mail: the configured SMTP server, or a local catcher that saves each message as a file.
    let smtpUrl = env.SMTP_URL;
    if (!smtpUrl) {
      const catcher = await step('alert mail catcher up', () => startMailCatcher(resolve(dataDir, 'mail'), { log }));
      stops.push(['the alert mail catcher', catcher.close]);
      smtpUrl = catcher.url;
    }
    const alerts = { smtp: { url: smtpUrl, from: env.ALERT_FROM }, publicUrl: env.PUBLIC_URL ?? `http://${env.API_HOST}:${env.API_PORT}` };

    const workflowBundle = await step('workflow bundle ready', () => loadWorkflowBundle(resolve(dataDir, 'cache')));
    const { worker, connection: workerConnection } = await step('worker created', () =>
      createWorker({ temporalAddress, namespace: env.TEMPORAL_NAMESPACE, taskQueue: env.TEMPORAL_TASK_QUEUE, sql, secrets, alerts, maxCachedWorkflows: env.WORKER_MAX_CACHED_WORKFLOWS, workflowBundle }),
    );
    const running = worker.run();
    stops.push(['the worker', async () => {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running;
      await workerConnection.close();
    }]);

    const connection = await Connection.connect({ address: temporalAddress });
    stops.push(['the Temporal client', () => connection.close()]);
    const client = new Client({ connection, namespace: env.TEMPORAL_NAMESPACE });
    const temporal = { client, taskQueue: env.TEMPORAL_TASK_QUEUE, mailboxIdleSeconds: env.MAILBOX_IDLE_SECONDS };
    const app = await buildApp({ sql, temporal, secrets }, { logger: { level: env.LOG_LEVEL === 'info' ? 'warn' : env.LOG_LEVEL } });
    stops.push(['the API', () => app.close()]);
    if (demoMailbox) {
      // Through the API, as an admin would: the same validation, rules and watcher start.
      const imap = { host: demoMailbox.host, port: demoMailbox.port, tls: false, user: DEMO_MAILBOX.user, secret: DEMO_MAILBOX.password, folder: DEMO_MAILBOX.folder };
      await step('demo configuration seeded', () => seedDemo(viaInject(app, admin.key), imap));
    }
    const watched = await ensureMailboxWatchers({ client, sql, taskQueue: env.TEMPORAL_TASK_QUEUE, idleSeconds: env.MAILBOX_IDLE_SECONDS });
    log(`watching mailboxes: ${watched.join(', ') || 'none'}`);
    await app.listen({ host: env.API_HOST, port: env.API_PORT });
    return { apiUrl: `http://${env.API_HOST}:${env.API_PORT}`, temporalAddress, temporalUiUrl, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
