/**
 * Closing resolved tickets by themselves (as Zendesk closes solved tickets after four days and
 * Freshdesk resolved ones after 48 hours): a ticket resolved and left so for its mailbox's
 * `closeResolvedAfterHours` is closed by its workflow, on a durable timer; a reply first
 * reopens it, and a reply after it opens a new ticket that links to it (SPEC §4.4, §8).
 */
import type { TicketStatus } from './ticket-status.js';

/** Four days, Zendesk's default. */
export const DEFAULT_CLOSE_RESOLVED_AFTER_HOURS = 96;
/** A year: longer than that, "never" (null) says it better. */
export const MAX_CLOSE_RESOLVED_AFTER_HOURS = 8760;

const HOUR_MS = 3_600_000;

/** When a ticket closes by itself: `afterHours` after it was resolved, while it stays resolved; null when it does not. */
export function autoCloseAt(status: TicketStatus, resolvedAt: string | null | undefined, afterHours: number | null | undefined): Date | null {
  if (status !== 'resolved' || !resolvedAt || !afterHours) return null;
  return new Date(new Date(resolvedAt).getTime() + afterHours * HOUR_MS);
}
