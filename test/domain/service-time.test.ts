import fc from 'fast-check';
import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import { ALWAYS_OPEN, WEEKDAYS, type Interval, type WeeklyHours } from '../../domain/business-calendar.js';
import { ALWAYS_OPEN_CALENDAR, addServiceTime, serviceTimeBetween, type ServiceCalendar } from '../../domain/service-time.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

const add = (cal: ServiceCalendar, start: number, ms: number) => addServiceTime(cal, new Date(start), ms).getTime();
const between = (cal: ServiceCalendar, from: number, to: number) => serviceTimeBetween(cal, new Date(from), new Date(to));
const at = (iso: string, zone: string) => DateTime.fromISO(iso, { zone }).toMillis();
const local = (ms: number, zone: string) => DateTime.fromMillis(ms, { zone }).toFormat("ccc yyyy-MM-dd'T'HH:mm:ss.SSS");

const week = (days: Partial<WeeklyHours>): WeeklyHours => ({ ...Object.fromEntries(WEEKDAYS.map((d) => [d, []])), ...days }) as WeeklyHours;
const nineToSix = [{ from: '09:00', to: '18:00' }];
const weekdays = (hours: Interval[]) => week({ monday: hours, tuesday: hours, wednesday: hours, thursday: hours, friday: hours });
const everyDay = (hours: Interval[]) => week(Object.fromEntries(WEEKDAYS.map((d) => [d, hours])));

/**
 * The definition, checked minute by minute with Luxon's calendar view of each instant (the
 * zones below change offset only on whole minutes): open when the local date is no holiday and
 * the local time is in one of that weekday's intervals.
 */
function bruteForce(cal: ServiceCalendar, from: number, to: number): number {
  const holidays = new Set(cal.holidays);
  let total = 0;
  for (let m = Math.floor(from / MINUTE) * MINUTE; m < to; m += MINUTE) {
    const dt = DateTime.fromMillis(m, { zone: cal.timeZone });
    if (holidays.has(dt.toISODate()!)) continue;
    const minute = dt.hour * 60 + dt.minute;
    const open = cal.weeklyHours[WEEKDAYS[dt.weekday - 1]!].some((i) => minutesOf(i.from) <= minute && minute < minutesOf(i.to));
    if (open) total += Math.min(to, m + MINUTE) - Math.max(from, m);
  }
  return total;
}
const minutesOf = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3));

// --- Generators -------------------------------------------------------------------------------

const ZONES = ['UTC', 'America/New_York', 'Europe/Lisbon', 'America/Sao_Paulo', 'Australia/Lord_Howe'] as const;
const FIRST = Date.UTC(2017, 6, 1);
const LAST = Date.UTC(2027, 6, 1);

/** The instants the zone changes its offset between FIRST and LAST, found with Luxon. */
function transitions(zone: string): number[] {
  const offset = (ms: number) => DateTime.fromMillis(ms, { zone }).offset;
  const found: number[] = [];
  for (let t = FIRST; t < LAST; t += DAY) {
    if (offset(t) === offset(t + DAY)) continue;
    let lo = t;
    let hi = t + DAY;
    while (hi - lo > MINUTE) {
      const mid = lo + Math.floor((hi - lo) / 2 / MINUTE) * MINUTE;
      if (offset(mid) === offset(t)) lo = mid;
      else hi = mid;
    }
    found.push(hi);
  }
  return found;
}
const TRANSITIONS = Object.fromEntries(ZONES.map((z) => [z, transitions(z)])) as Record<(typeof ZONES)[number], number[]>;

const hhmm = (m: number) => `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;
/** Interval ends, biased to the day's edges and to the hours clocks jump (00:00–03:00). */
const boundary = fc.oneof(
  fc.constantFrom(0, 1440, 60, 90, 120, 150, 180, 1320),
  fc.integer({ min: 0, max: 48 }).map((h) => h * 30),
  fc.integer({ min: 0, max: 1440 }),
);
/** A day's intervals: consecutive pairs of sorted ends, so some touch (12:00–14:00, 14:00–18:00). */
const dayHours = fc.array(boundary, { maxLength: 6 }).map((points) => {
  const sorted = [...points].sort((a, b) => a - b);
  const intervals: Interval[] = [];
  for (let i = 0; i + 1 < sorted.length; i += 2) {
    if (sorted[i]! < sorted[i + 1]!) intervals.push({ from: hhmm(sorted[i]!), to: hhmm(sorted[i + 1]!) });
  }
  return intervals;
});
const clear = (intervals: Interval[], from: number, to: number) => intervals.filter((i) => minutesOf(i.to) <= from || minutesOf(i.from) >= to);

const weeklyHours = fc
  .tuple(fc.tuple(...WEEKDAYS.map(() => dayHours)), fc.option(fc.integer({ min: 0, max: 6 })))
  .map(([days, nightShift]) => {
    const hours = week(Object.fromEntries(WEEKDAYS.map((d, i) => [d, days[i]!])));
    if (nightShift !== null) {
      // 22:00–24:00 on one day and 00:00–06:00 on the next: one shift across midnight.
      const [night, morning] = [WEEKDAYS[nightShift]!, WEEKDAYS[(nightShift + 1) % 7]!];
      hours[night] = [...clear(hours[night], 1320, 1440), { from: '22:00', to: '24:00' }];
      hours[morning] = [{ from: '00:00', to: '06:00' }, ...clear(hours[morning], 0, 360)];
    }
    if (WEEKDAYS.every((d) => hours[d].length === 0)) hours.monday = nineToSix;
    return hours;
  });

const isoDate = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/** A calendar and an instant in its zone; holidays near the instant, where they matter. */
const scenario = fc.constantFrom(...ZONES).chain((timeZone) =>
  fc
    .record({
      weeklyHours,
      start: fc.oneof(
        fc.integer({ min: FIRST, max: LAST }),
        // Within two days of a change of offset (UTC has none: anywhere).
        fc.tuple(fc.constantFrom(...(TRANSITIONS[timeZone].length ? TRANSITIONS[timeZone] : [FIRST])), fc.integer({ min: -2 * DAY, max: 2 * DAY })).map(([t, d]) => t + d),
      ),
      holidayDays: fc.uniqueArray(fc.integer({ min: -3, max: 40 }), { maxLength: 8 }),
    })
    .map(({ weeklyHours, start, holidayDays }) => ({
      cal: { timeZone, weeklyHours, holidays: holidayDays.map((d) => isoDate(start + d * DAY)) } satisfies ServiceCalendar,
      start,
    })),
);

const duration = fc.oneof(fc.constantFrom(0, 1, MINUTE, HOUR, DAY), fc.integer({ min: 0, max: 6 * HOUR }), fc.integer({ min: 0, max: 10 * DAY }));
const span = (max: number) => fc.integer({ min: 0, max });

// --- Properties -------------------------------------------------------------------------------

describe('service time: properties on generated calendars', () => {
  it('agrees with the definition checked minute by minute', () => {
    fc.assert(
      fc.property(scenario, span(3 * DAY), ({ cal, start }, length) => {
        expect(between(cal, start, start + length)).toBe(bruteForce(cal, start, start + length));
      }),
      { numRuns: 60 },
    );
  });

  it('inverse: the service time up to start + ms is ms, and 1 ms earlier it is ms − 1 (the earliest such instant)', () => {
    fc.assert(
      fc.property(scenario, duration, ({ cal, start }, ms) => {
        const due = add(cal, start, ms);
        expect(between(cal, start, due)).toBe(ms);
        if (ms === 0) expect(due).toBe(start);
        else expect(between(cal, start, due - 1)).toBe(ms - 1);
      }),
      { numRuns: 300 },
    );
  });

  it('inverse from the other side: the service time up to an instant leads back to it, or to the end of the opening before it', () => {
    // Such amounts end exactly at closings, often right before a holiday: where "earliest" bites.
    fc.assert(
      fc.property(scenario, span(20 * DAY), ({ cal, start }, length) => {
        const ms = between(cal, start, start + length);
        const due = add(cal, start, ms);
        expect(due).toBeLessThanOrEqual(start + length);
        expect(between(cal, due, start + length)).toBe(0);
        if (ms > 0) expect(between(cal, start, due - 1)).toBe(ms - 1);
      }),
      { numRuns: 300 },
    );
  });

  it('monotonic: more service time never ends earlier; later ends never count less', () => {
    fc.assert(
      fc.property(scenario, duration, duration, ({ cal, start }, a, b) => {
        const [lo, hi] = a <= b ? [a, b] : [b, a];
        expect(add(cal, start, lo)).toBeLessThanOrEqual(add(cal, start, hi));
        expect(between(cal, start, start + lo)).toBeLessThanOrEqual(between(cal, start, start + hi));
      }),
      { numRuns: 200 },
    );
  });

  it('additive: adding a then b is adding a + b; spans add up', () => {
    fc.assert(
      fc.property(scenario, duration, duration, ({ cal, start }, a, b) => {
        expect(add(cal, add(cal, start, a), b)).toBe(add(cal, start, a + b));
        const [mid, end] = [start + a, start + a + b];
        expect(between(cal, start, mid) + between(cal, mid, end)).toBe(between(cal, start, end));
      }),
      { numRuns: 200 },
    );
  });

  it('never more than wall-clock time, and 0 when to <= from', () => {
    fc.assert(
      fc.property(scenario, duration, span(20 * DAY), ({ cal, start }, ms, length) => {
        expect(between(cal, start, start + length)).toBeLessThanOrEqual(length);
        expect(between(cal, start + length, start)).toBe(0);
        expect(add(cal, start, ms) - start).toBeGreaterThanOrEqual(ms);
      }),
      { numRuns: 200 },
    );
  });

  it('on a 24x7 calendar, in UTC or in a zone with daylight saving, it is wall-clock time', () => {
    const calendars = [ALWAYS_OPEN_CALENDAR, ...ZONES.map((timeZone) => ({ timeZone, weeklyHours: ALWAYS_OPEN, holidays: [] }))];
    fc.assert(
      fc.property(fc.constantFrom(...calendars), fc.integer({ min: FIRST, max: LAST }), fc.integer({ min: 0, max: 400 * DAY }), (cal, start, ms) => {
        expect(add(cal, start, ms)).toBe(start + ms);
        expect(between(cal, start, start + ms)).toBe(ms);
      }),
      { numRuns: 200 },
    );
  });
});

// --- Examples ---------------------------------------------------------------------------------

describe('service time: examples', () => {
  it('a whole local day is 23 h when clocks spring forward and 25 h when they fall back (New York, Lisbon)', () => {
    const ny = { timeZone: 'America/New_York', weeklyHours: week({ sunday: [{ from: '00:00', to: '24:00' }] }), holidays: [] };
    expect(between(ny, at('2025-03-08T00:00', ny.timeZone), at('2025-03-11T00:00', ny.timeZone))).toBe(23 * HOUR);
    expect(between(ny, at('2025-11-01T00:00', ny.timeZone), at('2025-11-04T00:00', ny.timeZone))).toBe(25 * HOUR);
    // 24 h of service from the short Sunday's start: its 23 h, then the next Sunday's first hour.
    expect(local(add(ny, at('2025-03-09T00:00', ny.timeZone), 24 * HOUR), ny.timeZone)).toBe('Sun 2025-03-16T01:00:00.000');

    const lisbon = { ...ny, timeZone: 'Europe/Lisbon' };
    expect(between(lisbon, at('2025-03-29T00:00', lisbon.timeZone), at('2025-04-01T00:00', lisbon.timeZone))).toBe(23 * HOUR);
    expect(between(lisbon, at('2025-10-25T00:00', lisbon.timeZone), at('2025-10-28T00:00', lisbon.timeZone))).toBe(25 * HOUR);
  });

  it('01:00–03:00 on the day New York falls back is 3 h; 02:00–03:00 on the day it springs forward is none', () => {
    const zone = 'America/New_York';
    const small = { timeZone: zone, weeklyHours: week({ sunday: [{ from: '01:00', to: '03:00' }] }), holidays: [] };
    expect(between(small, at('2025-11-01T00:00', zone), at('2025-11-03T00:00', zone))).toBe(3 * HOUR);
    const gap = { timeZone: zone, weeklyHours: week({ sunday: [{ from: '02:00', to: '03:00' }] }), holidays: [] };
    expect(between(gap, at('2025-03-08T00:00', zone), at('2025-03-10T00:00', zone))).toBe(0);
    // Half an hour past the fall-back's first 01:00 (EDT), 90 min of service remain: to 03:00 EST.
    expect(add(small, Date.parse('2025-11-02T05:30:00Z'), 90 * MINUTE)).toBe(Date.parse('2025-11-02T07:00:00Z'));
  });

  it('Lord Howe moves its clocks by 30 minutes: its local days are 23.5 h and 24.5 h', () => {
    const zone = 'Australia/Lord_Howe';
    const cal = { timeZone: zone, weeklyHours: everyDay([{ from: '00:00', to: '24:00' }]), holidays: [] };
    expect(between(cal, at('2025-10-05T00:00', zone), at('2025-10-06T00:00', zone))).toBe(23.5 * HOUR);
    expect(between(cal, at('2025-04-06T00:00', zone), at('2025-04-07T00:00', zone))).toBe(24.5 * HOUR);
  });

  it('São Paulo, Mon–Fri 09:00–18:00: Friday 17:00 + 2 h is Monday 10:00', () => {
    const zone = 'America/Sao_Paulo';
    const cal = { timeZone: zone, weeklyHours: weekdays(nineToSix), holidays: [] };
    expect(local(add(cal, at('2025-06-06T17:00', zone), 2 * HOUR), zone)).toBe('Mon 2025-06-09T10:00:00.000');
    expect(between(cal, at('2025-06-06T17:00', zone), at('2025-06-09T10:00', zone))).toBe(2 * HOUR);
    // To the millisecond: the last ms of Friday ends at 18:00, the next one is Monday's first.
    expect(local(add(cal, at('2025-06-06T17:59:59.999', zone), 1), zone)).toBe('Fri 2025-06-06T18:00:00.000');
    expect(local(add(cal, at('2025-06-06T17:59:59.999', zone), 2), zone)).toBe('Mon 2025-06-09T09:00:00.001');
  });

  it('a holiday closes its whole local date', () => {
    const zone = 'Europe/Lisbon';
    const cal = { timeZone: zone, weeklyHours: weekdays(nineToSix), holidays: ['2025-06-13'] }; // a Friday
    expect(local(add(cal, at('2025-06-12T17:00', zone), 2 * HOUR), zone)).toBe('Mon 2025-06-16T10:00:00.000');
    expect(local(add(cal, at('2025-06-12T17:00', zone), HOUR), zone)).toBe('Thu 2025-06-12T18:00:00.000');
    expect(between(cal, at('2025-06-12T00:00', zone), at('2025-06-17T00:00', zone))).toBe(18 * HOUR);
    expect(between({ ...cal, holidays: [] }, at('2025-06-12T00:00', zone), at('2025-06-17T00:00', zone))).toBe(27 * HOUR);
  });

  it('a night shift split at midnight counts as one stretch', () => {
    const zone = 'America/New_York';
    const cal = { timeZone: zone, weeklyHours: week({ monday: [{ from: '22:00', to: '24:00' }], tuesday: [{ from: '00:00', to: '06:00' }] }), holidays: [] };
    expect(local(add(cal, at('2025-06-09T23:00', zone), 3 * HOUR), zone)).toBe('Tue 2025-06-10T02:00:00.000');
    expect(between(cal, at('2025-06-09T21:00', zone), at('2025-06-10T07:00', zone))).toBe(8 * HOUR);
    // A holiday on the Tuesday takes only its half of the shift.
    expect(between({ ...cal, holidays: ['2025-06-10'] }, at('2025-06-09T21:00', zone), at('2025-06-10T07:00', zone))).toBe(2 * HOUR);
  });

  it('a start inside a closed period waits for the next opening', () => {
    const zone = 'America/Sao_Paulo';
    const cal = { timeZone: zone, weeklyHours: weekdays([{ from: '08:00', to: '12:00' }, { from: '13:00', to: '17:00' }]), holidays: [] };
    expect(local(add(cal, at('2025-06-07T12:00', zone), 30 * MINUTE), zone)).toBe('Mon 2025-06-09T08:30:00.000');
    expect(local(add(cal, at('2025-06-09T12:15', zone), 90 * MINUTE), zone)).toBe('Mon 2025-06-09T14:30:00.000');
    expect(between(cal, at('2025-06-07T00:00', zone), at('2025-06-09T00:00', zone))).toBe(0);
    // Touching intervals are one stretch.
    const touching = { ...cal, weeklyHours: weekdays([{ from: '08:00', to: '12:00' }, { from: '12:00', to: '17:00' }]) };
    expect(between(touching, at('2025-06-09T11:00', zone), at('2025-06-09T13:00', zone))).toBe(2 * HOUR);
  });

  it('a sparse calendar with many holidays still finishes: 30 days of service at 1 h a week', () => {
    const zone = 'Europe/Lisbon';
    // Open Mondays 10:00–11:00; every Monday of 2026 and 2027 is a holiday.
    const mondays = Array.from({ length: 104 }, (_, i) => isoDate(Date.UTC(2026, 0, 5) + i * 7 * DAY));
    const cal = { timeZone: zone, weeklyHours: week({ monday: [{ from: '10:00', to: '11:00' }] }), holidays: mondays };
    const start = at('2025-12-31T00:00', zone);
    const due = add(cal, start, 30 * DAY);
    expect(between(cal, start, due)).toBe(30 * DAY);
    // 720 Mondays from 2028 on: the due time ends an opening hour, 720 weeks and a bit later.
    expect(local(due, zone)).toMatch(/^Mon \d{4}-\d{2}-\d{2}T11:00:00\.000$/);
    expect(DateTime.fromMillis(due, { zone }).diff(DateTime.fromISO('2028-01-03T11:00', { zone }), 'weeks').weeks).toBe(719);
  });

  it('a 5-day SLA on an 8×5 calendar, from 2000 starts through a year of holidays and clock changes', () => {
    const zone = 'America/New_York';
    const cal = { timeZone: zone, weeklyHours: weekdays([{ from: '09:00', to: '17:00' }]), holidays: ['2025-07-04', '2025-09-01', '2025-11-27', '2025-12-25'] };
    for (let i = 0; i < 2000; i++) {
      const start = Date.UTC(2025, 0, 1) + i * 4 * HOUR + i;
      expect(between(cal, start, add(cal, start, 5 * DAY))).toBe(5 * DAY);
    }
  });

  it('refuses unknown time zones, naming them, and the machine zone', () => {
    const cal = { ...ALWAYS_OPEN_CALENDAR, timeZone: 'Mars/Olympus_Mons' };
    expect(() => add(cal, 0, HOUR)).toThrow(/Mars\/Olympus_Mons/);
    expect(() => between(cal, 0, HOUR)).toThrow(/Mars\/Olympus_Mons/);
    expect(() => add({ ...ALWAYS_OPEN_CALENDAR, timeZone: 'local' }, 0, HOUR)).toThrow(/"local"/);
    expect(() => add(ALWAYS_OPEN_CALENDAR, 0, -1)).toThrow(/>= 0/);
  });
});
