import { z } from 'zod';
import { holidayProblems, isTimeZone, TIME_PATTERN, WEEKDAYS, weeklyHoursProblems, type ShapeProblem } from '../domain/business-calendar.js';
import { date, pageQuery, searchParam, text, timestamp } from './common.js';

/** Reports the domain's shape problems as zod issues at their paths. */
const report = (problems: ShapeProblem[], ctx: z.core.$RefinementCtx) => {
  for (const p of problems) ctx.addIssue({ code: 'custom', path: p.path, message: p.message });
};

const time = z.string().regex(TIME_PATTERN, 'must be a time HH:MM from 00:00 to 24:00');

const interval = z.strictObject({
  from: time.describe('HH:MM, 00:00 to 23:59'),
  to: time.describe('HH:MM, after `from`, up to 24:00 (the end of the day)'),
});

const day = z.array(interval).max(48, 'must have at most 48 intervals').describe('service intervals of the day, not overlapping; empty = closed');

const weeklyHoursShape = Object.fromEntries(WEEKDAYS.map((d) => [d, day])) as Record<(typeof WEEKDAYS)[number], typeof day>;

/** Service hours per weekday (SPEC §3). */
export const weeklyHours = z
  .strictObject(weeklyHoursShape)
  .superRefine((week, ctx) => report(weeklyHoursProblems(week), ctx))
  .describe(
    'Every weekday, monday to sunday, with its service intervals. An interval ends after it starts on the same day (24:00 = midnight at the end of the day); ' +
      'a night shift is two intervals (22:00–24:00 on one day, 00:00–06:00 on the next). Intervals of a day must not overlap (touching is fine); ' +
      'an empty list means closed all day; at least one day must have hours. Intervals are stored and shown in time order.',
  );

const holiday = z.strictObject({
  date: date.describe('YYYY-MM-DD'),
  name: text(200),
});

export const holidays = z
  .array(holiday)
  .max(1000, 'must have at most 1000 holidays')
  .superRefine((list, ctx) => report(holidayProblems(list), ctx))
  .describe('Dates closed all day (in the calendar time zone); one holiday per date; stored and shown in date order.');

export const timeZone = z
  .string()
  .max(100, 'must be at most 100 characters')
  .refine(isTimeZone, 'must be an IANA time zone name as the tz database spells it, e.g. America/Sao_Paulo, or UTC')
  .describe('an IANA time zone name as the tz database spells it (current or former name, e.g. Asia/Kolkata or Asia/Calcutta), or UTC; not abbreviations like EST');

/** A business calendar: the hours in which SLA time runs for the sectors that name it. */
export const calendar = z
  .object({
    id: z.number(),
    name: z.string(),
    timeZone: z.string(),
    weeklyHours,
    holidays: z.array(holiday),
    isDefault: z.boolean().describe('the 24x7 calendar of sectors that name none; exactly one, which cannot be deleted or have its hours changed'),
    createdAt: timestamp,
  })
  .meta({ id: 'Calendar' });

export const calendarCreate = z.strictObject({
  name: text(200),
  timeZone,
  weeklyHours,
  holidays: holidays.optional().describe('default none'),
});
export const calendarUpdate = calendarCreate.partial();
export const calendarListQuery = pageQuery.extend({
  name: searchParam.optional().describe('part of the name, any case'),
});

export type Calendar = z.infer<typeof calendar>;
export type CalendarCreate = z.infer<typeof calendarCreate>;
export type CalendarUpdate = z.infer<typeof calendarUpdate>;
export type CalendarListQuery = z.infer<typeof calendarListQuery>;
