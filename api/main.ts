import { Client, Connection } from '@temporalio/client';
import { loadEnv, requireSetting } from '../config/env.js';
import { parseSecretsKey, secretBox } from '../config/secret-box.js';
import { ensureAdminKey } from '../db/api-keys.js';
import { createSql } from '../db/client.js';
import { migrate } from '../db/migrate.js';
import { buildApp } from './app.js';

/** A production API process; stateless, so run as many behind a load balancer as needed. */
const env = loadEnv();
const databaseUrl = requireSetting(env, 'DATABASE_URL');
const secrets = secretBox(parseSecretsKey(requireSetting(env, 'SECRETS_KEY')));
await migrate(databaseUrl);
const sql = createSql(databaseUrl);
// The first admin key of a new installation: ADMIN_API_KEY becomes a valid admin key (idempotent).
if (env.ADMIN_API_KEY) await ensureAdminKey(sql, env.ADMIN_API_KEY);
const connection = await Connection.connect({ address: requireSetting(env, 'TEMPORAL_ADDRESS') });
const temporal = { client: new Client({ connection, namespace: env.TEMPORAL_NAMESPACE }), taskQueue: env.TEMPORAL_TASK_QUEUE, mailboxIdleSeconds: env.MAILBOX_IDLE_SECONDS };
const app = await buildApp({ sql, temporal, secrets }, { logger: { level: env.LOG_LEVEL } });
await app.listen({ host: env.API_HOST, port: env.API_PORT });

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void app
      .close()
      .then(() => connection.close())
      .then(() => sql.end({ timeout: 5 }))
      .then(() => process.exit(0));
  });
}
