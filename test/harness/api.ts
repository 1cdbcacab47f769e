import { randomBytes } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, inject } from 'vitest';
import { buildApp, type App } from '../../api/app.js';
import { createKey, ensureAdminKey } from '../../db/api-keys.js';
import type { Sql } from '../../db/client.js';
import { users } from '../../db/users.js';
import { ROLES, type Role } from '../../domain/roles.js';
import { testSecrets, testSql, uniqueSuffix } from './common.js';

export interface TestApi {
  app: App;
  /** A valid key per role, each of its own user (the admin is the bootstrap admin). */
  keys: Record<Role, string>;
  userIds: Record<Role, number>;
  /** Calls the API with the key of `who` (a role, a key, or 'none' for no header). */
  as(who: Role | 'none' | { key: string }, opts: InjectOptions | string): Promise<LightMyRequestResponse>;
  close(): Promise<void>;
}

/** The app on the test run's PostgreSQL and Temporal, with a key for each role. */
export async function testApi(sql: Sql, opts: { taskQueue?: string } = {}): Promise<TestApi> {
  const connection = await Connection.connect({ address: inject('temporalAddress') });
  const temporal = { client: new Client({ connection }), taskQueue: opts.taskQueue ?? `api${uniqueSuffix()}`, mailboxIdleSeconds: 30 };
  const app = await buildApp({ sql, temporal, secrets: testSecrets });
  const adminKey = `mt_${randomBytes(32).toString('base64url')}`;
  await ensureAdminKey(sql, adminKey);
  const [admin] = await sql<{ id: number }[]>`SELECT id FROM app_user WHERE login = 'admin'`;
  const keys = { admin: adminKey } as Record<Role, string>;
  const userIds = { admin: admin!.id } as Record<Role, number>;
  for (const role of ROLES.filter((r) => r !== 'admin')) {
    const login = `${role}${uniqueSuffix()}`;
    const user = await users.create(sql, { login, name: login, role });
    userIds[role] = user.id;
    keys[role] = (await createKey(sql, user.id, 'test')).key;
  }
  const as: TestApi['as'] = (who, request) => {
    const o = typeof request === 'string' ? { method: 'GET' as const, url: request } : request;
    const key = who === 'none' ? undefined : typeof who === 'object' ? who.key : keys[who];
    return app.inject({ ...o, headers: { ...o.headers, ...(key ? { authorization: `Bearer ${key}` } : {}) } });
  };
  return {
    app,
    keys,
    userIds,
    as,
    close: async () => {
      await app.close();
      await connection.close();
    },
  };
}

/**
 * The test file's database pool and API, made before its tests and closed after them; `use`
 * receives them (the file's own `beforeAll` hooks, registered later, run after this one).
 */
export function useTestApi(use: (sql: Sql, api: TestApi) => void): void {
  let sql: Sql | undefined;
  let api: TestApi | undefined;
  beforeAll(async () => {
    sql = testSql();
    api = await testApi(sql);
    use(sql, api);
  });
  afterAll(async () => {
    await api?.close();
    await sql?.end();
  });
}
