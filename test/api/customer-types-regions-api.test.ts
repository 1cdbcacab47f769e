import { describe, expect, it } from 'vitest';
import type { Sql } from '../../db/client.js';
import { useTestApi, type TestApi } from '../harness/api.js';
import { uniqueSuffix } from '../harness/fixtures.js';
import { checkCase, hostileBodies } from '../harness/hostile-bodies.js';

let sql: Sql;
let api: TestApi;
useTestApi((s, a) => ([sql, api] = [s, a]));
const sfx = uniqueSuffix();


/** Customer types and regions are the same shape: a unique name, used by customers. */
const RESOURCES = [
  { path: '/customer-types', noun: 'customer type', column: 'customer_type_id' },
  { path: '/regions', noun: 'region', column: 'region_id' },
] as const;

describe.each(RESOURCES)('$path', ({ path, noun, column }) => {
  const post = (payload: unknown) => api.as('admin', { method: 'POST', url: path, payload: payload as object });

  it('creates, reads, lists, changes and deletes one', async () => {
    const created = await post({ name: `Premium${sfx}` });
    expect(created.statusCode).toBe(201);
    const entity = created.json();
    expect(entity).toEqual({ id: expect.any(Number), name: `Premium${sfx}`, createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) });

    expect((await api.as('agent', `${path}/${entity.id}`)).json()).toEqual(entity);
    expect((await api.as('backoffice', `${path}?name=${encodeURIComponent(`PREMIUM${sfx.toUpperCase()}`)}`)).json()).toEqual({ items: [entity], nextAfter: null });

    const changed = await api.as('admin', { method: 'PATCH', url: `${path}/${entity.id}`, payload: { name: `Gold${sfx}` } });
    expect(changed.statusCode).toBe(200);
    expect(changed.json()).toEqual({ ...entity, name: `Gold${sfx}` });
    expect((await api.as('admin', { method: 'PATCH', url: `${path}/${entity.id}`, payload: {} })).json()).toEqual({ ...entity, name: `Gold${sfx}` });

    expect((await api.as('agent', { method: 'POST', url: path, payload: { name: `Agent${sfx}` } })).statusCode).toBe(403);
    expect((await api.as('admin', { method: 'DELETE', url: `${path}/${entity.id}` })).statusCode).toBe(204);
    expect((await api.as('admin', `${path}/${entity.id}`)).statusCode).toBe(404);
    expect((await api.as('admin', { method: 'DELETE', url: `${path}/${entity.id}` })).statusCode).toBe(404);
  });

  it('filters by name and pages oldest first with a keyset cursor', async () => {
    const tag = `Paged${uniqueSuffix()}`;
    const ids: number[] = [];
    for (const n of [1, 2, 3]) ids.push((await post({ name: `${tag}-${n}` })).json().id);
    await post({ name: `Other${uniqueSuffix()}` });
    const first = (await api.as('admin', `${path}?name=${encodeURIComponent(tag.toLowerCase())}&limit=2`)).json();
    expect(first.items.map((e: { id: number }) => e.id)).toEqual(ids.slice(0, 2));
    expect(first.nextAfter).toBe(ids[1]);
    const second = (await api.as('admin', `${path}?name=${encodeURIComponent(tag)}&limit=2&after=${first.nextAfter}`)).json();
    expect(second).toEqual({ items: [expect.objectContaining({ id: ids[2], name: `${tag}-3` })], nextAfter: null });
    // The pattern characters of a filter are taken literally.
    expect((await api.as('admin', `${path}?name=${encodeURIComponent('%_')}`)).json().items).toEqual([]);
    expect((await api.as('admin', `${path}?limit=0`)).statusCode).toBe(400);
  });

  it('refuses a repeated name with a 409 naming the field, on create and on change', async () => {
    const name = `Twice${uniqueSuffix()}`;
    expect((await post({ name })).statusCode).toBe(201);
    const res = await post({ name });
    expect(res.statusCode).toBe(409);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.json().errors).toEqual([{ field: 'body.name', message: expect.stringMatching(/already taken/) }]);
    const other = (await post({ name: `Once${uniqueSuffix()}` })).json();
    const renamed = await api.as('admin', { method: 'PATCH', url: `${path}/${other.id}`, payload: { name } });
    expect(renamed.statusCode).toBe(409);
    expect(renamed.json().errors).toEqual([{ field: 'body.name', message: expect.stringMatching(/already taken/) }]);
  });

  it('refuses to delete one in use, naming the customer that uses it', async () => {
    const entity = (await post({ name: `Used${sfx}` })).json();
    await sql`INSERT INTO customer (name, ${sql(column)}) VALUES (${`Acme${sfx}`}, ${entity.id})`;
    const res = await api.as('admin', { method: 'DELETE', url: `${path}/${entity.id}` });
    expect(res.statusCode).toBe(409);
    expect(res.json().detail).toMatch(new RegExp(`${noun} ${entity.id} is in use by customer`));
    expect((await api.as('admin', `${path}/${entity.id}`)).statusCode).toBe(200);
  });

  it('answers hostile bodies with a 4xx naming the field, or stores the value as sent', async () => {
    for (const c of hostileBodies({ name: `Hostile${sfx}` }, { required: ['name'] })) {
      checkCase(await post({ ...c.body, name: c.field === 'body.name' ? c.body.name : `${c.name}${sfx}` }), c);
    }
    const target = (await post({ name: `Target${sfx}` })).json();
    for (const c of hostileBodies({ name: `Changed${sfx}` }, { required: [] })) {
      checkCase(await api.as('admin', { method: 'PATCH', url: `${path}/${target.id}`, payload: c.body }), c);
    }
    expect((await api.as('admin', { method: 'PATCH', url: `${path}/${target.id}`, payload: { name: '   ' } })).json().errors).toEqual([{ field: 'body.name', message: 'must not be empty' }]);
  });
});
