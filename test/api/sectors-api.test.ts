import { describe, expect, it } from 'vitest';
import type { Sql } from '../../db/client.js';
import { useTestApi, type TestApi } from '../harness/api.js';
import { uniqueSuffix } from '../harness/fixtures.js';
import { checkCase, hostileBodies } from '../harness/hostile-bodies.js';

let sql: Sql;
let api: TestApi;
useTestApi((s, a) => ([sql, api] = [s, a]));
const sfx = uniqueSuffix();


const post = (payload: unknown) => api.as('admin', { method: 'POST', url: '/sectors', payload: payload as object });

describe('/sectors', () => {
  it('creates, reads, lists, changes and deletes a sector', async () => {
    const created = await post({ name: `Billing${sfx}` });
    expect(created.statusCode).toBe(201);
    const sector = created.json();
    expect(sector).toMatchObject({ id: expect.any(Number), name: `Billing${sfx}`, calendarId: null, createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) });

    expect((await api.as('agent', `/sectors/${sector.id}`)).json()).toEqual(sector);
    const listed = (await api.as('backoffice', `/sectors?name=billing${sfx.toUpperCase()}`)).json();
    expect(listed.items).toEqual([sector]);

    const changed = await api.as('admin', { method: 'PATCH', url: `/sectors/${sector.id}`, payload: { name: `Billing and payments${sfx}` } });
    expect(changed.json()).toMatchObject({ id: sector.id, name: `Billing and payments${sfx}` });

    expect((await api.as('admin', { method: 'DELETE', url: `/sectors/${sector.id}` })).statusCode).toBe(204);
    expect((await api.as('admin', `/sectors/${sector.id}`)).statusCode).toBe(404);
  });

  it('pages oldest first with a keyset cursor', async () => {
    for (const n of [1, 2, 3]) expect((await post({ name: `Page${n}${sfx}` })).statusCode).toBe(201);
    const first = (await api.as('admin', `/sectors?name=${encodeURIComponent(`${sfx}`)}&limit=2`)).json();
    const names = first.items.map((s: { name: string }) => s.name);
    expect(first.nextAfter).toEqual(expect.any(Number));
    const second = (await api.as('admin', `/sectors?name=${encodeURIComponent(`${sfx}`)}&limit=2&after=${first.nextAfter}`)).json();
    expect([...names, ...second.items.map((s: { name: string }) => s.name)].filter((n: string) => n.startsWith('Page'))).toEqual([`Page1${sfx}`, `Page2${sfx}`, `Page3${sfx}`]);
  });

  it('refuses a second sector with the same name with a 409 naming the field', async () => {
    await post({ name: `Twice${sfx}` });
    const res = await post({ name: `Twice${sfx}` });
    expect(res.statusCode).toBe(409);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.json().errors).toEqual([{ field: 'body.name', message: expect.stringMatching(/already taken/) }]);
  });

  it('refuses to delete a sector in use, naming what uses it', async () => {
    const sector = (await post({ name: `Used${sfx}` })).json();
    await sql`INSERT INTO occurrence_type (name, sector_id) VALUES (${`Complaint${sfx}`}, ${sector.id})`;
    const res = await api.as('admin', { method: 'DELETE', url: `/sectors/${sector.id}` });
    expect(res.statusCode).toBe(409);
    expect(res.json().detail).toMatch(new RegExp(`sector ${sector.id} is in use by occurrence type «Complaint${sfx}» \\(id \\d+\\)`));
  });

  it('says which calendar does not exist', async () => {
    const res = await post({ name: `Cal${sfx}`, calendarId: 999_999_999 });
    expect(res.statusCode).toBe(400);
    expect(res.json().errors).toEqual([{ field: 'body.calendarId', message: 'there is no calendar with id 999999999' }]);
  });
});

describe('/sectors with hostile bodies', () => {
  it('answers each with a 4xx naming the field, or stores the value as sent', async () => {
    for (const c of hostileBodies({ name: `Hostile${sfx}`, calendarId: 1 }, { required: ['name'], ids: ['calendarId'] })) {
      checkCase(await post({ ...c.body, name: c.field === 'body.name' ? c.body.name : `${c.name}${sfx}` }), c);
    }
  });

  it('answers each change with a 4xx naming the field, or stores the value as sent', async () => {
    const { id } = (await post({ name: `Hostile patch${sfx}` })).json();
    for (const c of hostileBodies({ name: `Renamed${sfx}`, calendarId: 1 }, { required: [], ids: ['calendarId'] })) {
      checkCase(await api.as('admin', { method: 'PATCH', url: `/sectors/${id}`, payload: c.body }), c);
    }
  });
});
