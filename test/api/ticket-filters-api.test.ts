import { beforeAll, describe, expect, it } from 'vitest';
import { createKey } from '../../db/api-keys.js';
import type { Sql } from '../../db/client.js';
import { useTestApi, type TestApi } from '../harness/api.js';
import { uniqueSuffix } from '../harness/fixtures.js';
import { checkCase, hostileBodies } from '../harness/hostile-bodies.js';

let sql: Sql;
let api: TestApi;
useTestApi((s, a) => ([sql, api] = [s, a]));
const sfx = uniqueSuffix();
/** The agent and the backoffice user belong to `shared`; the outsider (an agent) to `elsewhere`. */
let shared: number;
let elsewhere: number;
let outsider: { key: string; id: number };

beforeAll(async () => {
  [shared, elsewhere] = await Promise.all(
    ['Shared', 'Elsewhere'].map(async (n) => (await sql<{ id: number }[]>`INSERT INTO sector (name) VALUES (${n + sfx}) RETURNING id`)[0]!.id),
  ) as [number, number];
  const [user] = await sql<{ id: number }[]>`INSERT INTO app_user (login, name, role) VALUES (${`outsider${sfx}`}, 'Outsider', 'agent') RETURNING id`;
  outsider = { id: user!.id, key: (await createKey(sql, user!.id, 'test')).key };
  await sql`INSERT INTO user_sector ${sql([
    { userId: api.userIds.agent, sectorId: shared },
    { userId: api.userIds.backoffice, sectorId: shared },
    { userId: outsider.id, sectorId: elsewhere },
  ])}`;
});

type Who = Parameters<TestApi['as']>[0];
const create = (who: Who, payload: unknown) => api.as(who, { method: 'POST', url: '/ticket-filters', payload: payload as object });
const names = async (who: Who) => ((await api.as(who, `/ticket-filters?name=${encodeURIComponent(sfx)}&limit=200`)).json().items as { name: string }[]).map((f) => f.name).sort();

describe('/ticket-filters', () => {
  it('saves, reads, lists, changes and deletes a personal filter', async () => {
    const res = await create('agent', { name: `Mine${sfx}`, filters: { status: 'open', occurrenceId: 12, slaState: 'breached' } });
    expect(res.statusCode).toBe(201);
    const saved = res.json();
    expect(saved).toEqual({
      id: expect.any(Number),
      name: `Mine${sfx}`,
      ownerUserId: api.userIds.agent,
      sectorId: null,
      filters: { status: 'open', occurrenceId: 12, slaState: 'breached' },
      createdAt: expect.stringMatching(/Z$/),
    });
    expect((await api.as('agent', `/ticket-filters/${saved.id}`)).json()).toEqual(saved);

    const changed = await api.as('agent', { method: 'PATCH', url: `/ticket-filters/${saved.id}`, payload: { filters: { assigneeUserId: 7 } } });
    expect(changed.statusCode).toBe(200);
    expect(changed.json()).toEqual({ ...saved, filters: { assigneeUserId: 7 } });
    const renamed = await api.as('agent', { method: 'PATCH', url: `/ticket-filters/${saved.id}`, payload: { name: `Renamed${sfx}` } });
    expect(renamed.json()).toEqual({ ...saved, name: `Renamed${sfx}`, filters: { assigneeUserId: 7 } });

    expect((await api.as('agent', { method: 'DELETE', url: `/ticket-filters/${saved.id}` })).statusCode).toBe(204);
    expect((await api.as('agent', `/ticket-filters/${saved.id}`)).statusCode).toBe(404);
  });

  it('shows a user their own filters and those shared with their sectors; an admin sees all', async () => {
    const personal = (await create('agent', { name: `Agent personal${sfx}`, filters: {} })).json();
    const toShared = (await create('agent', { name: `Agent to shared${sfx}`, filters: { status: 'open' }, sectorId: shared })).json();
    const toElsewhere = (await create({ key: outsider.key }, { name: `Outsider to elsewhere${sfx}`, filters: {}, sectorId: elsewhere })).json();
    expect(toShared.sectorId).toBe(shared);

    expect(await names('agent')).toEqual([personal.name, toShared.name].sort());
    expect(await names('backoffice')).toEqual([toShared.name]);
    expect(await names({ key: outsider.key })).toEqual([toElsewhere.name]);
    expect(await names('admin')).toEqual(expect.arrayContaining([personal.name, toShared.name, toElsewhere.name]));

    // Someone else's personal filter, or one shared with another sector, does not exist for them.
    expect((await api.as('backoffice', `/ticket-filters/${personal.id}`)).statusCode).toBe(404);
    expect((await api.as({ key: outsider.key }, `/ticket-filters/${toShared.id}`)).statusCode).toBe(404);
    expect((await api.as('backoffice', `/ticket-filters/${toShared.id}`)).statusCode).toBe(200);
    expect((await api.as('admin', `/ticket-filters/${toElsewhere.id}`)).statusCode).toBe(200);

    // Filters of the list: by sector, by owner.
    const bySector = (await api.as('admin', `/ticket-filters?sectorId=${shared}`)).json().items;
    expect(bySector.map((f: { id: number }) => f.id)).toEqual([toShared.id]);
    const byOwner = (await api.as('admin', `/ticket-filters?ownerUserId=${outsider.id}`)).json().items;
    expect(byOwner.map((f: { id: number }) => f.id)).toEqual([toElsewhere.id]);
  });

  it('lets only the owner or an admin change or delete a filter', async () => {
    const filter = (await create('agent', { name: `Owned${sfx}`, filters: { status: 'open' }, sectorId: shared })).json();
    for (const req of [
      { method: 'PATCH' as const, url: `/ticket-filters/${filter.id}`, payload: { name: `Taken over${sfx}` } },
      { method: 'DELETE' as const, url: `/ticket-filters/${filter.id}` },
    ]) {
      const res = await api.as('backoffice', req);
      expect(res.statusCode).toBe(403);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.json().detail).toMatch(/only the user who saved it \(or an admin\)/);
      // A user who cannot even see it gets a 404, as if it did not exist.
      expect((await api.as({ key: outsider.key }, req)).statusCode).toBe(404);
    }
    const byAdmin = await api.as('admin', { method: 'PATCH', url: `/ticket-filters/${filter.id}`, payload: { name: `Fixed by admin${sfx}`, sectorId: elsewhere } });
    expect(byAdmin.statusCode).toBe(200);
    expect(byAdmin.json()).toMatchObject({ ownerUserId: api.userIds.agent, name: `Fixed by admin${sfx}`, sectorId: elsewhere });
    expect((await api.as('admin', { method: 'DELETE', url: `/ticket-filters/${filter.id}` })).statusCode).toBe(204);
  });

  it('refuses sharing with a sector the user does not belong to, unless admin', async () => {
    const res = await create('agent', { name: `Not mine${sfx}`, filters: {}, sectorId: elsewhere });
    expect(res.statusCode).toBe(403);
    expect(res.json().errors).toEqual([{ field: 'body.sectorId', message: expect.stringMatching(/you do not belong to the sector/) }]);
    const personal = (await create('agent', { name: `Personal then shared${sfx}`, filters: {} })).json();
    const patch = await api.as('agent', { method: 'PATCH', url: `/ticket-filters/${personal.id}`, payload: { sectorId: elsewhere } });
    expect(patch.statusCode).toBe(403);
    expect((await api.as('agent', { method: 'PATCH', url: `/ticket-filters/${personal.id}`, payload: { sectorId: shared } })).json().sectorId).toBe(shared);
    expect((await api.as('agent', { method: 'PATCH', url: `/ticket-filters/${personal.id}`, payload: { sectorId: null } })).json().sectorId).toBeNull();
    expect((await create('admin', { name: `Admin shares anywhere${sfx}`, filters: {}, sectorId: elsewhere })).statusCode).toBe(201);
  });

  it('refuses a second filter with the same name for the same user, not for another user', async () => {
    expect((await create('agent', { name: `Twice${sfx}`, filters: {} })).statusCode).toBe(201);
    const again = await create('agent', { name: `Twice${sfx}`, filters: { status: 'open' } });
    expect(again.statusCode).toBe(409);
    expect(again.json().errors.map((e: { field: string }) => e.field)).toContain('body.name');
    expect((await create('backoffice', { name: `Twice${sfx}`, filters: {} })).statusCode).toBe(201);
  });

  it('lets every role use filters', async () => {
    for (const role of ['admin', 'backoffice', 'agent'] as const) {
      const res = await create(role, { name: `By ${role}${sfx}`, filters: { channel: 'email' } });
      expect(res.statusCode, role).toBe(201);
      expect((await api.as(role, `/tickets?filterId=${res.json().id}&limit=1`)).statusCode, role).toBe(200);
    }
  });
});

describe('/ticket-filters with hostile bodies', () => {
  const valid = () => ({ name: `Hostile${sfx}`, filters: { status: 'open', occurrenceId: 1 }, sectorId: shared });

  it('answers each create with a 4xx naming the field, or stores the value as sent', async () => {
    for (const c of hostileBodies(valid(), { required: ['name', 'filters'], ids: ['sectorId'] })) {
      checkCase(await create('admin', { ...c.body, name: c.field === 'body.name' ? c.body.name : `${c.name}${sfx}` }), c);
    }
  });

  it('answers each change with a 4xx naming the field, or stores the value as sent', async () => {
    const filter = (await create('agent', { name: `Hostile target${sfx}`, filters: {} })).json();
    for (const c of hostileBodies(valid(), { required: [], ids: ['sectorId'] })) {
      const body = { ...c.body, name: c.field === 'body.name' ? c.body.name : `${c.name} patched${sfx}` };
      checkCase(await api.as('admin', { method: 'PATCH', url: `/ticket-filters/${filter.id}`, payload: body }), c);
    }
  });

  it('checks the filters inside as the ticket list checks its query', async () => {
    const cases: [unknown, string][] = [
      [{ status: 'nonsense' }, 'body.filters.status'],
      [{ status: 12 }, 'body.filters.status'],
      [{ occurrenceId: -1 }, 'body.filters.occurrenceId'],
      [{ occurrenceId: 1.5 }, 'body.filters.occurrenceId'],
      [{ occurrenceId: 'abc' }, 'body.filters.occurrenceId'],
      [{ occurrenceId: 2 ** 60 }, 'body.filters.occurrenceId'],
      [{ assigneeUserId: [1, 2] }, 'body.filters.assigneeUserId'],
      [{ sectorId: { id: 1 } }, 'body.filters.sectorId'],
      [{ slaState: 'x'.repeat(10_000) }, 'body.filters.slaState'],
      [{ channel: "email'; DROP TABLE ticket; --" }, 'body.filters.channel'],
      [{ limit: 5 }, 'body.filters.limit'],
      [{ filterId: 1 }, 'body.filters.filterId'],
      [{ before: 1 }, 'body.filters.before'],
      [{ unknownFilter: 1 }, 'body.filters.unknownFilter'],
      [null, 'body.filters'],
      ['status=open', 'body.filters'],
    ];
    for (const [filters, field] of cases) {
      const res = await create('agent', { name: `Bad filters${uniqueSuffix()}`, filters });
      expect(res.statusCode, JSON.stringify(filters)).toBe(400);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.json().errors.map((e: { field: string }) => e.field), JSON.stringify(filters)).toContain(field);
    }
    // Ids written as decimal strings are read as the list's query reads them.
    const lenient = await create('agent', { name: `String ids${sfx}`, filters: { occurrenceId: '12' } });
    expect(lenient.json().filters).toEqual({ occurrenceId: 12 });
  });
});
