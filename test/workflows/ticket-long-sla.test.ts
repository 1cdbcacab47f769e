import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import { changeStatusUpdate, ticketViewQuery, type Actor, type TicketView } from '../../contracts/ticket.js';
import type { WeeklyHours } from '../../domain/business-calendar.js';
import { addServiceTime, serviceTimeBetween, type ServiceCalendar } from '../../domain/service-time.js';
import type { TicketStatus } from '../../domain/ticket-status.js';
import { uniqueSuffix } from '../harness/common.js';
import { eventually } from '../harness/fixtures.js';
import { firings, insertTicket, lifecycleConfig, send, startTicketWorkflow, type LifecycleConfig } from '../harness/lifecycle.js';
import { useTimeSkipping } from '../harness/time-skipping.js';

/**
 * The real ticket workflow and activities, on PostgreSQL, with SLAs of days on a business
 * calendar: Temporal's time-skipping test server lets weeks of workflow time pass in a second.
 * Each threshold must fire at the instant the pure service-time rules give, across a weekend, a
 * holiday, a change of daylight saving time, and a pause while the ticket waits for its customer.
 * The server's clock only moves forward, and each test starts from where the last one left it.
 */
const rig = useTimeSkipping('long-sla');

const ZONE = 'America/New_York';
const OFFICE = [{ from: '09:00', to: '17:00' }];
const WEEKLY_HOURS: WeeklyHours = { monday: OFFICE, tuesday: OFFICE, wednesday: OFFICE, thursday: OFFICE, friday: OFFICE, saturday: [], sunday: [] };
const THRESHOLDS = [50, 100, 150];
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const SYSTEM: Actor = { userId: null, login: 'test', role: 'system', sectorIds: [] };

/** Configuration through the API: the sector on a New York office calendar with one holiday, the occurrence's SLA, alerts at 50/100/150 %. */
async function configure(holiday: string, sla: { slaValue: number; slaUnit: 'hours' | 'days' }): Promise<{ cfg: LifecycleConfig; calendar: ServiceCalendar }> {
  const cfg = await lifecycleConfig(rig.api, { slaMinutes: 60, thresholds: THRESHOLDS });
  const calendar = await send(rig.api, 'POST', '/calendars', { name: `New York office${uniqueSuffix()}`, timeZone: ZONE, weeklyHours: WEEKLY_HOURS, holidays: [{ date: holiday, name: 'Office closed' }] });
  await send(rig.api, 'PATCH', `/sectors/${cfg.sectorId}`, { calendarId: calendar.id }, 200);
  await send(rig.api, 'PATCH', `/occurrences/${cfg.occurrenceId}`, sla, 200);
  return { cfg, calendar: { timeZone: ZONE, weeklyHours: WEEKLY_HOURS, holidays: [holiday] } };
}

/** Moves the server's clock on to `at` (the SLA counts from the ticket's creation in workflow time). */
async function skipTo(at: Date): Promise<void> {
  const ms = at.getTime() - (await rig.now()).getTime();
  if (ms > 0) await rig.env.sleep(ms);
}

/** A ticket created at `at` exactly, its workflow started. */
async function ticketAt(cfg: LifecycleConfig, at: Date) {
  const t = await insertTicket(rig.sql, cfg, { ageMs: Date.now() - at.getTime() });
  await rig.sql`UPDATE ticket SET created_at = ${at}, updated_at = ${at} WHERE id = ${t.ticketId}`;
  await rig.sql`UPDATE ticket_event SET at = ${at} WHERE ticket_id = ${t.ticketId} AND kind = 'created'`;
  const handle = await startTicketWorkflow(rig.client, rig.taskQueue, t.protocol);
  return { ...t, handle };
}

const local = (at: Date | string) => DateTime.fromJSDate(new Date(at), { zone: ZONE });
const thresholdDue = (cal: ServiceCalendar, from: Date, budgetMs: number, percent: number, usedMs = 0) => addServiceTime(cal, from, Math.ceil((budgetMs * percent) / 100) - usedMs);

/** In the office's hours (the end counts: the last ms of the day is spent by 17:00), never on the holiday. */
function expectOpen(at: Date, cal: ServiceCalendar): void {
  const t = local(at);
  const minutes = t.hour * 60 + t.minute + (t.second * 1000 + t.millisecond) / MINUTE;
  expect(t.weekday, `${t.toISO()} is a weekday`).toBeLessThanOrEqual(5);
  expect(cal.holidays, `${t.toISO()} is not the holiday`).not.toContain(t.toISODate());
  expect(minutes, `${t.toISO()} is in office hours`).toBeGreaterThan(9 * 60);
  expect(minutes, `${t.toISO()} is in office hours`).toBeLessThanOrEqual(17 * 60);
}

/** Lets the server's time run past `until`, then checks every threshold fired once, in order, at its instant. */
async function expectFired(ticket: { ticketId: number; handle: Awaited<ReturnType<typeof ticketAt>>['handle'] }, expected: Date[], until: Date): Promise<TicketView> {
  await skipTo(new Date(until.getTime() + HOUR));
  const rows = await eventually(async () => {
    const r = await firings(rig.sql, ticket.ticketId);
    return r.length >= THRESHOLDS.length ? r : undefined;
  }, 10_000, 'the three SLA alerts');
  expect(rows.map((r) => [r.key, r.threshold, r.dueAt])).toEqual(THRESHOLDS.map((p, i) => [`sla:${p}`, p, expected[i]!.toISOString()]));
  // fired_at is the database's real clock; the timeline's event carries the workflow's time of firing.
  const events = await rig.sql<{ at: string; threshold: number; dueAt: string }[]>`
    SELECT at, (data->>'threshold')::int AS threshold, data->>'dueAt' AS due_at FROM ticket_event WHERE ticket_id = ${ticket.ticketId} AND kind = 'sla_alert' ORDER BY id`;
  expect(events.map((e) => [e.threshold, e.dueAt])).toEqual(THRESHOLDS.map((p, i) => [p, expected[i]!.toISOString()]));
  for (const e of events) {
    const late = new Date(e.at).getTime() - new Date(e.dueAt).getTime();
    expect(late, `sla:${e.threshold} fired in workflow time at its instant, not before it nor long after`).toBeGreaterThanOrEqual(0);
    expect(late).toBeLessThan(MINUTE);
  }
  const [row] = await rig.sql<{ slaState: string; slaDueAt: string }[]>`SELECT sla_state, sla_due_at FROM ticket WHERE id = ${ticket.ticketId}`;
  expect(row).toEqual({ slaState: 'breached', slaDueAt: expected[1]!.toISOString() });
  const view = await ticket.handle.query(ticketViewQuery);
  expect(view.sla).toEqual({ state: 'breached', dueAt: expected[1]!.toISOString(), paused: false });
  return view;
}

/** The first US daylight-saving change (a Sunday) whose Friday before, 15:00 in New York, is still ahead of `after`. */
function nextDstWeekend(after: Date): { sunday: DateTime; friday3pm: DateTime } {
  let day = local(after).startOf('day');
  for (let i = 0; i < 800; i++, day = day.plus({ days: 1 })) {
    const changes = day.set({ hour: 12 }).offset !== day.minus({ days: 1 }).set({ hour: 12 }).offset;
    const friday3pm = day.minus({ days: 2 }).set({ hour: 15 });
    if (changes && friday3pm.toMillis() > after.getTime() + HOUR) return { sunday: day, friday3pm };
  }
  throw new Error('no daylight-saving change in New York within two years');
}

const setStatus = (handle: Awaited<ReturnType<typeof ticketAt>>['handle'], status: TicketStatus) => handle.executeUpdate(changeStatusUpdate, { args: [{ status, actor: SYSTEM, note: 'test' }] });

async function statusChangedAt(ticketId: number, to: TicketStatus): Promise<Date> {
  const [e] = await rig.sql<{ at: string }[]>`SELECT at FROM ticket_event WHERE ticket_id = ${ticketId} AND kind = 'status_changed' AND data->>'to' = ${to} ORDER BY id DESC LIMIT 1`;
  return new Date(e!.at);
}

describe('the ticket workflow with SLAs of days on a business calendar (time-skipping server)', () => {
  it('fires a 3-day SLA at 50, 100 and 150 % of 72 office hours, weeks after creation, never on the holiday', async () => {
    const created = await rig.now();
    // A weekday a few days on (the third after today) is a holiday, inside the SLA's span.
    let holiday = local(created).startOf('day');
    for (let weekdays = 0; weekdays < 3; ) {
      holiday = holiday.plus({ days: 1 });
      if (holiday.weekday <= 5) weekdays++;
    }
    const { cfg, calendar } = await configure(holiday.toISODate()!, { slaValue: 3, slaUnit: 'days' });
    const ticket = await ticketAt(cfg, created);

    const budget = 3 * DAY;
    const expected = THRESHOLDS.map((p) => thresholdDue(calendar, created, budget, p));
    for (const at of expected) expectOpen(at, calendar);
    // 72 hours of an 8-hour office day: nine working days, plus the holiday and at least one weekend.
    expect(expected[1]!.getTime() - created.getTime()).toBeGreaterThan(11 * DAY);
    expect(serviceTimeBetween(calendar, created, expected[1]!)).toBe(budget);

    const view = await expectFired(ticket, expected, expected[2]!);
    expect(view.status).toBe('open');
  });

  it('counts office hours across a daylight-saving change: 16 hours from Friday 15:00 is Wednesday 15:00 local, the Monday after being a holiday', async () => {
    const { sunday, friday3pm } = nextDstWeekend(await rig.now());
    const monday = sunday.plus({ days: 1 });
    const { cfg, calendar } = await configure(monday.toISODate()!, { slaValue: 16, slaUnit: 'hours' });
    const created = friday3pm.toJSDate();
    await skipTo(new Date(created.getTime() - 1000));
    const ticket = await ticketAt(cfg, created);

    const budget = 16 * HOUR;
    const expected = THRESHOLDS.map((p) => thresholdDue(calendar, created, budget, p));
    // By hand: Friday 15–17 is 2 h, Monday is closed; 8 h is Tuesday 15:00, 16 h Wednesday 15:00, 24 h Thursday 15:00, all local.
    expect(expected.map((at) => local(at).toISO())).toEqual([2, 3, 4].map((d) => monday.plus({ days: d - 1 }).set({ hour: 15 }).toISO()));
    // The wall clock moved by an hour over the weekend, so the instants are not whole days after Friday 15:00.
    const shift = local(expected[1]!).offset - friday3pm.offset;
    expect(Math.abs(shift)).toBe(60);
    expect(expected[1]!.getTime() - created.getTime()).toBe(5 * DAY - shift * MINUTE);
    for (const at of expected) expectOpen(at, calendar);

    await expectFired(ticket, expected, expected[2]!);
  });

  it('moves every threshold by the office hours the ticket spent waiting for the customer', async () => {
    // Monday 10:00 in New York, with the holiday on its Thursday.
    const now = local(await rig.now());
    let monday = now.startOf('week').set({ hour: 10 });
    while (monday.toMillis() <= now.toMillis() + HOUR) monday = monday.plus({ weeks: 1 });
    const { cfg, calendar } = await configure(monday.plus({ days: 3 }).toISODate()!, { slaValue: 3, slaUnit: 'days' });
    await skipTo(monday.toJSDate());
    const created = await rig.now();
    const ticket = await ticketAt(cfg, created);
    const budget = 3 * DAY;

    const before = await eventually(() => ticket.handle.query(ticketViewQuery).catch(() => undefined), 10_000, 'the workflow to load the ticket');
    const due = thresholdDue(calendar, created, budget, 100);
    expect(before.sla).toEqual({ state: 'on_time', dueAt: due.toISOString(), paused: false });
    // By hand: Monday 10–17, Tuesday, Wednesday, Friday and the next week are 71 h; the last hour ends Monday 10:00 two weeks on.
    expect(Math.abs(due.getTime() - monday.plus({ weeks: 2 }).toMillis())).toBeLessThan(MINUTE);

    const paused = await setStatus(ticket.handle, 'waiting_customer');
    expect(paused.sla).toMatchObject({ paused: true, dueAt: null, state: 'on_time' });
    await rig.env.sleep(2 * DAY);
    const resumed = await setStatus(ticket.handle, 'open');

    const pausedAt = await statusChangedAt(ticket.ticketId, 'waiting_customer');
    const resumedAt = await statusChangedAt(ticket.ticketId, 'open');
    const waited = serviceTimeBetween(calendar, pausedAt, resumedAt);
    // Monday 10:00 to Wednesday 10:00 is two office days.
    expect(Math.abs(waited - 16 * HOUR)).toBeLessThan(MINUTE);
    const moved = addServiceTime(calendar, due, waited);
    expect(resumed.sla).toEqual({ state: 'on_time', dueAt: moved.toISOString(), paused: false });
    expect(Math.abs(moved.getTime() - monday.plus({ weeks: 2, days: 2 }).toMillis())).toBeLessThan(MINUTE);

    // A workflow started again from the database (an operator terminated it) keeps the paused time.
    await ticket.handle.terminate('test: started again from the database');
    const again = await startTicketWorkflow(rig.client, rig.taskQueue, ticket.protocol);
    const reloaded = await eventually(() => again.query(ticketViewQuery).catch(() => undefined), 10_000, 'the restarted workflow to load the ticket');
    expect(reloaded.sla).toEqual({ state: 'on_time', dueAt: moved.toISOString(), paused: false });

    const used = serviceTimeBetween(calendar, created, pausedAt);
    const expected = THRESHOLDS.map((p) => thresholdDue(calendar, resumedAt, budget, p, used));
    expect(expected[1]).toEqual(moved);
    for (const at of expected) expectOpen(at, calendar);
    await expectFired({ ...ticket, handle: again }, expected, expected[2]!);
  });
});
