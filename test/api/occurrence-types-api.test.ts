import { beforeAll, describe, expect, it } from 'vitest';
import type { Sql } from '../../db/client.js';
import { useTestApi, type TestApi } from '../harness/api.js';
import { uniqueSuffix } from '../harness/fixtures.js';
import { checkCase, hostileBodies } from '../harness/hostile-bodies.js';

let sql: Sql;
let api: TestApi;
useTestApi((s, a) => ([sql, api] = [s, a]));
const sfx = uniqueSuffix();
let sectorA: number;
let sectorB: number;
let group: number;

beforeAll(async () => {
  [sectorA, sectorB] = (await sql<{ id: number }[]>`INSERT INTO sector (name) VALUES (${`OtA${sfx}`}), (${`OtB${sfx}`}) RETURNING id`).map((r) => r.id) as [number, number];
  group = (await sql<{ id: number }[]>`INSERT INTO solution_group (name) VALUES (${`OtGroup${sfx}`}) RETURNING id`)[0]!.id;
});

const post = (payload: unknown) => api.as('admin', { method: 'POST', url: '/occurrence-types', payload: payload as object });
const patch = (id: number, payload: unknown) => api.as('admin', { method: 'PATCH', url: `/occurrence-types/${id}`, payload: payload as object });

describe('/occurrence-types', () => {
  it('creates, reads, lists, changes and deletes an occurrence type', async () => {
    const created = await post({ name: `Complaint${sfx}`, sectorId: sectorA, solutionGroupId: group, description: '  Unhappy customers  ', confidential: true });
    expect(created.statusCode).toBe(201);
    const type = created.json();
    expect(type).toEqual({
      id: expect.any(Number),
      name: `Complaint${sfx}`,
      sectorId: sectorA,
      solutionGroupId: group,
      description: 'Unhappy customers',
      anonymous: false,
      confidential: true,
      dynamicSectorFromCreator: false,
      createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    });
    expect((await api.as('agent', `/occurrence-types/${type.id}`)).json()).toEqual(type);
    expect((await api.as('backoffice', `/occurrence-types?name=${encodeURIComponent(`COMPLAINT${sfx}`)}`)).json().items).toEqual([type]);

    const changed = await patch(type.id, { name: `Complaints${sfx}`, sectorId: null, anonymous: true, description: '' });
    expect(changed.statusCode).toBe(200);
    expect(changed.json()).toEqual({ ...type, name: `Complaints${sfx}`, sectorId: null, anonymous: true, description: null });
    expect((await patch(type.id, {})).json()).toEqual(changed.json());

    expect((await api.as('agent', { method: 'DELETE', url: `/occurrence-types/${type.id}` })).statusCode).toBe(403);
    expect((await api.as('admin', { method: 'DELETE', url: `/occurrence-types/${type.id}` })).statusCode).toBe(204);
    expect((await api.as('admin', `/occurrence-types/${type.id}`)).statusCode).toBe(404);
    expect((await patch(type.id, { name: 'gone' })).statusCode).toBe(404);
  });

  it('filters by name, sector and solution group, and pages oldest first', async () => {
    const made = [];
    for (const [n, sectorId, solutionGroupId] of [[1, sectorB, group], [2, sectorB, null], [3, sectorB, group], [4, null, group]] as const) {
      const res = await post({ name: `Filter${n}${sfx}`, sectorId, solutionGroupId });
      expect(res.statusCode).toBe(201);
      made.push(res.json());
    }
    const names = async (query: string) => {
      const all: string[] = [];
      let after: number | null = null;
      do {
        const res = await api.as('agent', `/occurrence-types?${query}&limit=1${after ? `&after=${after}` : ''}`);
        expect(res.statusCode).toBe(200);
        const body = res.json();
        all.push(...body.items.map((t: { name: string }) => t.name));
        after = body.nextAfter;
      } while (after !== null);
      return all;
    };
    expect((await names(`name=${encodeURIComponent(sfx)}`)).filter((n) => n.startsWith('Filter'))).toEqual([1, 2, 3, 4].map((n) => `Filter${n}${sfx}`));
    expect(await names(`sectorId=${sectorB}`)).toEqual([1, 2, 3].map((n) => `Filter${n}${sfx}`));
    expect(await names(`sectorId=${sectorB}&solutionGroupId=${group}`)).toEqual([`Filter1${sfx}`, `Filter3${sfx}`]);
    expect(await names(`solutionGroupId=${group}&name=filter4${sfx}`)).toEqual([`Filter4${sfx}`]);
    expect((await api.as('agent', '/occurrence-types?sectorId=abc')).json().errors).toEqual([{ field: 'querystring.sectorId', message: expect.any(String) }]);
    const first = (await api.as('agent', `/occurrence-types?sectorId=${sectorB}&limit=2`)).json();
    expect(first.items.map((t: { id: number }) => t.id)).toEqual([made[0].id, made[1].id]);
    expect(first.nextAfter).toBe(made[1].id);
  });

  it('allows one name in different sectors but refuses a repeat of (name, sector) with a 409 naming both', async () => {
    expect((await post({ name: `Same${sfx}`, sectorId: sectorA })).statusCode).toBe(201);
    expect((await post({ name: `Same${sfx}`, sectorId: sectorB })).statusCode).toBe(201);
    expect((await post({ name: `Same${sfx}` })).statusCode).toBe(201);
    for (const body of [{ name: `Same${sfx}`, sectorId: sectorA }, { name: `Same${sfx}` }]) {
      const res = await post(body);
      expect(res.statusCode).toBe(409);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.json().errors.map((e: { field: string }) => e.field)).toEqual(['body.name', 'body.sectorId']);
    }
    const other = (await post({ name: `Other${sfx}`, sectorId: sectorA })).json();
    expect((await patch(other.id, { name: `Same${sfx}` })).statusCode).toBe(409);
  });

  it('refuses to delete an occurrence type that has occurrences, naming them', async () => {
    const type = (await post({ name: `Used${sfx}` })).json();
    await sql`INSERT INTO occurrence (occurrence_type_id, name, sla_value, sla_unit) VALUES (${type.id}, ${`Late${sfx}`}, 4, 'hours')`;
    const res = await api.as('admin', { method: 'DELETE', url: `/occurrence-types/${type.id}` });
    expect(res.statusCode).toBe(409);
    expect(res.json().detail).toMatch(new RegExp(`occurrence type ${type.id} is in use by occurrence «Late${sfx}» \\(id \\d+\\)`));
  });

  it('says which sector or solution group does not exist', async () => {
    expect((await post({ name: `Nowhere${sfx}`, sectorId: 999_999_999 })).json().errors).toEqual([{ field: 'body.sectorId', message: 'there is no sector with id 999999999' }]);
    expect((await post({ name: `Nowhere${sfx}`, solutionGroupId: 999_999_999 })).json().errors).toEqual([
      { field: 'body.solutionGroupId', message: 'there is no solution group with id 999999999' },
    ]);
  });
});

describe('/occurrence-types with hostile bodies', () => {
  const valid = () => ({ name: `Hostile${sfx}`, sectorId: sectorA, solutionGroupId: group, description: 'About things', anonymous: false, confidential: true, dynamicSectorFromCreator: false });
  it('answers each create with a 4xx naming the field, or stores the value as sent', async () => {
    for (const c of hostileBodies(valid(), { required: ['name'], ids: ['sectorId', 'solutionGroupId'] })) {
      checkCase(await post({ ...c.body, name: c.field === 'body.name' ? c.body.name : `${c.name}${sfx}` }), c);
    }
  });
  it('answers each change with a 4xx naming the field, or stores the value as sent', async () => {
    const type = (await post({ name: `HostileTarget${sfx}` })).json();
    for (const c of hostileBodies(valid(), { required: [], ids: ['sectorId', 'solutionGroupId'] })) {
      checkCase(await patch(type.id, { ...c.body, name: c.field === 'body.name' ? c.body.name : `${c.name} (change)${sfx}` }), c);
    }
  });
});
