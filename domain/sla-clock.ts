import { addServiceTime, serviceTimeBetween, type ServiceCalendar } from './service-time.js';
import type { SlaState } from './ticket-status.js';

/**
 * An SLA clock (SPEC §6): a budget of service time on a calendar, the thresholds (percent of
 * the budget) at which alerts fire, and how much of the budget has been used. Plain JSON, so a
 * ticket's workflow keeps it in its state and hands it on across continue-as-new; every
 * function returns a new clock.
 *
 * The clock runs in segments: `consumedMs` is the service time of the finished segments and
 * `runningSince` the start of the current one (null while paused or stopped). A threshold's
 * instant is planned from the current segment, so a pause shifts every later threshold by the
 * service time it lasted, and a change of budget or calendar re-plans from what was used.
 */
export interface SlaPlan {
  /** The SLA as service time, in milliseconds. */
  budgetMs: number;
  calendar: ServiceCalendar;
  /** Percentages of the budget, ascending, without repeats; 100 (the breach) is always one. */
  thresholds: number[];
}

export interface SlaClock extends SlaPlan {
  consumedMs: number;
  /** ISO instant the current segment started; null while paused or stopped. */
  runningSince: string | null;
  /** The thresholds that fired, ascending. */
  fired: number[];
}

/** The thresholds of an alert, with the breach at 100 % always among them. */
export function planThresholds(alertThresholds: readonly number[]): number[] {
  return [...new Set([...alertThresholds, 100])].filter((p) => p > 0).sort((a, b) => a - b);
}

export function startClock(plan: SlaPlan, at: Date, fired: readonly number[] = []): SlaClock {
  return { ...plan, thresholds: planThresholds(plan.thresholds), consumedMs: 0, runningSince: at.toISOString(), fired: [...fired].sort((a, b) => a - b) };
}

/** Service time used by `at`. */
export function consumedBy(c: SlaClock, at: Date): number {
  return c.consumedMs + (c.runningSince === null ? 0 : serviceTimeBetween(c.calendar, new Date(c.runningSince), at));
}

export function pauseClock(c: SlaClock, at: Date): SlaClock {
  if (c.runningSince === null) return c;
  return { ...c, consumedMs: consumedBy(c, at), runningSince: null };
}

export function resumeClock(c: SlaClock, at: Date): SlaClock {
  if (c.runningSince !== null) return c;
  return { ...c, runningSince: at.toISOString() };
}

/** A new budget, calendar or set of thresholds, keeping the time already used and the thresholds that fired. */
export function replanClock(c: SlaClock, plan: SlaPlan, at: Date): SlaClock {
  const running = c.runningSince !== null;
  const paused = pauseClock(c, at);
  const next: SlaClock = { ...paused, ...plan, thresholds: planThresholds(plan.thresholds) };
  return running ? resumeClock(next, at) : next;
}

/** The service time at which a threshold falls, rounded up so an alert is never early. */
function thresholdMs(c: SlaPlan, percent: number): number {
  return Math.ceil((c.budgetMs * percent) / 100);
}

/** When a threshold falls, as planned now; null while the clock does not run. */
export function thresholdAt(c: SlaClock, percent: number): Date | null {
  if (c.runningSince === null) return null;
  const start = new Date(c.runningSince);
  return addServiceTime(c.calendar, start, Math.max(0, thresholdMs(c, percent) - c.consumedMs));
}

/** The first threshold still to fire, and when; null when all fired or the clock does not run. */
export function nextThreshold(c: SlaClock): { percent: number; at: Date } | null {
  const percent = c.thresholds.find((p) => !c.fired.includes(p));
  if (percent === undefined) return null;
  const at = thresholdAt(c, percent);
  return at ? { percent, at } : null;
}

/** The due instant (100 %), as planned now; null while the clock does not run. */
export function clockDueAt(c: SlaClock): Date | null {
  return thresholdAt(c, 100);
}

export function markFired(c: SlaClock, percent: number): SlaClock {
  return c.fired.includes(percent) ? c : { ...c, fired: [...c.fired, percent].sort((a, b) => a - b) };
}

/** `breached` once 100 % fired, `at_risk` once an earlier threshold fired, else `on_time`. */
export function clockState(c: SlaClock): SlaState {
  if (c.fired.some((p) => p >= 100)) return 'breached';
  return c.fired.length > 0 ? 'at_risk' : 'on_time';
}
