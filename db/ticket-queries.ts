import type { Sql } from './client.js';

export const TICKET_STATUSES = ['open', 'waiting_customer', 'resolved', 'closed', 'cancelled'] as const;
export const SLA_STATES = ['on_time', 'at_risk', 'breached'] as const;

export interface TicketView {
  protocol: string;
  status: (typeof TICKET_STATUSES)[number];
  subject: string;
  description: string;
  channel: string;
  customer: { id: number; code: string | null; name: string; email: string | null };
  mailboxId: number | null;
  creatorUserId: number | null;
  occurrenceTypeId: number | null;
  occurrenceId: number | null;
  sectorId: number | null;
  assigneeUserId: number | null;
  slaDueAt: string | null;
  slaState: (typeof SLA_STATES)[number];
  createdAt: string;
  updatedAt: string;
}

export interface TicketFilter {
  mailboxId?: number;
  channel?: string;
  occurrenceTypeId?: number;
  occurrenceId?: number;
  creatorUserId?: number;
  assigneeUserId?: number;
  status?: string;
  sectorId?: number;
  slaState?: string;
  /** Keyset pagination: return tickets older than this ticket id. */
  beforeId?: number;
  limit: number;
}

const COLUMNS = (sql: Sql) => sql`
  t.id, t.protocol, t.status, t.subject, t.description, t.channel, t.mailbox_id, t.creator_user_id,
  t.occurrence_type_id, t.occurrence_id, t.sector_id, t.assignee_user_id, t.sla_due_at, t.sla_state,
  t.created_at, t.updated_at, json_build_object('id', c.id, 'code', c.code, 'name', c.name, 'email', c.email) AS customer`;

type TicketRow = TicketView & { id: number };

export async function getTicketByProtocol(sql: Sql, protocol: string): Promise<TicketView | undefined> {
  const [row] = await sql<TicketRow[]>`
    SELECT ${COLUMNS(sql)} FROM ticket t JOIN customer c ON c.id = t.customer_id WHERE t.protocol = ${protocol}`;
  return row;
}

/** Newest first; `nextBeforeId` is the cursor for the following page, null on the last page. */
export async function listTickets(sql: Sql, f: TicketFilter): Promise<{ items: TicketView[]; nextBeforeId: number | null }> {
  const conditions = [
    f.mailboxId !== undefined && sql`t.mailbox_id = ${f.mailboxId}`,
    f.channel !== undefined && sql`t.channel = ${f.channel}`,
    f.occurrenceTypeId !== undefined && sql`t.occurrence_type_id = ${f.occurrenceTypeId}`,
    f.occurrenceId !== undefined && sql`t.occurrence_id = ${f.occurrenceId}`,
    f.creatorUserId !== undefined && sql`t.creator_user_id = ${f.creatorUserId}`,
    f.assigneeUserId !== undefined && sql`t.assignee_user_id = ${f.assigneeUserId}`,
    f.status !== undefined && sql`t.status = ${f.status}`,
    f.sectorId !== undefined && sql`t.sector_id = ${f.sectorId}`,
    f.slaState !== undefined && sql`t.sla_state = ${f.slaState}`,
    f.beforeId !== undefined && sql`t.id < ${f.beforeId}`,
  ].filter((c) => c !== false);
  const where = conditions.reduce((acc, c) => sql`${acc} AND ${c}`, sql`TRUE`);
  const rows = await sql<TicketRow[]>`
    SELECT ${COLUMNS(sql)} FROM ticket t JOIN customer c ON c.id = t.customer_id
     WHERE ${where} ORDER BY t.id DESC LIMIT ${f.limit + 1}`;
  const page = rows.slice(0, f.limit);
  const last = page.at(-1);
  return { items: page, nextBeforeId: rows.length > f.limit && last ? last.id : null };
}
