import { describe, expect, it } from 'vitest';
import type { Sql } from '../../db/client.js';
import { ALWAYS_OPEN } from '../../domain/business-calendar.js';
import { useTestApi, type TestApi } from '../harness/api.js';
import { uniqueSuffix } from '../harness/fixtures.js';
import { checkCase, hostileBodies } from '../harness/hostile-bodies.js';

let sql: Sql;
let api: TestApi;
useTestApi((s, a) => ([sql, api] = [s, a]));
const sfx = uniqueSuffix();


const closed = { monday: [], tuesday: [], wednesday: [], thursday: [], friday: [], saturday: [], sunday: [] };
const office = { ...closed, monday: [{ from: '08:00', to: '12:00' }, { from: '13:00', to: '18:00' }], friday: [{ from: '08:00', to: '12:00' }] };
const body = (name: string) => ({ name, timeZone: 'America/Sao_Paulo', weeklyHours: office, holidays: [{ date: '2025-12-25', name: 'Christmas' }] });

const post = (payload: unknown) => api.as('admin', { method: 'POST', url: '/calendars', payload: payload as object });
const patch = (id: number, payload: unknown) => api.as('admin', { method: 'PATCH', url: `/calendars/${id}`, payload: payload as object });
const errors = (res: { json(): { errors?: unknown } }) => res.json().errors;

describe('/calendars', () => {
  it('creates, reads, lists, changes and deletes a calendar', async () => {
    const created = await post(body(`Office${sfx}`));
    expect(created.statusCode).toBe(201);
    const calendar = created.json();
    expect(calendar).toEqual({ id: expect.any(Number), ...body(`Office${sfx}`), isDefault: false, createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) });

    expect((await api.as('agent', `/calendars/${calendar.id}`)).json()).toEqual(calendar);
    expect((await api.as('backoffice', `/calendars?name=${encodeURIComponent(`office${sfx.toUpperCase()}`)}`)).json()).toEqual({ items: [calendar], nextAfter: null });

    const holidays = [{ date: '2026-01-01', name: 'New year' }];
    const changed = await patch(calendar.id, { timeZone: 'Asia/Kolkata', holidays });
    expect(changed.statusCode).toBe(200);
    expect(changed.json()).toEqual({ ...calendar, timeZone: 'Asia/Kolkata', holidays });

    expect((await api.as('agent', { method: 'DELETE', url: `/calendars/${calendar.id}` })).statusCode).toBe(403);
    expect((await api.as('admin', { method: 'DELETE', url: `/calendars/${calendar.id}` })).statusCode).toBe(204);
    expect((await api.as('admin', `/calendars/${calendar.id}`)).statusCode).toBe(404);
  });

  it('stores intervals in time order and holidays in date order; holidays default to none', async () => {
    const weeklyHours = { ...closed, sunday: [{ from: '13:00', to: '24:00' }, { from: '00:00', to: '06:00' }] };
    const res = await post({ name: `Night${sfx}`, timeZone: 'UTC', weeklyHours });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({ holidays: [], weeklyHours: { ...closed, sunday: [{ from: '00:00', to: '06:00' }, { from: '13:00', to: '24:00' }] } });
    const holidays = [
      { date: '2025-12-25', name: 'Christmas' },
      { date: '2025-01-01', name: 'New year' },
    ];
    expect((await patch(res.json().id, { holidays })).json().holidays).toEqual([holidays[1], holidays[0]]);
  });

  it('always has the default 24x7 calendar, which cannot be deleted or have its hours changed', async () => {
    const [row] = await sql<{ id: number }[]>`SELECT id FROM calendar WHERE is_default`;
    const id = row!.id;
    const all: { id: number; isDefault: boolean }[] = [];
    for (let after: number | null = 0; after !== null; ) {
      const page: { items: typeof all; nextAfter: number | null } = (await api.as('agent', `/calendars?limit=200${after ? `&after=${after}` : ''}`)).json();
      all.push(...page.items);
      after = page.nextAfter;
    }
    expect(all.filter((c) => c.isDefault)).toEqual([expect.objectContaining({ id, timeZone: 'UTC', weeklyHours: ALWAYS_OPEN, holidays: [] })]);

    const deleted = await api.as('admin', { method: 'DELETE', url: `/calendars/${id}` });
    expect(deleted.statusCode).toBe(409);
    expect(deleted.json().detail).toMatch(/default 24x7 calendar .* cannot be deleted/);

    const changed = await patch(id, { weeklyHours: office, name: `Renamed${sfx}` });
    expect(changed.statusCode).toBe(409);
    expect(changed.json().detail).toMatch(/only its name can change, not weeklyHours/);
    expect((await patch(id, { holidays: [] })).statusCode).toBe(409);
    expect((await api.as('admin', `/calendars/${id}`)).json()).toMatchObject({ isDefault: true, weeklyHours: ALWAYS_OPEN });
    // isDefault is not a field anyone writes.
    expect(errors(await post({ ...body(`Default${sfx}`), isDefault: true }))).toEqual([{ field: 'body.isDefault', message: expect.any(String) }]);
  });

  it('filters by name and pages oldest first', async () => {
    const tag = `Paged${uniqueSuffix()}`;
    const ids: number[] = [];
    for (const n of [1, 2, 3]) ids.push((await post(body(`${tag}-${n}`))).json().id);
    const first = (await api.as('admin', `/calendars?name=${encodeURIComponent(tag)}&limit=2`)).json();
    expect(first.items.map((c: { id: number }) => c.id)).toEqual(ids.slice(0, 2));
    const second = (await api.as('admin', `/calendars?name=${encodeURIComponent(tag)}&limit=2&after=${first.nextAfter}`)).json();
    expect(second).toEqual({ items: [expect.objectContaining({ id: ids[2] })], nextAfter: null });
  });

  it('refuses a repeated name with a 409 naming the field', async () => {
    expect((await post(body(`Twice${sfx}`))).statusCode).toBe(201);
    const res = await post(body(`Twice${sfx}`));
    expect(res.statusCode).toBe(409);
    expect(errors(res)).toEqual([{ field: 'body.name', message: expect.stringMatching(/already taken/) }]);
  });

  it('refuses to delete a calendar a sector names', async () => {
    const calendar = (await post(body(`Used${sfx}`))).json();
    const sector = await api.as('admin', { method: 'POST', url: '/sectors', payload: { name: `Calendar user${sfx}`, calendarId: calendar.id } });
    expect(sector.statusCode).toBe(201);
    const res = await api.as('admin', { method: 'DELETE', url: `/calendars/${calendar.id}` });
    expect(res.statusCode).toBe(409);
    expect(res.json().detail).toMatch(new RegExp(`calendar ${calendar.id} is in use by sector «Calendar user${sfx}»`));
  });

  it('names the interval or holiday that is wrong', async () => {
    const week = (w: object) => post({ ...body(`Bad${uniqueSuffix()}`), weeklyHours: { ...closed, ...w } });
    expect(errors(await week({ tuesday: [{ from: '22:00', to: '06:00' }] }))).toEqual([{ field: 'body.weeklyHours.tuesday.0.to', message: expect.stringMatching(/must be after from \(22:00\); an overnight shift is two intervals/) }]);
    expect(errors(await week({ monday: [{ from: '08:00', to: '12:00' }, { from: '11:00', to: '13:00' }] }))).toEqual([
      { field: 'body.weeklyHours.monday.1.from', message: 'overlaps the interval 08:00–12:00 of the same day' },
    ]);
    expect(errors(await week({ monday: [{ from: '8:00', to: '24:30' }] }))).toEqual([
      { field: 'body.weeklyHours.monday.0.from', message: 'must be a time HH:MM from 00:00 to 24:00' },
      { field: 'body.weeklyHours.monday.0.to', message: 'must be a time HH:MM from 00:00 to 24:00' },
    ]);
    expect(errors(await week({}))).toEqual([{ field: 'body.weeklyHours', message: expect.stringMatching(/at least one day/) }]);
    expect(errors(await week({ Monday: [], friday: office.friday }))).toEqual([{ field: 'body.weeklyHours.Monday', message: expect.any(String) }]);
    expect(errors(await post({ ...body(`Bad${sfx}`), weeklyHours: { monday: office.monday } }))).toEqual(
      ['tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'].map((d) => ({ field: `body.weeklyHours.${d}`, message: 'is required' })),
    );
    const holidays = [
      { date: '2025-12-25', name: 'Christmas' },
      { date: '2025-12-25', name: 'Again' },
      { date: '2025-02-30', name: 'Nowhere' },
    ];
    expect(errors(await post({ ...body(`Bad${sfx}`), holidays }))).toEqual([
      { field: 'body.holidays.2.date', message: expect.any(String) },
      { field: 'body.holidays.1.date', message: '2025-12-25 is already a holiday (item 0); one holiday per date' },
    ]);
    for (const timeZone of ['EST', 'america/sao_paulo', 'Mars/Olympus', 'UTC+3']) {
      expect(errors(await post({ ...body(`Bad${sfx}`), timeZone })), timeZone).toEqual([{ field: 'body.timeZone', message: expect.stringMatching(/IANA time zone/) }]);
    }
  });

  it('answers hostile bodies with a 4xx naming the field, or stores the value as sent', async () => {
    const valid = body(`Hostile${sfx}`);
    for (const c of hostileBodies(valid, { required: ['name', 'timeZone', 'weeklyHours'] })) {
      checkCase(await post({ ...c.body, name: c.field === 'body.name' ? c.body.name : `${c.name}${sfx}` }), c);
    }
    const target = (await post(body(`Target${sfx}`))).json();
    for (const c of hostileBodies(body(`Changed${sfx}`), { required: [] })) {
      checkCase(await patch(target.id, c.body), c);
    }
  });
});
