/**
 * A ticket's enumerations (SPEC §8). Statuses: `open` → `waiting_customer` ↔ `open` →
 * `resolved` → `closed`; `cancelled`; a reply reopens a resolved ticket.
 */
export const TICKET_STATUSES = ['open', 'waiting_customer', 'resolved', 'closed', 'cancelled'] as const;
export type TicketStatus = (typeof TICKET_STATUSES)[number];

/** Where a ticket's SLA stands (SPEC §6). */
export const SLA_STATES = ['on_time', 'at_risk', 'breached'] as const;
export type SlaState = (typeof SLA_STATES)[number];

/** Where a step of a ticket's solution stands (SPEC §7): one `active` at a time, in order. */
export const STEP_STATUSES = ['pending', 'active', 'completed', 'cancelled'] as const;
export type StepStatus = (typeof STEP_STATUSES)[number];

/** How a ticket came in: from a mailbox, or created through the API. */
export const TICKET_CHANNELS = ['email', 'api'] as const;
export type TicketChannel = (typeof TICKET_CHANNELS)[number];

/** The statuses that end a ticket: nothing changes it afterwards (a reply opens a new ticket). */
export const FINAL_STATUSES: readonly TicketStatus[] = ['closed', 'cancelled'];

/**
 * The status changes SPEC §8 allows [DECIDED]: `open` ↔ `waiting_customer`; either of them →
 * `resolved` or `cancelled`; `resolved` → `open` (reopen) or `closed`. A ticket is closed only
 * once resolved, and `closed` and `cancelled` are final.
 */
const NEXT: Record<TicketStatus, readonly TicketStatus[]> = {
  open: ['waiting_customer', 'resolved', 'cancelled'],
  waiting_customer: ['open', 'resolved', 'cancelled'],
  resolved: ['open', 'closed'],
  closed: [],
  cancelled: [],
};

/** Why a ticket cannot go from one status to another, or undefined when it can. */
export function transitionProblem(from: TicketStatus, to: TicketStatus): string | undefined {
  if (from === to) return `the ticket is already ${to}`;
  if (NEXT[from].includes(to)) return undefined;
  if (NEXT[from].length === 0) return `the ticket is ${from}; nothing can change it (a new e-mail from the customer opens a new ticket)`;
  return `a ${from.replace('_', ' ')} ticket can only become ${NEXT[from].join(' or ')}, not ${to}`;
}

/** Whether the SLA clock runs in this status (SPEC §6): paused waiting for the customer, stopped once resolved. */
export function slaClockRuns(status: TicketStatus): boolean {
  return status === 'open';
}
