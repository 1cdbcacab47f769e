/**
 * The shape rules of a business calendar (SPEC §3): weekly service hours per weekday, each
 * day a list of intervals, and holidays. Pure: the API's schema (schemas/calendars.ts) reports
 * what these find; the service-time arithmetic builds on the same definitions.
 *
 * Decisions [DECIDED]:
 * - A time is `HH:MM` from 00:00 to 24:00; `24:00` is the end of the day and may only end an
 *   interval.
 * - An interval ends after it starts, on the same day: there are no overnight intervals. A
 *   night shift is two intervals, e.g. 22:00–24:00 on Monday and 00:00–06:00 on Tuesday, so
 *   every interval belongs to exactly one date (and one holiday closes exactly that date).
 * - The intervals of a day must not overlap; touching ones (08:00–12:00, 12:00–18:00) are fine.
 * - A day with no intervals is closed; at least one day of the week must have service hours.
 * - A holiday closes its whole date (in the calendar's time zone); one holiday per date.
 */

export const WEEKDAYS = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

export interface Interval {
  from: string;
  to: string;
}
export type WeeklyHours = Record<Weekday, Interval[]>;

export interface Holiday {
  date: string;
  name: string;
}

/** `HH:MM` from 00:00 to 24:00. */
export const TIME_PATTERN = /^(?:(?:[01]\d|2[0-3]):[0-5]\d|24:00)$/;

/** Minutes since midnight of an `HH:MM` time (24:00 = 1440), or undefined when it is not one. */
export function minutesOf(time: string): number | undefined {
  if (!TIME_PATTERN.test(time)) return undefined;
  return Number(time.slice(0, 2)) * 60 + Number(time.slice(3, 5));
}

export const MINUTES_PER_DAY = 24 * 60;

/** A problem with one part of a calendar: `path` below the checked value, and what to do. */
export interface ShapeProblem {
  path: (string | number)[];
  message: string;
}

/**
 * What is wrong with the intervals of one day (path: the index of the interval, then `from`
 * or `to`). Times that are not `HH:MM` are reported by the schema; this checks order and overlap.
 */
export function intervalProblems(intervals: readonly Interval[]): ShapeProblem[] {
  const problems: ShapeProblem[] = [];
  const valid: { index: number; from: number; to: number }[] = [];
  intervals.forEach((interval, index) => {
    const from = minutesOf(interval.from);
    const to = minutesOf(interval.to);
    if (from === undefined || to === undefined) return;
    if (from === MINUTES_PER_DAY) {
      problems.push({ path: [index, 'from'], message: '24:00 can only end an interval' });
      return;
    }
    if (to <= from) {
      problems.push({
        path: [index, 'to'],
        message: `must be after from (${interval.from}); an overnight shift is two intervals, e.g. ${interval.from}–24:00 and 00:00–${interval.to} on the next day`,
      });
      return;
    }
    valid.push({ index, from, to });
  });
  // In start order, an interval overlaps when it starts before the latest end so far.
  let reach: { index: number; to: number } | undefined;
  for (const current of [...valid].sort((a, b) => a.from - b.from || a.index - b.index)) {
    if (reach && current.from < reach.to) {
      const other = intervals[reach.index]!;
      problems.push({ path: [current.index, 'from'], message: `overlaps the interval ${other.from}–${other.to} of the same day` });
    }
    if (!reach || current.to > reach.to) reach = { index: current.index, to: current.to };
  }
  return problems.sort((a, b) => Number(a.path[0]) - Number(b.path[0]));
}

/** What is wrong with a week (path: weekday, then the interval). */
export function weeklyHoursProblems(week: WeeklyHours): ShapeProblem[] {
  const problems = WEEKDAYS.flatMap((day) => intervalProblems(week[day] ?? []).map((p) => ({ ...p, path: [day, ...p.path] })));
  if (WEEKDAYS.every((day) => (week[day] ?? []).length === 0)) {
    problems.push({ path: [], message: 'at least one day needs service hours (a day with no intervals is closed)' });
  }
  return problems;
}

/** What is wrong with a list of holidays (path: the index of the repeated one). */
export function holidayProblems(holidays: readonly Holiday[]): ShapeProblem[] {
  const seen = new Map<string, number>();
  const problems: ShapeProblem[] = [];
  holidays.forEach((h, index) => {
    const first = seen.get(h.date);
    if (first !== undefined) problems.push({ path: [index, 'date'], message: `${h.date} is already a holiday (item ${first}); one holiday per date` });
    else seen.set(h.date, index);
  });
  return problems;
}

/** The intervals of each day in time order (how a calendar is stored and shown). */
export function sortedWeek(week: WeeklyHours): WeeklyHours {
  return Object.fromEntries(WEEKDAYS.map((day) => [day, [...(week[day] ?? [])].sort((a, b) => minutesOf(a.from)! - minutesOf(b.from)!)])) as WeeklyHours;
}

/** Holidays in date order. */
export function sortedHolidays(holidays: readonly Holiday[]): Holiday[] {
  return [...holidays].sort((a, b) => (a.date < b.date ? -1 : a.date > b.date ? 1 : 0));
}

/** A week open all day every day: the default calendar's hours. */
export const ALWAYS_OPEN: WeeklyHours = Object.fromEntries(WEEKDAYS.map((day) => [day, [{ from: '00:00', to: '24:00' }]])) as WeeklyHours;

/** How the tz database writes a zone name: `Area/Location`, each part capitalized. */
const ZONE_NAME = /^[A-Z][A-Za-z]*(?:\/[A-Z][A-Za-z0-9_+-]*)+$/;
let zones: Set<string> | undefined;

/**
 * An IANA time zone name, or `UTC`: one this runtime lists (Intl.supportedValuesOf), or
 * another name of the tz database it knows, spelled as the database spells it. The runtime
 * lists some zones by their former names (Asia/Calcutta, Europe/Kiev), and people write the
 * current ones (Asia/Kolkata, Europe/Kyiv): both are accepted. Abbreviations (EST), offsets
 * (GMT+3) and other spellings (america/sao_paulo) are not.
 */
export function isTimeZone(name: string): boolean {
  zones ??= new Set([...Intl.supportedValuesOf('timeZone'), 'UTC']);
  if (zones.has(name)) return true;
  if (name.length > 100 || !ZONE_NAME.test(name)) return false;
  try {
    new Intl.DateTimeFormat('en', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}
