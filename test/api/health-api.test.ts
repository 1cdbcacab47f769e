import { Client, Connection } from '@temporalio/client';
import { describe, expect, it } from 'vitest';
import { buildApp } from '../../api/app.js';
import { createSql } from '../../db/client.js';
import { freePort } from '../../stack/free-port.js';
import { useTestApi, type TestApi } from '../harness/api.js';
import { testSecrets } from '../harness/fixtures.js';

let api: TestApi;
useTestApi((_sql, a) => (api = a));


describe('/health and /ready', () => {
  it('answer without a key when everything is up', async () => {
    expect((await api.as('none', '/health')).json()).toEqual({ status: 'ok' });
    const ready = await api.as('none', '/ready');
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toEqual({ status: 'ready', postgres: { ok: true }, temporal: { ok: true } });
  });

  it('/ready says 503 and which part cannot be reached; /health stays 200', async () => {
    // Nothing listens on these ports: PostgreSQL and Temporal are both "down".
    const [pgPort, temporalPort] = [await freePort(), await freePort()];
    const deadSql = createSql(`postgres://nobody:nothing@127.0.0.1:${pgPort}/none`, { max: 1 });
    const connection = await Connection.lazy({ address: `127.0.0.1:${temporalPort}`, connectTimeout: 500 });
    const app = await buildApp({ sql: deadSql, temporal: { client: new Client({ connection }), taskQueue: 'none', mailboxIdleSeconds: 30 }, secrets: testSecrets });
    try {
      expect((await app.inject('/health')).statusCode).toBe(200);
      const ready = await app.inject('/ready');
      expect(ready.statusCode).toBe(503);
      expect(ready.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(ready.json()).toMatchObject({ status: 503, detail: 'PostgreSQL and Temporal cannot be reached.', postgres: { ok: false }, temporal: { ok: false } });
    } finally {
      await app.close();
      await connection.close();
      await deadSql.end({ timeout: 1 });
    }
  });
});
