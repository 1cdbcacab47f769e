import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { clockDueAt, clockState, consumedBy, markFired, nextThreshold, pauseClock, planThresholds, replanClock, resumeClock, startClock } from '../../domain/sla-clock.js';
import { ALWAYS_OPEN_CALENDAR, type ServiceCalendar } from '../../domain/service-time.js';
import { transitionProblem, TICKET_STATUSES } from '../../domain/ticket-status.js';
import { ALWAYS_OPEN } from '../../domain/business-calendar.js';

const HOUR = 3_600_000;
const at = (iso: string) => new Date(iso);
const plan = (budgetMs: number, thresholds = [50, 100], calendar: ServiceCalendar = ALWAYS_OPEN_CALENDAR) => ({ budgetMs, calendar, thresholds });

/** Mon–Fri 09:00–18:00 in São Paulo (UTC−3, no DST since 2019). */
const OFFICE: ServiceCalendar = {
  timeZone: 'America/Sao_Paulo',
  weeklyHours: { ...ALWAYS_OPEN, ...Object.fromEntries(['monday', 'tuesday', 'wednesday', 'thursday', 'friday'].map((d) => [d, [{ from: '09:00', to: '18:00' }]])), saturday: [], sunday: [] },
  holidays: [],
};

describe('SLA clock', () => {
  it('always has the breach at 100 % among its thresholds, in order, once', () => {
    expect(planThresholds([150, 50, 80, 50])).toEqual([50, 80, 100, 150]);
    expect(planThresholds([])).toEqual([100]);
  });

  it('plans each threshold from the start, in service time', () => {
    const c = startClock(plan(4 * HOUR), at('2026-03-02T12:00:00Z'));
    expect(nextThreshold(c)).toEqual({ percent: 50, at: at('2026-03-02T14:00:00Z') });
    expect(clockDueAt(c)).toEqual(at('2026-03-02T16:00:00Z'));
    const fired = markFired(c, 50);
    expect(clockState(fired)).toBe('at_risk');
    expect(nextThreshold(fired)?.percent).toBe(100);
    expect(clockState(markFired(fired, 100))).toBe('breached');
    expect(nextThreshold(markFired(fired, 100))).toBeNull();
  });

  it('on a business calendar, a Friday-afternoon ticket is due on Monday', () => {
    // Friday 2026-03-06 17:00 local = 20:00Z; 2 h of service: 1 h on Friday, 1 h from Monday 09:00.
    const c = startClock(plan(2 * HOUR, [], OFFICE), at('2026-03-06T20:00:00Z'));
    expect(clockDueAt(c)).toEqual(at('2026-03-09T13:00:00Z'));
  });

  it('shifts every later threshold by the paused time, and knows nothing of due times while paused', () => {
    const c = startClock(plan(4 * HOUR), at('2026-03-02T12:00:00Z'));
    const paused = pauseClock(c, at('2026-03-02T13:00:00Z'));
    expect(consumedBy(paused, at('2026-03-05T00:00:00Z'))).toBe(HOUR);
    expect(nextThreshold(paused)).toBeNull();
    const resumed = resumeClock(paused, at('2026-03-02T13:30:00Z'));
    expect(nextThreshold(resumed)?.at).toEqual(at('2026-03-02T14:30:00Z'));
    expect(clockDueAt(resumed)).toEqual(at('2026-03-02T16:30:00Z'));
  });

  it('re-plans a new budget from the time already used, keeping what fired', () => {
    const c = markFired(startClock(plan(4 * HOUR), at('2026-03-02T12:00:00Z')), 50);
    const shorter = replanClock(c, plan(2 * HOUR, [50, 100]), at('2026-03-02T14:30:00Z'));
    expect(shorter.fired).toEqual([50]);
    // 2.5 h used of a 2 h budget: the breach is due at once.
    expect(nextThreshold(shorter)).toEqual({ percent: 100, at: at('2026-03-02T14:30:00Z') });
  });

  it('fires thresholds in order and never before their instant, however it is paused and resumed (24x7)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 60_000, max: 48 * HOUR }),
        fc.array(fc.tuple(fc.integer({ min: 1, max: 10 * HOUR }), fc.integer({ min: 1, max: 10 * HOUR })), { maxLength: 5 }),
        (budget, pauses) => {
          // Runs `run` ms, pauses `gap` ms, for each pair; the due instant moves by the total of the gaps.
          const start = at('2026-01-01T00:00:00Z').getTime();
          let c = startClock(plan(budget), new Date(start));
          let t = start;
          let gaps = 0;
          for (const [run, gap] of pauses) {
            t += run;
            c = pauseClock(c, new Date(t));
            t += gap;
            gaps += gap;
            c = resumeClock(c, new Date(t));
          }
          const used = t - start - gaps;
          const due = clockDueAt(c)!.getTime();
          expect(due).toBe(Math.max(t, start + budget + gaps));
          return used >= budget || due - t === budget - used;
        },
      ),
    );
  });
});

describe('ticket status transitions (SPEC §8)', () => {
  it('allows exactly the documented changes', () => {
    const allowed = TICKET_STATUSES.flatMap((from) => TICKET_STATUSES.filter((to) => !transitionProblem(from, to)).map((to) => `${from}→${to}`));
    expect(allowed.sort()).toEqual(
      ['open→waiting_customer', 'open→resolved', 'open→cancelled', 'waiting_customer→open', 'waiting_customer→resolved', 'waiting_customer→cancelled', 'resolved→open', 'resolved→closed'].sort(),
    );
  });

  it('says why a change does not apply', () => {
    expect(transitionProblem('resolved', 'cancelled')).toBe('a resolved ticket can only become open or closed, not cancelled');
    expect(transitionProblem('closed', 'open')).toMatch(/closed; nothing can change it/);
    expect(transitionProblem('open', 'open')).toBe('the ticket is already open');
  });
});
