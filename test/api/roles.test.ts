import { beforeAll, describe, expect, it } from 'vitest';
import { createKey, revokeKey } from '../../db/api-keys.js';
import type { Sql } from '../../db/client.js';
import { ROLES } from '../../domain/roles.js';
import { useTestApi, type TestApi } from '../harness/api.js';

/**
 * Every route × every role, generated from the routes the app registered: a new route is in
 * this table the moment it exists. Path parameters name things that do not exist and bodies
 * are empty, so an allowed call ends in 400 or 404 and changes nothing.
 */
let sql: Sql;
let api: TestApi;
useTestApi((s, a) => ([sql, api] = [s, a]));
let revoked: string;

beforeAll(async () => {
  const key = await createKey(sql, api.userIds.admin, 'to be revoked');
  await revokeKey(sql, key.id);
  revoked = key.key;
});

const PARAMS: Record<string, string> = { protocol: '1999000001' };
const fill = (url: string) => url.replace(/:(\w+)/g, (_, name: string) => PARAMS[name] ?? '999999999').replace(/\*$/, 'index.html');

describe('who may call what', () => {
  it('knows a good number of routes, each with its roles', () => {
    const routes = api.app.routeAccess;
    expect(routes.filter((r) => r.roles !== 'public').length).toBeGreaterThan(5);
    expect(routes.filter((r) => r.roles === 'public').map((r) => r.url)).toEqual(['/health', '/ready', '/inbound/:mailbox']);
  });

  it('serves the docs without a key', async () => {
    expect((await api.as('none', '/docs/json')).statusCode).toBe(200);
    expect((await api.as('none', '/docs')).statusCode).toBeLessThan(400);
  });

  it('answers every route for every role, and refuses no key, a revoked key and a wrong role', async () => {
    const rows: string[] = [];
    for (const route of api.app.routeAccess) {
      const request = { method: route.method as 'GET', url: fill(route.url), ...(['POST', 'PUT', 'PATCH'].includes(route.method) ? { payload: {} } : {}) };
      const cell = async (who: Parameters<TestApi['as']>[0]) => (await api.as(who, request)).statusCode;
      const none = await cell('none');
      const bad = await cell({ key: revoked });
      const byRole = await Promise.all(ROLES.map((r) => cell(r)));
      if (route.roles === 'public') {
        expect(none, `${route.method} ${route.url} is public`).not.toBe(401);
        continue;
      }
      expect([none, bad], `${route.method} ${route.url} without a valid key`).toEqual([401, 401]);
      ROLES.forEach((role, i) => {
        const allowed = (route.roles as readonly string[]).includes(role);
        if (allowed) expect([401, 403], `${route.method} ${route.url} as ${role}`).not.toContain(byRole[i]);
        else expect(byRole[i], `${route.method} ${route.url} as ${role}`).toBe(403);
        expect(byRole[i], `${route.method} ${route.url} as ${role}`).toBeLessThan(500);
      });
      rows.push(`${route.method} ${route.url}: ${ROLES.map((r, i) => `${r} ${byRole[i]}`).join(', ')}`);
    }
    expect(rows.length).toBe(api.app.routeAccess.filter((r) => r.roles !== 'public').length);
  });
});
