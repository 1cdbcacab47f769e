import { describe, expect, it } from 'vitest';
import type { Sql } from '../../db/client.js';
import { useTestApi, type TestApi } from '../harness/api.js';
import { uniqueSuffix } from '../harness/fixtures.js';
import { checkCase, hostileBodies } from '../harness/hostile-bodies.js';

let sql: Sql;
let api: TestApi;
useTestApi((s, a) => ([sql, api] = [s, a]));
const sfx = uniqueSuffix();


const create = (payload: object) => api.as('admin', { method: 'POST', url: '/api-keys', payload });

describe('/api-keys', () => {
  it('shows a new key once, stores only its hash, and the key acts as its user', async () => {
    const res = await create({ name: `CRM${sfx}`, userId: api.userIds.agent });
    expect(res.statusCode).toBe(201);
    const created = res.json();
    expect(created).toMatchObject({ name: `CRM${sfx}`, userId: api.userIds.agent, prefix: created.key.slice(0, 8), revokedAt: null });
    expect(created.key).toMatch(/^mt_[\w-]{43}$/);

    const [stored] = await sql<{ hash: Buffer }[]>`SELECT hash FROM api_key WHERE id = ${created.id}`;
    expect(stored!.hash.toString('hex')).not.toContain(Buffer.from(created.key).toString('hex'));
    const listed = (await api.as('admin', `/api-keys?userId=${api.userIds.agent}&limit=200`)).json();
    expect(listed.items.find((k: { id: number }) => k.id === created.id)).not.toHaveProperty('key');
    expect(JSON.stringify(listed)).not.toContain(created.key);

    const me = await api.as({ key: created.key }, '/me');
    expect(me.json()).toMatchObject({ id: api.userIds.agent, role: 'agent' });
    expect((await api.as({ key: created.key }, { method: 'POST', url: '/sectors', payload: { name: `Nope${sfx}` } })).statusCode).toBe(403);
  });

  it('revokes at once; the record stays with its revocation time', async () => {
    const { id, key } = (await create({ name: `Temp${sfx}`, userId: api.userIds.backoffice })).json();
    expect((await api.as({ key }, '/me')).statusCode).toBe(200);
    expect((await api.as('admin', { method: 'DELETE', url: `/api-keys/${id}` })).statusCode).toBe(204);
    const refused = await api.as({ key }, '/me');
    expect(refused.statusCode).toBe(401);
    expect(refused.json().detail).toMatch(/revoked/);
    expect((await api.as('admin', `/api-keys/${id}`)).json().revokedAt).toEqual(expect.any(String));
  });

  it('refuses to revoke the key the request is made with', async () => {
    const { id, key } = (await create({ name: `Self${sfx}` })).json();
    const res = await api.as({ key }, { method: 'DELETE', url: `/api-keys/${id}` });
    expect(res.statusCode).toBe(409);
    expect(res.json().detail).toMatch(/the key you are using/);
  });

  it('stops a deactivated user\'s keys', async () => {
    const [user] = await sql<{ id: number }[]>`SELECT id FROM app_user WHERE id = ${api.userIds.backoffice}`;
    const { key } = (await create({ name: `Leaver${sfx}`, userId: user!.id })).json();
    expect((await api.as('admin', { method: 'PATCH', url: `/users/${user!.id}`, payload: { active: false } })).statusCode).toBe(200);
    expect((await api.as({ key }, '/me')).statusCode).toBe(401);
    expect((await api.as('admin', { method: 'PATCH', url: `/users/${user!.id}`, payload: { active: true } })).statusCode).toBe(200);
  });

  it('answers hostile bodies with a 4xx naming the field, or stores the value as sent', async () => {
    for (const c of hostileBodies({ name: `Hostile${sfx}`, userId: api.userIds.agent }, { required: ['name'], ids: ['userId'] })) checkCase(await create(c.body), c);
  });
});
