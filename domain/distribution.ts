/**
 * SPEC §5, balanced distribution, as pure functions: which pool a ticket is distributed
 * among, and which member of that pool gets it. The assignment workflow calls these, so this
 * file must stay workflow-safe: no Node APIs, no clock, no randomness, plain JSON data.
 */
import type { DistributionTarget } from './mailbox-rules.js';
import type { TicketStatus } from './ticket-status.js';

/** The statuses that count as a member's load (counted across every channel). */
export const OPEN_TICKET_STATUSES = ['open', 'waiting_customer'] as const satisfies readonly TicketStatus[];

/** Whether a ticket in this status counts as open (not resolved, closed or cancelled). */
export function isOpenStatus(status: TicketStatus): boolean {
  return (OPEN_TICKET_STATUSES as readonly TicketStatus[]).includes(status);
}

/** A pool: the users of a solution group, or the users of a sector. */
export type PoolRef = { kind: 'group'; id: number } | { kind: 'sector'; id: number };

/**
 * The pool a mailbox's distribution target names for an occurrence (SPEC §3 rule 4, §5):
 * - `solution_group` and null: the occurrence's solution group, else its sector;
 * - `sector`: the occurrence's sector, else its solution group (the mailbox rules refuse
 *   `sector` for an occurrence without one, but the occurrence may lose its sector later;
 *   distributing among its group beats leaving the ticket waiting).
 * Null when the occurrence has neither: the ticket stays unassigned.
 */
export function poolFor(
  target: DistributionTarget | null,
  occurrence: { solutionGroupId: number | null; sectorId: number | null },
): PoolRef | null {
  const group: PoolRef | null = occurrence.solutionGroupId !== null ? { kind: 'group', id: occurrence.solutionGroupId } : null;
  const sector: PoolRef | null = occurrence.sectorId !== null ? { kind: 'sector', id: occurrence.sectorId } : null;
  return target === 'sector' ? (sector ?? group) : (group ?? sector);
}

/** The pool's key, `group-<id>` or `sector-<id>`: the assignment workflow's id is `assigner:<key>`. */
export function poolKey(ref: PoolRef): string {
  return `${ref.kind}-${ref.id}`;
}

/** The inverse of `poolKey`; null for anything `poolKey` does not produce. */
export function parsePoolKey(key: string): PoolRef | null {
  const m = /^(group|sector)-(0|[1-9][0-9]*)$/.exec(key);
  if (!m) return null;
  const id = Number(m[2]);
  if (!Number.isSafeInteger(id)) return null;
  return m[1] === 'group' ? { kind: 'group', id } : { kind: 'sector', id };
}

/** One user of the pool, with what the pick reads. */
export interface PoolMember {
  userId: number;
  /** For the explanation; `user <id>` when absent. */
  name?: string;
  /** The order of registration (users.registration_order): lower registered first. */
  registrationOrder: number;
  active: boolean;
  /** False while the user is on pause. */
  available: boolean;
  /** Tickets assigned to the user in an open status (`OPEN_TICKET_STATUSES`), every channel. */
  openTickets: number;
}

export interface DecisionCandidate {
  userId: number;
  openTickets: number;
  registrationOrder: number;
}

export interface DecisionSkip {
  userId: number;
  why: 'inactive' | 'paused';
}

/** A member was picked: the explanation the ticket's timeline records. */
export interface Assignment {
  userId: number;
  reason: string;
  /** The members that competed, in the order of the rule: the pick first. */
  candidates: DecisionCandidate[];
  /** Who was left out and why, in the pool's order. */
  skipped: DecisionSkip[];
  /** True when every active member was paused, so the pause was ignored. */
  pauseIgnored: boolean;
}

/** Nobody could be picked: the ticket stays unassigned. */
export interface NoAssignment {
  userId: null;
  reason: string;
  skipped: DecisionSkip[];
}

export type Decision = Assignment | NoAssignment;

const nameOf = (m: { userId: number; name?: string }): string => m.name ?? `user ${m.userId}`;
const tickets = (n: number): string => `${n} open ticket${n === 1 ? '' : 's'}`;
const listed = (names: string[]): string => (names.length <= 1 ? names.join('') : `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`);

/** The rule's order: fewest open tickets, then earliest registration (then lowest id, for determinism). */
function byRule(a: PoolMember, b: PoolMember): number {
  return a.openTickets - b.openTickets || a.registrationOrder - b.registrationOrder || a.userId - b.userId;
}

/**
 * SPEC §5's rule: among the active members (the available ones, unless every active member
 * is paused), the one with the fewest open tickets; ties to the earliest registered.
 */
export function pickAssignee(members: readonly PoolMember[]): Decision {
  const inactive: DecisionSkip[] = members.filter((m) => !m.active).map((m) => ({ userId: m.userId, why: 'inactive' }));
  const active = members.filter((m) => m.active);
  if (active.length === 0) {
    return { userId: null, reason: members.length === 0 ? 'the pool has no members' : 'no active member in the pool', skipped: inactive };
  }
  const available = active.filter((m) => m.available);
  const pauseIgnored = available.length === 0;
  const eligible = [...(pauseIgnored ? active : available)].sort(byRule);
  const skipped: DecisionSkip[] = members.flatMap((m): DecisionSkip[] => {
    if (!m.active) return [{ userId: m.userId, why: 'inactive' }];
    if (!m.available && !pauseIgnored) return [{ userId: m.userId, why: 'paused' }];
    return [];
  });
  const chosen = eligible[0]!;
  const tied = eligible.filter((m) => m.openTickets === chosen.openTickets);
  let reason: string;
  if (eligible.length === 1) {
    reason = `${nameOf(chosen)} is the only ${pauseIgnored ? 'active' : 'available'} member (${tickets(chosen.openTickets)})`;
  } else if (tied.length === 1) {
    reason = `${nameOf(chosen)} has the fewest open tickets (${chosen.openTickets})`;
  } else {
    reason = `${listed(tied.map(nameOf))} ${tied.length === 2 ? 'both' : 'all'} have ${tickets(chosen.openTickets)}; ${nameOf(chosen)} registered first`;
  }
  if (pauseIgnored) reason += '; every active member is paused, so the pause was ignored';
  return {
    userId: chosen.userId,
    reason,
    candidates: eligible.map((m) => ({ userId: m.userId, openTickets: m.openTickets, registrationOrder: m.registrationOrder })),
    skipped,
    pauseIgnored,
  };
}

/** The members after `userId` received one more open ticket (a new array; the input is untouched). */
export function withOneMoreTicket(members: readonly PoolMember[], userId: number): PoolMember[] {
  return members.map((m) => (m.userId === userId ? { ...m, openTickets: m.openTickets + 1 } : { ...m }));
}

/**
 * `n` successive requests, one at a time as the assignment workflow takes them: each pick
 * adds one open ticket to the chosen member. Returns every decision (a null one adds
 * nothing) and the members afterwards.
 */
export function assignInTurn(members: readonly PoolMember[], n: number): { picks: Decision[]; members: PoolMember[] } {
  let current = members.map((m) => ({ ...m }));
  const picks: Decision[] = [];
  for (let i = 0; i < n; i++) {
    const decision = pickAssignee(current);
    picks.push(decision);
    if (decision.userId !== null) current = withOneMoreTicket(current, decision.userId);
  }
  return { picks, members: current };
}
