import { execFile } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { randomUUID } from 'node:crypto';
import postgres from 'postgres';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { createSql, type Sql } from '../../db/client.js';
import { migrate } from '../../db/migrate.js';
import { ensureSchemathesis } from '../../stack/schemathesis.js';
import { testApi, type TestApi } from '../harness/api.js';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/**
 * Schemathesis fuzzes every operation of the served OpenAPI document with an admin key:
 * no 5xx, no response that breaks its schema, no undocumented status code or content type.
 * `positive_data_acceptance` is left out: schema-valid bodies name ids that do not exist,
 * which the API rightly refuses with a 400.
 */
let sql: Sql;
let api: TestApi;
let st: string;

/**
 * A database of its own: the fuzzer, with an admin key, deletes and deactivates whatever ids
 * it guesses, and other test files run at the same time.
 */
async function ownDatabase(): Promise<Sql> {
  const url = new URL(inject('databaseUrl'));
  const name = `mailtrack_fuzz_${randomUUID().slice(0, 8)}`;
  const admin = postgres(Object.assign(new URL(url), { pathname: '/postgres' }).toString(), { max: 1, onnotice: () => {} });
  try {
    await admin`CREATE DATABASE ${admin(name)}`;
  } finally {
    await admin.end();
  }
  url.pathname = `/${name}`;
  await migrate(url.toString());
  return createSql(url.toString());
}

beforeAll(async () => {
  [st, sql] = await Promise.all([ensureSchemathesis(ROOT, (m) => console.log(`[schemathesis] ${m}`)), ownDatabase()]);
  api = await testApi(sql);
  await api.app.listen({ host: '127.0.0.1', port: 0 });
}, 600_000);
afterAll(async () => {
  await api?.close();
  await sql?.end();
});

it('finds no server error, no schema violation and no undocumented status', { timeout: 600_000 }, async () => {
  const { port } = api.app.server.address() as AddressInfo;
  const args = [
    'run', `http://127.0.0.1:${port}/docs/json`,
    '--checks', 'all', '--exclude-checks', 'positive_data_acceptance',
    '--max-examples', process.env.SCHEMATHESIS_EXAMPLES ?? '20',
    '--workers', '1', '--request-timeout', '10', '--no-color',
    '-H', `Authorization: Bearer ${api.keys.admin}`,
  ];
  const result = await run(st, args, { maxBuffer: 64 * 1024 * 1024, env: { ...process.env, SCHEMATHESIS_HOOKS: '' } }).then(
    (r) => ({ code: 0, out: r.stdout + r.stderr }),
    (e: { code?: number; stdout?: string; stderr?: string }) => ({ code: e.code ?? 1, out: `${e.stdout ?? ''}${e.stderr ?? ''}` }),
  );
  expect(result.code, result.out.slice(-20_000)).toBe(0);
  // One line for the record: how much was tried.
  const cases = /(\d+) generated/.exec(result.out)?.[1];
  const operations = /Tested: (\d+)/.exec(result.out)?.[1];
  console.log(`[schemathesis] ${operations ?? '?'} operations, ${cases ?? '?'} test cases, no failures`);
});
