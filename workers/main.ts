import { resolve } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { ensureMailboxWatchers } from '../clients/mailbox-watchers.js';
import { loadEnv, requireSetting } from '../config/env.js';
import { parseSecretsKey, secretBox } from '../config/secret-box.js';
import { createSql } from '../db/client.js';
import { migrate } from '../db/migrate.js';
import { createWorker } from './create-worker.js';
import { installRuntime, sdkLogLevel } from './runtime.js';
import { loadWorkflowBundle } from './workflow-bundle.js';

/**
 * A production worker process: connects to an existing Temporal cluster and PostgreSQL.
 * Run as many as you like; they share the task queue. Each makes sure every active mailbox
 * has its watcher (idempotent), so a fresh cluster starts reading mail by itself.
 */
const env = loadEnv();
installRuntime(sdkLogLevel(env.LOG_LEVEL));
const databaseUrl = requireSetting(env, 'DATABASE_URL');
const temporalAddress = requireSetting(env, 'TEMPORAL_ADDRESS');
const secrets = secretBox(parseSecretsKey(requireSetting(env, 'SECRETS_KEY')));
await migrate(databaseUrl);
const sql = createSql(databaseUrl);
const workflowBundle = await loadWorkflowBundle(resolve(env.DATA_DIR, 'cache'));
const { worker, connection: workerConnection } = await createWorker({
  temporalAddress,
  namespace: env.TEMPORAL_NAMESPACE,
  taskQueue: env.TEMPORAL_TASK_QUEUE,
  sql,
  secrets,
  alerts: { smtp: env.SMTP_URL ? { url: env.SMTP_URL, from: env.ALERT_FROM } : undefined, publicUrl: env.PUBLIC_URL },
  maxCachedWorkflows: env.WORKER_MAX_CACHED_WORKFLOWS,
  workflowBundle,
});
const connection = await Connection.connect({ address: temporalAddress });
await ensureMailboxWatchers({
  client: new Client({ connection, namespace: env.TEMPORAL_NAMESPACE }),
  sql,
  taskQueue: env.TEMPORAL_TASK_QUEUE,
  idleSeconds: env.MAILBOX_IDLE_SECONDS,
});
await connection.close();
// The SDK's Runtime stops the worker on SIGINT/SIGTERM; run() resolves once it has drained.
await worker.run();
await workerConnection.close();
await sql.end({ timeout: 5 });
