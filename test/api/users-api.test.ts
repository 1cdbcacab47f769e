import { randomInt } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { createKey } from '../../db/api-keys.js';
import type { Sql } from '../../db/client.js';
import { LastActiveAdminError, users } from '../../db/users.js';
import { useTestApi, type TestApi } from '../harness/api.js';
import { uniqueSuffix } from '../harness/fixtures.js';
import { checkCase, hostileBodies } from '../harness/hostile-bodies.js';

let sql: Sql;
let api: TestApi;
useTestApi((s, a) => ([sql, api] = [s, a]));
const sfx = uniqueSuffix();
let sectorA: number;
let sectorB: number;

beforeAll(async () => {
  const sector = async (name: string) => (await api.as('admin', { method: 'POST', url: '/sectors', payload: { name } })).json().id as number;
  sectorA = await sector(`Users A${sfx}`);
  sectorB = await sector(`Users B${sfx}`);
});

const post = (payload: unknown) => api.as('admin', { method: 'POST', url: '/users', payload: payload as object });
const patch = (id: number, payload: unknown, who: Parameters<TestApi['as']>[0] = 'admin') => api.as(who, { method: 'PATCH', url: `/users/${id}`, payload: payload as object });
const login = (name: string) => `${name}${uniqueSuffix()}`;
const errors = (res: { json(): { errors?: unknown } }) => res.json().errors;

describe('/users', () => {
  it('creates, reads, lists, changes and deletes a user', async () => {
    const created = await post({ login: `maria.silva${sfx}`, name: 'Maria Silva', email: 'maria@example.com', role: 'agent', sectorIds: [sectorB, sectorA, sectorA] });
    expect(created.statusCode).toBe(201);
    const user = created.json();
    expect(user).toEqual({
      id: expect.any(Number),
      login: `maria.silva${sfx}`,
      name: 'Maria Silva',
      email: 'maria@example.com',
      role: 'agent',
      sectorIds: [sectorA, sectorB],
      active: true,
      available: true,
      registrationOrder: expect.any(Number),
      createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    });

    expect((await api.as('agent', `/users/${user.id}`)).json()).toEqual(user);
    expect((await api.as('backoffice', `/users?q=${encodeURIComponent(`MARIA.SILVA${sfx.toUpperCase()}`)}`)).json()).toEqual({ items: [user], nextAfter: null });

    const changed = await patch(user.id, { name: 'Maria S. Souza', email: null, sectorIds: [sectorB], available: false, role: 'backoffice' });
    expect(changed.statusCode).toBe(200);
    expect(changed.json()).toEqual({ ...user, name: 'Maria S. Souza', email: null, sectorIds: [sectorB], available: false, role: 'backoffice' });
    expect((await patch(user.id, { sectorIds: [] })).json().sectorIds).toEqual([]);
    expect((await patch(user.id, {})).json()).toMatchObject({ id: user.id, registrationOrder: user.registrationOrder });

    expect((await api.as('agent', { method: 'POST', url: '/users', payload: { login: login('x'), name: 'X', role: 'agent' } })).statusCode).toBe(403);
    expect((await api.as('admin', { method: 'DELETE', url: `/users/${user.id}` })).statusCode).toBe(204);
    expect((await api.as('admin', `/users/${user.id}`)).statusCode).toBe(404);
    expect((await patch(user.id, { name: 'Gone' })).statusCode).toBe(404);
  });

  it('gives each user a registration order, in creation order, that nobody can set or change', async () => {
    const first = (await post({ login: login('first'), name: 'First', role: 'agent' })).json();
    const second = (await post({ login: login('second'), name: 'Second', role: 'agent' })).json();
    expect(second.registrationOrder).toBeGreaterThan(first.registrationOrder);
    expect(errors(await post({ login: login('third'), name: 'Third', role: 'agent', registrationOrder: 1 }))).toEqual([{ field: 'body.registrationOrder', message: expect.any(String) }]);
    expect(errors(await patch(first.id, { registrationOrder: 1 }))).toEqual([{ field: 'body.registrationOrder', message: expect.any(String) }]);
    expect((await api.as('admin', `/users/${first.id}`)).json().registrationOrder).toBe(first.registrationOrder);
  });

  it('filters by login or name, role, sector, active and available, and pages in registration order', async () => {
    const tag = `flt${randomInt(1e9)}`;
    const make = async (n: number, extra: object) => (await post({ login: `${tag}.${n}`, name: `Person ${n}`, role: 'agent', ...extra })).json();
    const a = await make(1, { sectorIds: [sectorA], role: 'backoffice' });
    const b = await make(2, { sectorIds: [sectorA, sectorB], available: false });
    const c = await make(3, { active: false });
    const d = await make(4, { name: `Zed ${tag}` });
    const ids = async (query: string) => (await api.as('admin', `/users?q=${tag}&${query}`)).json().items.map((u: { id: number }) => u.id);
    expect(await ids('')).toEqual([a.id, b.id, c.id, d.id]);
    expect(await ids('role=backoffice')).toEqual([a.id]);
    expect(await ids(`sectorId=${sectorA}`)).toEqual([a.id, b.id]);
    expect(await ids(`sectorId=${sectorB}&available=false`)).toEqual([b.id]);
    expect(await ids('active=false')).toEqual([c.id]);
    expect(await ids('available=true&active=true')).toEqual([a.id, d.id]);
    // `q` matches the name too.
    expect((await api.as('admin', `/users?q=${encodeURIComponent(`zed ${tag.toUpperCase()}`)}`)).json().items.map((u: { id: number }) => u.id)).toEqual([d.id]);

    const first = (await api.as('admin', `/users?q=${tag}&limit=3`)).json();
    expect(first.items.map((u: { id: number }) => u.id)).toEqual([a.id, b.id, c.id]);
    expect(first.nextAfter).toBe(c.id);
    expect((await api.as('admin', `/users?q=${tag}&limit=3&after=${first.nextAfter}`)).json()).toEqual({ items: [d], nextAfter: null });

    for (const bad of ['role=boss', 'active=yes', 'sectorId=0', 'available=1']) {
      const res = await api.as('admin', `/users?${bad}`);
      expect(res.statusCode, bad).toBe(400);
      expect(errors(res), bad).toEqual([{ field: `querystring.${bad.split('=')[0]}`, message: expect.any(String) }]);
    }
  });

  it('refuses a login already taken, whatever its case, with a 409 naming the field', async () => {
    const name = login('Joao');
    expect((await post({ login: name, name: 'João', role: 'agent' })).statusCode).toBe(201);
    for (const again of [name, name.toLowerCase(), name.toUpperCase()]) {
      const res = await post({ login: again, name: 'Another João', role: 'agent' });
      expect(res.statusCode, again).toBe(409);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(errors(res)).toEqual([{ field: 'body.login', message: expect.stringMatching(/already taken/) }]);
    }
    const other = (await post({ login: login('other'), name: 'Other', role: 'agent' })).json();
    expect((await patch(other.id, { login: name.toUpperCase() })).statusCode).toBe(409);
  });

  it('checks the login characters', async () => {
    for (const bad of ['', 'with space', 'josé', 'a/b', 'x'.repeat(101)]) {
      expect(errors(await post({ login: bad, name: 'Bad', role: 'agent' })), bad).toEqual([{ field: 'body.login', message: expect.any(String) }]);
    }
    for (const good of [`a.b_c-d@example.com${randomInt(1e9)}`, `X${randomInt(1e9)}`]) expect((await post({ login: good, name: 'Good', role: 'agent' })).statusCode, good).toBe(201);
  });

  it('names the sector that does not exist, in sectorIds, on create and on change', async () => {
    const created = await post({ login: login('nosector'), name: 'No sector', role: 'agent', sectorIds: [sectorA, 999_999_999] });
    expect(created.statusCode).toBe(400);
    expect(errors(created)).toEqual([{ field: 'body.sectorIds', message: 'there is no sector with id 999999999' }]);
    const user = (await post({ login: login('somesector'), name: 'Some sector', role: 'agent', sectorIds: [sectorA] })).json();
    const changed = await patch(user.id, { sectorIds: [999_999_998], name: 'Renamed' });
    expect(errors(changed)).toEqual([{ field: 'body.sectorIds', message: 'there is no sector with id 999999998' }]);
    // Nothing of the refused change was kept.
    expect((await api.as('admin', `/users/${user.id}`)).json()).toMatchObject({ name: 'Some sector', sectorIds: [sectorA] });
  });

  it('refuses to delete a user a ticket names, and says to deactivate instead', async () => {
    const user = (await post({ login: login('busy'), name: 'Busy', role: 'agent' })).json();
    const [customer] = await sql<{ id: number }[]>`INSERT INTO customer (name) VALUES (${`Customer${sfx}`}) RETURNING id`;
    const protocol = `U${randomInt(1e9)}`;
    await sql`INSERT INTO ticket (protocol, subject, description, customer_id, channel, assignee_user_id) VALUES (${protocol}, 'Help', 'Please', ${customer!.id}, 'api', ${user.id})`;
    const res = await api.as('admin', { method: 'DELETE', url: `/users/${user.id}` });
    expect(res.statusCode).toBe(409);
    expect(res.json().detail).toMatch(new RegExp(`user ${user.id} is in use by ticket «${protocol}»`));
    const docs = (await api.as('admin', '/docs/json')).json();
    expect(docs.paths['/users/{id}'].delete.description).toMatch(/deactivate instead \(active=false\)/);

    const deactivated = await patch(user.id, { active: false });
    expect(deactivated.json()).toMatchObject({ active: false });
  });

  it('lets an admin deactivate, demote or delete another admin, but not themselves', async () => {
    const other = (await post({ login: login('admin2'), name: 'Second admin', role: 'admin' })).json();
    const key = { key: (await createKey(sql, other.id, 'test')).key };
    for (const [payload, message] of [
      [{ active: false }, /cannot deactivate yourself/],
      [{ role: 'agent' }, /cannot change your own role \(admin\)/],
    ] as const) {
      const res = await patch(other.id, payload, key);
      expect(res.statusCode).toBe(409);
      expect(res.json().detail).toMatch(message);
    }
    expect((await patch(other.id, { available: false, role: 'admin', name: 'Second admin, paused' }, key)).json()).toMatchObject({ available: false, name: 'Second admin, paused' });
    const deleted = await api.as(key, { method: 'DELETE', url: `/users/${other.id}` });
    expect(deleted.statusCode).toBe(409);
    expect(deleted.json().detail).toMatch(/cannot delete yourself/);

    // Another admin may; a deactivated user's key stops working.
    expect((await patch(other.id, { active: false })).json()).toMatchObject({ active: false });
    expect((await api.as(key, '/users?limit=1')).statusCode).toBe(401);
    expect((await api.as('admin', { method: 'DELETE', url: `/users/${other.id}` })).statusCode).toBe(204);
  });

  it('never leaves the installation without an active admin', async () => {
    class Rollback extends Error {}
    await sql
      .begin(async (tx) => {
        const last = await users.create(tx, { login: login('last'), name: 'Last admin', role: 'admin' });
        await tx`UPDATE app_user SET active = false WHERE role = 'admin' AND active AND id <> ${last.id}`;
        await expect(users.update(tx, last.id, { active: false })).rejects.toBeInstanceOf(LastActiveAdminError);
        await expect(users.update(tx, last.id, { role: 'backoffice' })).rejects.toBeInstanceOf(LastActiveAdminError);
        await expect(users.remove(tx, last.id)).rejects.toBeInstanceOf(LastActiveAdminError);
        expect(await users.update(tx, last.id, { available: false })).toMatchObject({ role: 'admin', active: true, available: false });
        const second = await users.create(tx, { login: login('second'), name: 'Second', role: 'agent' });
        await users.update(tx, second.id, { role: 'admin' });
        expect(await users.update(tx, last.id, { active: false })).toMatchObject({ active: false });
        throw new Rollback();
      })
      .catch((err) => {
        if (!(err instanceof Rollback)) throw err;
      });
  });
});

describe('/users with hostile bodies', () => {
  it('answers each create with a 4xx naming the field, or stores the value as sent', async () => {
    const valid = { login: `hostile${sfx}`, name: 'Hostile', email: 'hostile@example.com', role: 'agent', sectorIds: [sectorA], active: true, available: true };
    for (const c of hostileBodies(valid, { required: ['login', 'name', 'role'], ids: ['sectorIds'] })) {
      checkCase(await post({ ...c.body, login: c.field === 'body.login' ? c.body.login : login('h') }), c);
    }
  });

  it('answers each change with a 4xx naming the field, or stores the value as sent', async () => {
    const target = (await post({ login: login('target'), name: 'Target', role: 'agent' })).json();
    const valid = { login: target.login, name: 'Changed', email: 'changed@example.com', role: 'backoffice', sectorIds: [sectorB], active: true, available: false };
    for (const c of hostileBodies(valid, { required: [], ids: ['sectorIds'] })) {
      checkCase(await patch(target.id, c.body), c);
    }
  });
});
