import { loadEnv, requireSetting } from '../config/env.js';
import { createSql } from '../db/client.js';
import { migrate } from '../db/migrate.js';
import { buildApp } from './app.js';

/** A production API process; stateless, so run as many behind a load balancer as needed. */
const env = loadEnv();
const databaseUrl = requireSetting(env, 'DATABASE_URL');
await migrate(databaseUrl);
const sql = createSql(databaseUrl);
const app = await buildApp({ sql }, { logger: { level: env.LOG_LEVEL } });
await app.listen({ host: env.API_HOST, port: env.API_PORT });

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void app
      .close()
      .then(() => sql.end({ timeout: 5 }))
      .then(() => process.exit(0));
  });
}
