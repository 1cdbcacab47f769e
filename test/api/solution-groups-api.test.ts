import { beforeAll, describe, expect, it } from 'vitest';
import type { Sql } from '../../db/client.js';
import { useTestApi, type TestApi } from '../harness/api.js';
import { uniqueSuffix } from '../harness/fixtures.js';
import { checkCase, hostileBodies } from '../harness/hostile-bodies.js';

let sql: Sql;
let api: TestApi;
useTestApi((s, a) => ([sql, api] = [s, a]));
const sfx = uniqueSuffix();
let ana: number;
let joao: number;

beforeAll(async () => {
  const user = async (login: string) => (await api.as('admin', { method: 'POST', url: '/users', payload: { login: `${login}${sfx}`, name: login, role: 'agent' } })).json().id as number;
  ana = await user('ana');
  joao = await user('joao');
});

const post = (payload: unknown) => api.as('admin', { method: 'POST', url: '/solution-groups', payload: payload as object });
const patch = (id: number, payload: unknown) => api.as('admin', { method: 'PATCH', url: `/solution-groups/${id}`, payload: payload as object });
const errors = (res: { json(): { errors?: unknown } }) => res.json().errors;

describe('/solution-groups', () => {
  it('creates, reads, lists, changes and deletes a group', async () => {
    const created = await post({ name: `Level 2${sfx}`, memberIds: [joao, ana, joao] });
    expect(created.statusCode).toBe(201);
    const group = created.json();
    expect(group).toEqual({ id: expect.any(Number), name: `Level 2${sfx}`, memberIds: [ana, joao].sort((a, b) => a - b), createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) });

    expect((await api.as('agent', `/solution-groups/${group.id}`)).json()).toEqual(group);
    expect((await api.as('backoffice', `/solution-groups?name=${encodeURIComponent(`LEVEL 2${sfx.toUpperCase()}`)}`)).json()).toEqual({ items: [group], nextAfter: null });

    expect((await patch(group.id, { name: `Level 3${sfx}` })).json()).toEqual({ ...group, name: `Level 3${sfx}` });
    expect((await patch(group.id, { memberIds: [ana] })).json()).toEqual({ ...group, name: `Level 3${sfx}`, memberIds: [ana] });
    expect((await patch(group.id, { memberIds: [] })).json().memberIds).toEqual([]);
    expect((await patch(group.id, {})).json()).toMatchObject({ id: group.id, memberIds: [] });

    expect((await api.as('agent', { method: 'DELETE', url: `/solution-groups/${group.id}` })).statusCode).toBe(403);
    expect((await api.as('admin', { method: 'DELETE', url: `/solution-groups/${group.id}` })).statusCode).toBe(204);
    expect((await api.as('admin', `/solution-groups/${group.id}`)).statusCode).toBe(404);
    expect((await patch(group.id, { name: 'Gone' })).statusCode).toBe(404);
  });

  it('filters by name and member, and pages oldest first', async () => {
    const tag = `Paged${uniqueSuffix()}`;
    const a = (await post({ name: `${tag}-1`, memberIds: [ana] })).json();
    const b = (await post({ name: `${tag}-2`, memberIds: [ana, joao] })).json();
    const c = (await post({ name: `${tag}-3` })).json();
    const ids = async (query: string) => (await api.as('admin', `/solution-groups?name=${encodeURIComponent(tag)}&${query}`)).json().items.map((g: { id: number }) => g.id);
    expect(await ids('')).toEqual([a.id, b.id, c.id]);
    expect(await ids(`memberId=${ana}`)).toEqual([a.id, b.id]);
    expect(await ids(`memberId=${joao}`)).toEqual([b.id]);
    expect(await ids('memberId=999999999')).toEqual([]);
    const first = (await api.as('admin', `/solution-groups?name=${encodeURIComponent(tag)}&limit=2`)).json();
    expect(first).toEqual({ items: [a, b], nextAfter: b.id });
    expect((await api.as('admin', `/solution-groups?name=${encodeURIComponent(tag)}&limit=2&after=${b.id}`)).json()).toEqual({ items: [c], nextAfter: null });
    expect(errors(await api.as('admin', '/solution-groups?memberId=ana'))).toEqual([{ field: 'querystring.memberId', message: expect.any(String) }]);
  });

  it('refuses a repeated name with a 409 naming the field', async () => {
    expect((await post({ name: `Twice${sfx}` })).statusCode).toBe(201);
    const res = await post({ name: `Twice${sfx}`, memberIds: [ana] });
    expect(res.statusCode).toBe(409);
    expect(errors(res)).toEqual([{ field: 'body.name', message: expect.stringMatching(/already taken/) }]);
  });

  it('names the member that does not exist, in memberIds, and keeps nothing of the refused change', async () => {
    const created = await post({ name: `Ghosts${sfx}`, memberIds: [ana, 999_999_999] });
    expect(created.statusCode).toBe(400);
    expect(errors(created)).toEqual([{ field: 'body.memberIds', message: 'there is no user with id 999999999' }]);
    expect((await api.as('admin', `/solution-groups?name=${encodeURIComponent(`Ghosts${sfx}`)}`)).json().items).toEqual([]);

    const group = (await post({ name: `Real${sfx}`, memberIds: [ana] })).json();
    const changed = await patch(group.id, { name: `Renamed${sfx}`, memberIds: [999_999_998] });
    expect(errors(changed)).toEqual([{ field: 'body.memberIds', message: 'there is no user with id 999999998' }]);
    expect((await api.as('admin', `/solution-groups/${group.id}`)).json()).toEqual(group);
  });

  it('refuses to delete a group an occurrence type names, and loses a deleted member', async () => {
    const group = (await post({ name: `Used${sfx}`, memberIds: [ana, joao] })).json();
    await sql`INSERT INTO occurrence_type (name, solution_group_id) VALUES (${`Billing${sfx}`}, ${group.id})`;
    const res = await api.as('admin', { method: 'DELETE', url: `/solution-groups/${group.id}` });
    expect(res.statusCode).toBe(409);
    expect(res.json().detail).toMatch(new RegExp(`solution group ${group.id} is in use by occurrence type «Billing${sfx}»`));

    const temp = (await api.as('admin', { method: 'POST', url: '/users', payload: { login: `temp${sfx}`, name: 'Temp', role: 'agent' } })).json();
    const withTemp = (await patch(group.id, { memberIds: [ana, temp.id] })).json();
    expect(withTemp.memberIds).toEqual([ana, temp.id]);
    expect((await api.as('admin', { method: 'DELETE', url: `/users/${temp.id}` })).statusCode).toBe(204);
    expect((await api.as('admin', `/solution-groups/${group.id}`)).json().memberIds).toEqual([ana]);
  });
});

describe('/solution-groups with hostile bodies', () => {
  it('answers each create and change with a 4xx naming the field, or stores the value as sent', async () => {
    for (const c of hostileBodies({ name: `Hostile${sfx}`, memberIds: [ana] }, { required: ['name'], ids: ['memberIds'] })) {
      checkCase(await post({ ...c.body, name: c.field === 'body.name' ? c.body.name : `${c.name}${sfx}` }), c);
    }
    const target = (await post({ name: `Target${sfx}` })).json();
    for (const c of hostileBodies({ name: `Changed${sfx}`, memberIds: [joao] }, { required: [], ids: ['memberIds'] })) {
      checkCase(await patch(target.id, c.body), c);
    }
  });
});
