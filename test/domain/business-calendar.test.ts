import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ALWAYS_OPEN,
  holidayProblems,
  intervalProblems,
  isTimeZone,
  minutesOf,
  sortedHolidays,
  sortedWeek,
  WEEKDAYS,
  weeklyHoursProblems,
  type Interval,
  type WeeklyHours,
} from '../../domain/business-calendar.js';

const closedWeek = (): WeeklyHours => Object.fromEntries(WEEKDAYS.map((d) => [d, []])) as unknown as WeeklyHours;
const hhmm = (m: number) => `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;

describe('times of a business calendar', () => {
  it.each([
    ['00:00', 0],
    ['08:30', 510],
    ['23:59', 1439],
    ['24:00', 1440],
  ])('%s is minute %i of the day', (time, minutes) => {
    expect(minutesOf(time)).toBe(minutes);
  });

  it.each(['24:01', '25:00', '8:00', '08:60', '0800', '08:00:00', ' 08:00', '', 'noon'])('%j is not a time', (time) => {
    expect(minutesOf(time)).toBeUndefined();
  });
});

describe('intervals of one day', () => {
  it('accepts ordered, unordered and touching intervals, and a whole day', () => {
    expect(intervalProblems([])).toEqual([]);
    expect(intervalProblems([{ from: '00:00', to: '24:00' }])).toEqual([]);
    expect(
      intervalProblems([
        { from: '13:00', to: '18:00' },
        { from: '08:00', to: '12:00' },
        { from: '12:00', to: '13:00' },
      ]),
    ).toEqual([]);
  });

  it('refuses an interval that does not end after it starts, and says how to write a night shift', () => {
    expect(intervalProblems([{ from: '22:00', to: '06:00' }])).toEqual([
      { path: [0, 'to'], message: 'must be after from (22:00); an overnight shift is two intervals, e.g. 22:00–24:00 and 00:00–06:00 on the next day' },
    ]);
    expect(intervalProblems([{ from: '10:00', to: '10:00' }])).toEqual([{ path: [0, 'to'], message: expect.stringMatching(/^must be after from/) }]);
    expect(intervalProblems([{ from: '24:00', to: '24:00' }])).toEqual([{ path: [0, 'from'], message: '24:00 can only end an interval' }]);
  });

  it('names the later-starting interval of an overlap, and the one it overlaps', () => {
    expect(
      intervalProblems([
        { from: '08:00', to: '18:00' },
        { from: '09:00', to: '10:00' },
        { from: '11:00', to: '12:00' },
      ]),
    ).toEqual([
      { path: [1, 'from'], message: 'overlaps the interval 08:00–18:00 of the same day' },
      { path: [2, 'from'], message: 'overlaps the interval 08:00–18:00 of the same day' },
    ]);
    expect(
      intervalProblems([
        { from: '10:00', to: '14:00' },
        { from: '08:00', to: '11:00' },
      ]),
    ).toEqual([{ path: [0, 'from'], message: 'overlaps the interval 08:00–11:00 of the same day' }]);
  });

  it('leaves malformed times to the schema', () => {
    expect(intervalProblems([{ from: 'x', to: '25:00' }, { from: '08:00', to: '09:00' }])).toEqual([]);
  });

  it('finds an overlap exactly when two intervals share a minute', () => {
    const interval = fc
      .tuple(fc.integer({ min: 0, max: 1439 }), fc.integer({ min: 1, max: 1440 }))
      .filter(([a, b]) => a < b)
      .map(([a, b]): Interval => ({ from: hhmm(a), to: hhmm(b) }));
    fc.assert(
      fc.property(fc.array(interval, { maxLength: 6 }), (intervals) => {
        const minutes = new Array<number>(1440).fill(0);
        for (const i of intervals) for (let m = minutesOf(i.from)!; m < minutesOf(i.to)!; m++) minutes[m]!++;
        expect(intervalProblems(intervals).length > 0).toBe(minutes.some((n) => n > 1));
      }),
    );
  });
});

describe('a week of service hours', () => {
  it('accepts the 24x7 week and a business week', () => {
    expect(weeklyHoursProblems(ALWAYS_OPEN)).toEqual([]);
    const week = { ...closedWeek(), monday: [{ from: '08:00', to: '18:00' }], friday: [{ from: '08:00', to: '12:00' }] };
    expect(weeklyHoursProblems(week)).toEqual([]);
  });

  it('puts the weekday in the path of a problem', () => {
    const week = { ...closedWeek(), monday: [{ from: '08:00', to: '18:00' }], sunday: [{ from: '18:00', to: '08:00' }] };
    expect(weeklyHoursProblems(week)).toEqual([{ path: ['sunday', 0, 'to'], message: expect.stringMatching(/^must be after from/) }]);
  });

  it('refuses a week closed every day', () => {
    expect(weeklyHoursProblems(closedWeek())).toEqual([{ path: [], message: expect.stringMatching(/at least one day/) }]);
  });

  it('knows the weekdays, monday first', () => {
    expect(WEEKDAYS).toEqual(['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday']);
  });

  it('sorts each day by start time', () => {
    const week = { ...closedWeek(), tuesday: [{ from: '13:00', to: '18:00' }, { from: '08:00', to: '12:00' }] };
    expect(sortedWeek(week).tuesday).toEqual([{ from: '08:00', to: '12:00' }, { from: '13:00', to: '18:00' }]);
    expect(Object.keys(sortedWeek(week))).toEqual([...WEEKDAYS]);
  });
});

describe('holidays', () => {
  it('refuses a second holiday on the same date, naming the first', () => {
    const holidays = [
      { date: '2025-12-25', name: 'Christmas' },
      { date: '2025-01-01', name: 'New year' },
      { date: '2025-12-25', name: 'Christmas again' },
    ];
    expect(holidayProblems(holidays)).toEqual([{ path: [2, 'date'], message: '2025-12-25 is already a holiday (item 0); one holiday per date' }]);
    expect(sortedHolidays(holidays).map((h) => h.date)).toEqual(['2025-01-01', '2025-12-25', '2025-12-25']);
    expect(holidayProblems(holidays.slice(0, 2))).toEqual([]);
  });
});

describe('time zones', () => {
  it.each(['UTC', 'America/Sao_Paulo', 'Europe/Lisbon', 'Asia/Kolkata', 'Asia/Calcutta', 'Europe/Kyiv', 'America/Argentina/Buenos_Aires', 'Etc/GMT+3'])('%s is one', (zone) =>
    expect(isTimeZone(zone)).toBe(true),
  );
  it.each(['', 'Mars/Olympus', 'america/sao_paulo', 'GMT+3', 'utc', 'UTC ', 'EST', 'America/Sao_Paulo/', '../etc/passwd'])('%j is not', (zone) => expect(isTimeZone(zone)).toBe(false));
});
