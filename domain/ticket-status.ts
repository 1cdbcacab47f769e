/**
 * A ticket's enumerations (SPEC §8). Statuses: `open` → `waiting_customer` ↔ `open` →
 * `resolved` → `closed`; `cancelled`; a reply reopens a resolved ticket.
 */
export const TICKET_STATUSES = ['open', 'waiting_customer', 'resolved', 'closed', 'cancelled'] as const;
export type TicketStatus = (typeof TICKET_STATUSES)[number];

/** Where a ticket's SLA stands (SPEC §6). */
export const SLA_STATES = ['on_time', 'at_risk', 'breached'] as const;
export type SlaState = (typeof SLA_STATES)[number];

/** How a ticket came in: from a mailbox, or created through the API. */
export const TICKET_CHANNELS = ['email', 'api'] as const;
export type TicketChannel = (typeof TICKET_CHANNELS)[number];
