/**
 * Service time (SPEC §6): how much of a stretch of time a business calendar is open, and the
 * instant a given amount of service time after a start. A sector's SLA runs on this clock.
 *
 * Decisions [DECIDED]:
 * - An instant is in service when its wall-clock date and time in the calendar's zone fall in
 *   one of that weekday's intervals and the date is not a holiday. So a day's hours follow the
 *   clock on the wall: 00:00–24:00 on a spring-forward day is 23 h, 01:00–03:00 on a fall-back
 *   day is 3 h (01:00–02:00 happens twice), and 02:00–03:00 on a spring-forward day in New York
 *   never happens.
 * - Everything is in whole milliseconds; a fractional `ms` is rounded up (a due time is never
 *   early).
 * - Pure and deterministic (it runs inside Temporal workflows): no clock, no randomness, no
 *   state between calls; only Luxon's own memo of zone formatters.
 *
 * How: a wall-clock reading is kept as "local ms" (the wall time read as if it were UTC). There
 * the open hours repeat every week, so the service time up to any local ms is arithmetic:
 * whole weeks times the week's total, plus a prefix of one week, minus the holidays before it.
 * Time is then cut into stretches of constant UTC offset, where instant = local ms − offset.
 * The cost is one offset look-up per 3 days of wall-clock time, however the hours and holidays
 * fall in it: no walking minute by minute or day by day.
 */
import { FixedOffsetZone, IANAZone, type Zone } from 'luxon';
import { MINUTES_PER_DAY, WEEKDAYS, minutesOf, ALWAYS_OPEN, type WeeklyHours } from './business-calendar.js';

export interface ServiceCalendar {
  timeZone: string;
  weeklyHours: WeeklyHours;
  /** `YYYY-MM-DD` dates in the calendar's zone; each closes its whole date. */
  holidays: string[];
}

/** The default calendar: open all the time, in UTC, no holidays. */
export const ALWAYS_OPEN_CALENDAR: ServiceCalendar = Object.freeze({ timeZone: 'UTC', weeklyHours: ALWAYS_OPEN, holidays: [] });

const MINUTE = 60_000;
const DAY = 86_400_000;
const WEEK = 7 * DAY;
/** 1970-01-05, the first Monday of the epoch (day 0 was a Thursday): weeks start on Mondays. */
const FIRST_MONDAY = 4 * DAY;
/**
 * How far apart the offset is sampled. The shortest stretch of one offset in the tz database
 * is about 4 days (Africa/Freetown, 1939; since 1970 about 7 days, Brazil 2000), so a stretch
 * never hides between two samples with the same offset.
 */
const PROBE = 3 * DAY;

interface Compiled {
  zone: Zone;
  /** A zone whose offset never changes: one stretch for all time. */
  fixed: boolean;
  /** The open intervals of a week in ms from Monday 00:00, merged, in order. */
  starts: number[];
  ends: number[];
  /** Open ms of the week before each interval, and after it. */
  before: number[];
  after: number[];
  weekTotal: number;
  /** Holidays as local ms of their midnight, in order. */
  holidays: number[];
  /** Open ms the holidays before each one took away (length holidays + 1). */
  lost: number[];
  /** Service time up to each holiday's midnight. */
  atHoliday: number[];
}

function zoneOf(name: string): Zone {
  // IANAZone rather than Luxon's zone parser, which reads 'local' or 'system' as the machine's zone.
  if (name === 'UTC') return FixedOffsetZone.utcInstance;
  const zone = typeof name === 'string' ? IANAZone.create(name) : undefined;
  if (!zone?.isValid) throw new Error(`Unknown time zone "${String(name)}" in the business calendar`);
  return zone;
}

function compile(cal: ServiceCalendar): Compiled {
  const zone = zoneOf(cal.timeZone);
  const spans: [number, number][] = [];
  WEEKDAYS.forEach((day, index) => {
    for (const interval of cal.weeklyHours[day] ?? []) {
      const from = minutesOf(interval.from);
      const to = minutesOf(interval.to);
      if (from === undefined || to === undefined || from >= to || from === MINUTES_PER_DAY) {
        throw new Error(`Invalid service hours on ${day}: ${interval.from}–${interval.to}`);
      }
      spans.push([index * DAY + from * MINUTE, index * DAY + to * MINUTE]);
    }
  });
  // Merging makes touching intervals and night shifts (…–24:00, 00:00–… next day) one stretch.
  spans.sort((a, b) => a[0] - b[0]);
  const starts: number[] = [];
  const ends: number[] = [];
  for (const [from, to] of spans) {
    const last = ends.length - 1;
    if (last >= 0 && from <= ends[last]!) ends[last] = Math.max(ends[last]!, to);
    else {
      starts.push(from);
      ends.push(to);
    }
  }
  const before: number[] = [];
  const after: number[] = [];
  let weekTotal = 0;
  starts.forEach((from, i) => {
    before.push(weekTotal);
    weekTotal += ends[i]! - from;
    after.push(weekTotal);
  });
  const week = { starts, ends, before, after, weekTotal };

  const holidays = [...new Set(cal.holidays ?? [])].map(holidayMs).sort((a, b) => a - b);
  const lost = [0];
  const atHoliday: number[] = [];
  holidays.forEach((h, j) => {
    atHoliday.push(weekly(week, h) - lost[j]!);
    lost.push(lost[j]! + weekly(week, h + DAY) - weekly(week, h));
  });
  return { zone, fixed: zone.isUniversal, ...week, holidays, lost, atHoliday };
}

function holidayMs(date: string): number {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  const ms = match ? Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3])) : NaN;
  // The round trip rejects dates that do not exist (2025-02-30) instead of rolling them over.
  if (Number.isNaN(ms) || new Date(ms).toISOString().slice(0, 10) !== date) {
    throw new Error(`Invalid holiday "${date}" in the business calendar: expected an existing date as YYYY-MM-DD`);
  }
  return ms;
}

type Week = Pick<Compiled, 'starts' | 'ends' | 'before' | 'after' | 'weekTotal'>;

/** The number of elements of a sorted array below `value`. */
function countBelow(sorted: readonly number[], value: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Open ms of the weekly hours from the first Monday of the epoch to local ms `at`, holidays aside. */
function weekly(c: Week, at: number): number {
  let k = Math.floor((at - FIRST_MONDAY) / WEEK);
  let m = at - FIRST_MONDAY - k * WEEK;
  // Guards against a rounded quotient; exact for every date a calendar meets.
  if (m < 0) {
    k -= 1;
    m += WEEK;
  } else if (m >= WEEK) {
    k += 1;
    m -= WEEK;
  }
  const i = countBelow(c.starts, m) - 1;
  const inWeek = i < 0 ? 0 : c.before[i]! + Math.min(m, c.ends[i]!) - c.starts[i]!;
  return k * c.weekTotal + inWeek;
}

/** The earliest local ms at which `weekly` reaches `value`. */
function weeklyInverse(c: Week, value: number): number {
  let k = Math.ceil(value / c.weekTotal) - 1;
  let r = value - k * c.weekTotal;
  if (r <= 0) {
    k -= 1;
    r += c.weekTotal;
  } else if (r > c.weekTotal) {
    k += 1;
    r -= c.weekTotal;
  }
  // r is in (0, weekTotal]: it ends inside (or at the end of) the first interval that holds it.
  const i = countBelow(c.after, r);
  return FIRST_MONDAY + k * WEEK + c.starts[i]! + r - c.before[i]!;
}

/** Service time from the epoch's first Monday to local ms `at`: the weekly hours less the holidays. */
function service(c: Compiled, at: number): number {
  const n = countBelow(c.holidays, at);
  if (n > 0 && at < c.holidays[n - 1]! + DAY) return c.atHoliday[n - 1]!; // inside a holiday
  return weekly(c, at) - c.lost[n]!;
}

/** The earliest local ms at which `service` reaches `value`. */
function serviceInverse(c: Compiled, value: number): number {
  // The holidays that end before the answer are those whose start has less service than wanted.
  const n = countBelow(c.atHoliday, value);
  return weeklyInverse(c, value + c.lost[n]!);
}

function offsetMs(c: Compiled, at: number): number {
  return Math.round(c.zone.offset(at) * MINUTE);
}

/**
 * The stretch of constant offset that starts at `from` (whose offset is `offset`), cut at
 * `limit` and at one probe: its end, and the offset from there on.
 */
function stretch(c: Compiled, from: number, offset: number, limit: number): { end: number; next: number } {
  if (c.fixed) return { end: limit, next: offset };
  const probe = Math.min(from + PROBE, limit);
  const there = offsetMs(c, probe);
  if (there === offset) return { end: probe, next: offset };
  // The offset changes in (from, probe]: find the first ms with the new one.
  let lo = from;
  let hi = probe;
  let next = there;
  while (hi - lo > 1) {
    const mid = lo + Math.floor((hi - lo) / 2);
    const o = offsetMs(c, mid);
    if (o === offset) lo = mid;
    else {
      hi = mid;
      next = o;
    }
  }
  return { end: hi, next };
}

function instant(date: Date, what: string): number {
  const ms = date instanceof Date ? date.getTime() : NaN;
  if (!Number.isFinite(ms)) throw new Error(`${what} is not a valid date`);
  return ms;
}

/** Service time (ms) between two instants: 0 when to <= from. */
export function serviceTimeBetween(cal: ServiceCalendar, from: Date, to: Date): number {
  const start = instant(from, 'from');
  const end = instant(to, 'to');
  const c = compile(cal);
  let total = 0;
  let at = start;
  let offset = offsetMs(c, at);
  while (at < end) {
    const s = stretch(c, at, offset, end);
    total += service(c, s.end + offset) - service(c, at + offset);
    at = s.end;
    offset = s.next;
  }
  return total;
}

/** The earliest instant t with serviceTimeBetween(cal, start, t) === ms (ms >= 0); ms = 0 gives start. */
export function addServiceTime(cal: ServiceCalendar, start: Date, ms: number): Date {
  const from = instant(start, 'start');
  if (!(ms >= 0) || !Number.isFinite(ms)) throw new Error(`Service time must be a finite number of ms >= 0, not ${ms}`);
  const c = compile(cal);
  let left = Math.ceil(ms);
  if (left === 0) return new Date(from);
  if (c.weekTotal === 0) throw new Error('The business calendar has no service hours: no amount of service time ever passes');
  let at = from;
  let offset = offsetMs(c, at);
  for (;;) {
    const s = stretch(c, at, offset, Infinity);
    const base = service(c, at + offset);
    const here = s.end === Infinity ? Infinity : service(c, s.end + offset) - base;
    if (here >= left) return new Date(serviceInverse(c, base + left) - offset);
    left -= here;
    at = s.end;
    offset = s.next;
  }
}
