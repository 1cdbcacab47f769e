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
let occurrenceA: number;
let occurrenceB: number;

beforeAll(async () => {
  [sectorA, sectorB] = (await sql<{ id: number }[]>`INSERT INTO sector (name) VALUES (${`SoA${sfx}`}), (${`SoB${sfx}`}) RETURNING id`).map((r) => r.id) as [number, number];
  const [type] = await sql<{ id: number }[]>`INSERT INTO occurrence_type (name) VALUES (${`SoType${sfx}`}) RETURNING id`;
  [occurrenceA, occurrenceB] = (
    await sql<{ id: number }[]>`INSERT INTO occurrence (occurrence_type_id, name, sla_value, sla_unit)
                                VALUES (${type!.id}, ${`SoOccA${sfx}`}, 4, 'hours'), (${type!.id}, ${`SoOccB${sfx}`}, 1, 'days') RETURNING id`
  ).map((r) => r.id) as [number, number];
});

const post = (payload: unknown) => api.as('admin', { method: 'POST', url: '/solutions', payload: payload as object });
const patch = (id: number, payload: unknown) => api.as('admin', { method: 'PATCH', url: `/solutions/${id}`, payload: payload as object });
const fieldsOf = (res: { json(): { errors?: { field: string }[] } }) => (res.json().errors ?? []).map((e) => e.field);
const stored = async (id: number) => sql`SELECT position, name, sector_id, sla_value, sla_unit FROM solution_step WHERE solution_id = ${id} ORDER BY position`;

describe('/solutions', () => {
  it('creates, reads, lists, changes and deletes a solution, keeping the order of its steps', async () => {
    const created = await post({
      occurrenceId: occurrenceA,
      name: `Refund${sfx}`,
      flow: 'main',
      steps: [
        { name: 'Check the order', sectorId: sectorB, slaValue: 2, slaUnit: 'hours' },
        { name: 'Approve', sectorId: sectorA },
        { name: 'Pay back', sectorId: sectorB, slaValue: null, slaUnit: null },
      ],
    });
    expect(created.statusCode).toBe(201);
    const solution = created.json();
    expect(solution).toEqual({
      id: expect.any(Number),
      occurrenceId: occurrenceA,
      name: `Refund${sfx}`,
      flow: 'main',
      steps: [
        { position: 1, name: 'Check the order', sectorId: sectorB, slaValue: 2, slaUnit: 'hours' },
        { position: 2, name: 'Approve', sectorId: sectorA, slaValue: null, slaUnit: null },
        { position: 3, name: 'Pay back', sectorId: sectorB, slaValue: null, slaUnit: null },
      ],
      createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    });
    expect((await stored(solution.id)).map((s) => s.name)).toEqual(['Check the order', 'Approve', 'Pay back']);
    expect((await api.as('backoffice', `/solutions/${solution.id}`)).json()).toEqual(solution);
    expect((await api.as('agent', `/solutions?occurrenceId=${occurrenceA}&name=REFUND`)).json().items).toEqual([solution]);

    const renamed = await patch(solution.id, { name: `Refund v2${sfx}` });
    expect(renamed.json()).toEqual({ ...solution, name: `Refund v2${sfx}` });

    const reordered = await patch(solution.id, {
      steps: [
        { name: 'Pay back', sectorId: sectorB },
        { name: 'Check the order', sectorId: sectorA, slaValue: 30, slaUnit: 'minutes' },
      ],
    });
    expect(reordered.statusCode).toBe(200);
    expect(reordered.json().steps).toEqual([
      { position: 1, name: 'Pay back', sectorId: sectorB, slaValue: null, slaUnit: null },
      { position: 2, name: 'Check the order', sectorId: sectorA, slaValue: 30, slaUnit: 'minutes' },
    ]);
    expect(await stored(solution.id)).toEqual([
      { position: 1, name: 'Pay back', sectorId: sectorB, slaValue: null, slaUnit: null },
      { position: 2, name: 'Check the order', sectorId: sectorA, slaValue: 30, slaUnit: 'minutes' },
    ]);
    expect((await patch(solution.id, {})).json()).toEqual(reordered.json());

    expect((await api.as('agent', { method: 'DELETE', url: `/solutions/${solution.id}` })).statusCode).toBe(403);
    expect((await api.as('admin', { method: 'DELETE', url: `/solutions/${solution.id}` })).statusCode).toBe(204);
    expect((await api.as('admin', `/solutions/${solution.id}`)).statusCode).toBe(404);
    expect(await stored(solution.id)).toEqual([]);
    expect((await patch(solution.id, { steps: [{ name: 'x', sectorId: sectorA }] })).statusCode).toBe(404);
  });

  it('keeps the steps as they were when a change is refused', async () => {
    const solution = (await post({ occurrenceId: occurrenceB, name: `Atomic${sfx}`, flow: 'main', steps: [{ name: 'One', sectorId: sectorA }, { name: 'Two', sectorId: sectorB }] })).json();
    const res = await patch(solution.id, { name: `Atomic changed${sfx}`, steps: [{ name: 'New', sectorId: sectorA }, { name: 'Broken', sectorId: 999_999_999 }] });
    expect(res.statusCode).toBe(400);
    expect(res.json().errors).toEqual([{ field: 'body.steps.1.sectorId', message: 'there is no sector with id 999999999' }]);
    expect((await api.as('admin', `/solutions/${solution.id}`)).json()).toEqual(solution);
  });

  it('takes 1 to 50 steps, each SLA with both halves or neither', async () => {
    const step = { name: 'Step', sectorId: sectorA };
    const base = { occurrenceId: occurrenceB, name: `Count${sfx}`, flow: 'main' };
    expect(fieldsOf(await post({ ...base, steps: [] }))).toEqual(['body.steps']);
    expect(fieldsOf(await post({ ...base, steps: Array(51).fill(step) }))).toEqual(['body.steps']);
    expect(fieldsOf(await post(base))).toEqual(['body.steps']);
    expect(fieldsOf(await post({ ...base, steps: [step, { ...step, slaValue: 3 }] }))).toEqual(['body.steps.1.slaUnit']);
    expect(fieldsOf(await post({ ...base, steps: [{ ...step, slaUnit: 'days' }] }))).toEqual(['body.steps.0.slaValue']);
    expect(fieldsOf(await post({ ...base, steps: [{ ...step, slaValue: 366, slaUnit: 'days' }] }))).toEqual(['body.steps.0.slaValue']);
    expect(fieldsOf(await post({ ...base, steps: [{ ...step, position: 1 }] }))).toEqual(['body.steps.0.position']);
    const fifty = await post({ ...base, steps: Array.from({ length: 50 }, (_, i) => ({ ...step, name: `Step ${i + 1}` })) });
    expect(fifty.statusCode).toBe(201);
    expect(fifty.json().steps.map((s: { position: number; name: string }) => `${s.position}:${s.name}`)).toEqual(Array.from({ length: 50 }, (_, i) => `${i + 1}:Step ${i + 1}`));
  });

  it('allows many main solutions per occurrence and one alternative, with a 409 naming flow', async () => {
    const [type] = await sql<{ id: number }[]>`INSERT INTO occurrence_type (name) VALUES (${`SoFlow${sfx}`}) RETURNING id`;
    const [occ] = await sql<{ id: number }[]>`INSERT INTO occurrence (occurrence_type_id, name, sla_value, sla_unit) VALUES (${type!.id}, ${`Flow${sfx}`}, 1, 'hours') RETURNING id`;
    const steps = [{ name: 'Only', sectorId: sectorA }];
    const main1 = await post({ occurrenceId: occ!.id, name: 'Main 1', flow: 'main', steps });
    const main2 = await post({ occurrenceId: occ!.id, name: 'Main 2', flow: 'main', steps });
    const alternative = await post({ occurrenceId: occ!.id, name: 'Plan B', flow: 'alternative', steps });
    expect([main1.statusCode, main2.statusCode, alternative.statusCode]).toEqual([201, 201, 201]);

    const second = await post({ occurrenceId: occ!.id, name: 'Plan C', flow: 'alternative', steps });
    expect(second.statusCode).toBe(409);
    expect(second.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(second.json().errors).toEqual([{ field: 'body.flow', message: expect.stringContaining(`already has its alternative solution «Plan B» (id ${alternative.json().id})`) }]);
    expect((await patch(main2.json().id, { flow: 'alternative' })).statusCode).toBe(409);
    expect((await patch(alternative.json().id, { name: 'Plan B2', flow: 'alternative' })).statusCode).toBe(200);
    // Another occurrence has its own alternative.
    expect((await post({ occurrenceId: occurrenceB, name: `Plan B${sfx}`, flow: 'alternative', steps })).statusCode).toBe(201);

    const twice = await post({ occurrenceId: occ!.id, name: 'Main 1', flow: 'main', steps });
    expect(twice.statusCode).toBe(409);
    expect(fieldsOf(twice)).toEqual(['body.occurrenceId', 'body.name']);
  });

  it('filters by occurrence, flow and name, and pages oldest first', async () => {
    const [type] = await sql<{ id: number }[]>`INSERT INTO occurrence_type (name) VALUES (${`SoList${sfx}`}) RETURNING id`;
    const [occ] = await sql<{ id: number }[]>`INSERT INTO occurrence (occurrence_type_id, name, sla_value, sla_unit) VALUES (${type!.id}, ${`List${sfx}`}, 1, 'hours') RETURNING id`;
    const steps = [{ name: 'Only', sectorId: sectorA }];
    const made = [];
    for (const [name, flow] of [['Alpha', 'main'], ['Beta', 'alternative'], ['Gamma', 'main'], ['Alphabet', 'main']]) {
      made.push((await post({ occurrenceId: occ!.id, name, flow, steps })).json());
    }
    const names = async (query: string) => {
      const all: string[] = [];
      let after: number | null = null;
      do {
        const res = await api.as('agent', `/solutions?occurrenceId=${occ!.id}&${query}&limit=1${after ? `&after=${after}` : ''}`);
        expect(res.statusCode).toBe(200);
        all.push(...res.json().items.map((s: { name: string }) => s.name));
        after = res.json().nextAfter;
      } while (after !== null);
      return all;
    };
    expect(await names('flow=main')).toEqual(['Alpha', 'Gamma', 'Alphabet']);
    expect(await names('flow=alternative')).toEqual(['Beta']);
    expect(await names('name=alpha')).toEqual(['Alpha', 'Alphabet']);
    const page = (await api.as('agent', `/solutions?occurrenceId=${occ!.id}&limit=2`)).json();
    expect(page.items).toEqual(made.slice(0, 2));
    expect(page.nextAfter).toBe(made[1].id);
    expect(fieldsOf(await api.as('agent', '/solutions?flow=other'))).toEqual(['querystring.flow']);
  });

  it('keeps the occurrence fixed, and refuses to delete a solution a mailbox uses', async () => {
    const solution = (await post({ occurrenceId: occurrenceA, name: `Fixed${sfx}`, flow: 'main', steps: [{ name: 'Only', sectorId: sectorA }] })).json();
    const moved = await patch(solution.id, { occurrenceId: occurrenceB });
    expect(moved.statusCode).toBe(400);
    expect(moved.json().errors).toEqual([{ field: 'body.occurrenceId', message: expect.stringMatching(/^cannot be changed/) }]);

    await sql`INSERT INTO mailbox (name, imap_host, imap_port, imap_user, imap_secret, solution_id) VALUES (${`SoBox${sfx}`}, 'localhost', 993, 'u', 'x', ${solution.id})`;
    const res = await api.as('admin', { method: 'DELETE', url: `/solutions/${solution.id}` });
    expect(res.statusCode).toBe(409);
    expect(res.json().detail).toMatch(new RegExp(`solution ${solution.id} is in use by mailbox «SoBox${sfx}»`));
    expect((await stored(solution.id)).length).toBe(1);
  });

  it('says which occurrence or step sector does not exist', async () => {
    expect((await post({ occurrenceId: 999_999_999, name: `Nowhere${sfx}`, flow: 'main', steps: [{ name: 'x', sectorId: sectorA }] })).json().errors).toEqual([
      { field: 'body.occurrenceId', message: 'there is no occurrence with id 999999999' },
    ]);
    const res = await post({ occurrenceId: occurrenceA, name: `Nowhere${sfx}`, flow: 'main', steps: [{ name: 'x', sectorId: sectorA }, { name: 'y', sectorId: 999_999_999 }] });
    expect(res.json().errors).toEqual([{ field: 'body.steps.1.sectorId', message: 'there is no sector with id 999999999' }]);
  });
});

describe('/solutions with hostile bodies', () => {
  const validStep = () => ({ name: 'Check', sectorId: sectorA, slaValue: 2, slaUnit: 'hours' });
  const valid = () => ({ occurrenceId: occurrenceA, name: `Hostile${sfx}`, flow: 'main', steps: [validStep()] });
  it('answers each create with a 4xx naming the field, or stores the value as sent', async () => {
    for (const c of hostileBodies(valid(), { required: ['occurrenceId', 'name', 'flow', 'steps'], ids: ['occurrenceId'] })) {
      checkCase(await post({ ...c.body, name: c.field === 'body.name' ? c.body.name : `${c.name}${sfx}` }), c);
    }
  });
  it('answers each change with a 4xx naming the field, or stores the value as sent', async () => {
    const target = (await post({ ...valid(), name: `HostileTarget${sfx}` })).json();
    const { occurrenceId: _fixed, ...changeable } = valid();
    for (const c of hostileBodies(changeable, { required: [] })) {
      checkCase(await patch(target.id, { ...c.body, name: c.field === 'body.name' ? c.body.name : `${c.name}${sfx}` }), c);
    }
  });
  it('answers each hostile step with a 4xx naming the step field, or stores the step as sent', async () => {
    const target = (await post({ ...valid(), name: `HostileSteps${sfx}` })).json();
    for (const c of hostileBodies(validStep(), { required: ['name', 'sectorId'], ids: ['sectorId'] })) {
      const nested = { ...c, field: c.field.replace(/^body\./, 'body.steps.1.') };
      for (const res of [
        await post({ ...valid(), name: `${c.name}${sfx}`, steps: [validStep(), c.body] }),
        await patch(target.id, { steps: [validStep(), c.body] }),
      ]) {
        if (res.statusCode >= 300) {
          checkCase(res, nested);
          continue;
        }
        expect(c.expect, `${c.name}: ${res.statusCode}`).toBe('fine');
        expect(res.json().steps[1], c.name).toEqual({ position: 2, ...c.body });
      }
    }
  });
});
