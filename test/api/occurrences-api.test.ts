import { beforeAll, describe, expect, it } from 'vitest';
import type { Sql } from '../../db/client.js';
import { useTestApi, type TestApi } from '../harness/api.js';
import { uniqueSuffix } from '../harness/fixtures.js';
import { checkCase, hostileBodies } from '../harness/hostile-bodies.js';

let sql: Sql;
let api: TestApi;
useTestApi((s, a) => ([sql, api] = [s, a]));
const sfx = uniqueSuffix();
let typeA: number;
let typeB: number;
let sector: number;
let group: number;
let alert: number;

const one = async (q: Promise<{ id: number }[]>) => (await q)[0]!.id;

beforeAll(async () => {
  [typeA, typeB] = (await sql<{ id: number }[]>`INSERT INTO occurrence_type (name) VALUES (${`OcA${sfx}`}), (${`OcB${sfx}`}) RETURNING id`).map((r) => r.id) as [number, number];
  sector = await one(sql`INSERT INTO sector (name) VALUES (${`OcSector${sfx}`}) RETURNING id`);
  group = await one(sql`INSERT INTO solution_group (name) VALUES (${`OcGroup${sfx}`}) RETURNING id`);
  alert = await one(sql`INSERT INTO alert (name, thresholds) VALUES (${`OcAlert${sfx}`}, '{50,100}') RETURNING id`);
});

const post = (payload: unknown) => api.as('admin', { method: 'POST', url: '/occurrences', payload: payload as object });
const patch = (id: number, payload: unknown) => api.as('admin', { method: 'PATCH', url: `/occurrences/${id}`, payload: payload as object });
const fieldsOf = (res: { json(): { errors?: { field: string }[] } }) => (res.json().errors ?? []).map((e) => e.field);

describe('/occurrences', () => {
  it('creates, reads, lists, changes and deletes an occurrence', async () => {
    const created = await post({ occurrenceTypeId: typeA, name: `Late delivery${sfx}`, slaValue: 4, slaUnit: 'hours', sectorId: sector, alertId: alert, observation: 'Check the carrier' });
    expect(created.statusCode).toBe(201);
    const occurrence = created.json();
    expect(occurrence).toEqual({
      id: expect.any(Number),
      occurrenceTypeId: typeA,
      name: `Late delivery${sfx}`,
      slaValue: 4,
      slaUnit: 'hours',
      sectorId: sector,
      solutionGroupId: null,
      alertId: alert,
      observation: 'Check the carrier',
      createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    });
    expect((await api.as('agent', `/occurrences/${occurrence.id}`)).json()).toEqual(occurrence);
    expect((await api.as('backoffice', `/occurrences?occurrenceTypeId=${typeA}&name=LATE`)).json().items).toEqual([occurrence]);

    const changed = await patch(occurrence.id, { slaValue: 2, slaUnit: 'days', solutionGroupId: group, alertId: null, observation: '' });
    expect(changed.statusCode).toBe(200);
    expect(changed.json()).toEqual({ ...occurrence, slaValue: 2, slaUnit: 'days', solutionGroupId: group, alertId: null, observation: null });

    expect((await api.as('agent', { method: 'DELETE', url: `/occurrences/${occurrence.id}` })).statusCode).toBe(403);
    expect((await api.as('admin', { method: 'DELETE', url: `/occurrences/${occurrence.id}` })).statusCode).toBe(204);
    expect((await api.as('admin', `/occurrences/${occurrence.id}`)).statusCode).toBe(404);
  });

  it('keeps the occurrence type fixed after creation', async () => {
    const occurrence = (await post({ occurrenceTypeId: typeA, name: `Fixed${sfx}`, slaValue: 1, slaUnit: 'days' })).json();
    const res = await patch(occurrence.id, { occurrenceTypeId: typeB });
    expect(res.statusCode).toBe(400);
    expect(res.json().errors).toEqual([{ field: 'body.occurrenceTypeId', message: expect.stringMatching(/^cannot be changed/) }]);
    expect((await api.as('admin', `/occurrences/${occurrence.id}`)).json().occurrenceTypeId).toBe(typeA);
  });

  it('requires both halves of the SLA and refuses an SLA longer than 365 days', async () => {
    expect(fieldsOf(await post({ occurrenceTypeId: typeA, name: `NoUnit${sfx}`, slaValue: 4 }))).toEqual(['body.slaUnit']);
    expect(fieldsOf(await post({ occurrenceTypeId: typeA, name: `NoValue${sfx}`, slaUnit: 'hours' }))).toEqual(['body.slaValue']);
    for (const slaValue of [0, -1, 1.5, 525_601]) expect(fieldsOf(await post({ occurrenceTypeId: typeA, name: `Bad${sfx}`, slaValue, slaUnit: 'minutes' }))).toEqual(['body.slaValue']);
    expect(fieldsOf(await post({ occurrenceTypeId: typeA, name: `Bad${sfx}`, slaValue: 4, slaUnit: 'weeks' }))).toEqual(['body.slaUnit']);
    expect(fieldsOf(await post({ occurrenceTypeId: typeA, name: `Long${sfx}`, slaValue: 366, slaUnit: 'days' }))).toEqual(['body.slaValue']);
    expect((await post({ occurrenceTypeId: typeA, name: `Year${sfx}`, slaValue: 525_600, slaUnit: 'minutes' })).statusCode).toBe(201);

    const occurrence = (await post({ occurrenceTypeId: typeA, name: `Halves${sfx}`, slaValue: 8760, slaUnit: 'hours' })).json();
    const res = await patch(occurrence.id, { slaUnit: 'days' });
    expect(res.statusCode).toBe(400);
    expect(res.json().errors).toEqual([{ field: 'body.slaUnit', message: '8760 days is longer than the longest SLA, 365 days' }]);
    expect(fieldsOf(await patch(occurrence.id, { slaValue: 8761 }))).toEqual(['body.slaValue']);
    expect((await patch(occurrence.id, { slaValue: 30, slaUnit: 'days' })).json()).toMatchObject({ slaValue: 30, slaUnit: 'days' });
    expect((await patch(occurrence.id, { slaValue: 365 })).json()).toMatchObject({ slaValue: 365, slaUnit: 'days' });
  });

  it('filters by name, type, sector, solution group and alert, and pages oldest first', async () => {
    const made: { id: number; name: string }[] = [];
    for (const [n, sectorId, solutionGroupId, alertId] of [[1, sector, group, alert], [2, sector, null, null], [3, null, group, alert], [4, sector, group, null]] as const) {
      const res = await post({ occurrenceTypeId: typeB, name: `Filter${n}${sfx}`, slaValue: n, slaUnit: 'hours', sectorId, solutionGroupId, alertId });
      expect(res.statusCode).toBe(201);
      made.push(res.json());
    }
    const names = async (query: string) => {
      const all: string[] = [];
      let after: number | null = null;
      do {
        const res = await api.as('agent', `/occurrences?${query}&limit=1${after ? `&after=${after}` : ''}`);
        expect(res.statusCode).toBe(200);
        all.push(...res.json().items.map((o: { name: string }) => o.name));
        after = res.json().nextAfter;
      } while (after !== null);
      return all;
    };
    const f = (...ns: number[]) => ns.map((n) => `Filter${n}${sfx}`);
    expect(await names(`occurrenceTypeId=${typeB}`)).toEqual(f(1, 2, 3, 4));
    expect(await names(`occurrenceTypeId=${typeB}&sectorId=${sector}`)).toEqual(f(1, 2, 4));
    expect(await names(`occurrenceTypeId=${typeB}&solutionGroupId=${group}`)).toEqual(f(1, 3, 4));
    expect(await names(`alertId=${alert}&occurrenceTypeId=${typeB}`)).toEqual(f(1, 3));
    expect(await names(`name=${encodeURIComponent(`filter2${sfx}`)}`)).toEqual(f(2));
    const first = (await api.as('agent', `/occurrences?occurrenceTypeId=${typeB}&limit=3`)).json();
    expect(first.items.map((o: { id: number }) => o.id)).toEqual(made.slice(0, 3).map((o) => o.id));
    expect(first.nextAfter).toBe(made[2]!.id);
    expect(fieldsOf(await api.as('agent', '/occurrences?alertId=0'))).toEqual(['querystring.alertId']);
  });

  it('allows a name once per type, with a 409 naming the type and the name', async () => {
    expect((await post({ occurrenceTypeId: typeA, name: `Twice${sfx}`, slaValue: 1, slaUnit: 'hours' })).statusCode).toBe(201);
    expect((await post({ occurrenceTypeId: typeB, name: `Twice${sfx}`, slaValue: 1, slaUnit: 'hours' })).statusCode).toBe(201);
    const res = await post({ occurrenceTypeId: typeA, name: `Twice${sfx}`, slaValue: 2, slaUnit: 'hours' });
    expect(res.statusCode).toBe(409);
    expect(fieldsOf(res)).toEqual(['body.occurrenceTypeId', 'body.name']);
  });

  it('refuses to delete an occurrence that has a solution, and an alert an occurrence uses', async () => {
    const occurrence = (await post({ occurrenceTypeId: typeA, name: `Used${sfx}`, slaValue: 1, slaUnit: 'hours', alertId: alert })).json();
    await sql`INSERT INTO solution (occurrence_id, name, flow) VALUES (${occurrence.id}, ${`Refund${sfx}`}, 'main')`;
    const res = await api.as('admin', { method: 'DELETE', url: `/occurrences/${occurrence.id}` });
    expect(res.statusCode).toBe(409);
    expect(res.json().detail).toMatch(new RegExp(`occurrence ${occurrence.id} is in use by solution «Refund${sfx}» \\(id \\d+\\)`));
  });

  it('says which type, sector, solution group or alert does not exist', async () => {
    const base = { occurrenceTypeId: typeA, name: `Nowhere${sfx}`, slaValue: 1, slaUnit: 'hours' };
    for (const [field, noun] of [['occurrenceTypeId', 'occurrence type'], ['sectorId', 'sector'], ['solutionGroupId', 'solution group'], ['alertId', 'alert']]) {
      expect((await post({ ...base, [field!]: 999_999_999 })).json().errors).toEqual([{ field: `body.${field}`, message: `there is no ${noun} with id 999999999` }]);
    }
  });
});

describe('/occurrences with hostile bodies', () => {
  const valid = () => ({ occurrenceTypeId: typeA, name: `Hostile${sfx}`, slaValue: 4, slaUnit: 'hours', sectorId: sector, solutionGroupId: group, alertId: alert, observation: 'Note' });
  it('answers each create with a 4xx naming the field, or stores the value as sent', async () => {
    for (const c of hostileBodies(valid(), { required: ['occurrenceTypeId', 'name', 'slaValue', 'slaUnit'], ids: ['occurrenceTypeId', 'sectorId', 'solutionGroupId', 'alertId'] })) {
      checkCase(await post({ ...c.body, name: c.field === 'body.name' ? c.body.name : `${c.name}${sfx}` }), c);
    }
  });
  it('answers each change with a 4xx naming the field, or stores the value as sent', async () => {
    const target = (await post({ occurrenceTypeId: typeB, name: `HostileTarget${sfx}`, slaValue: 1, slaUnit: 'days' })).json();
    const { occurrenceTypeId: _fixed, ...changeable } = valid();
    for (const c of hostileBodies(changeable, { required: [], ids: ['sectorId', 'solutionGroupId', 'alertId'] })) {
      checkCase(await patch(target.id, { ...c.body, name: c.field === 'body.name' ? c.body.name : `${c.name}${sfx}` }), c);
    }
  });
});
