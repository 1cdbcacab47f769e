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
  t.created_at, t.updated_at, c.id AS customer_id, c.code AS customer_code, c.name AS customer_name, c.email AS customer_email`;

interface TicketRow {
  id: number; protocol: string; status: TicketView['status']; subject: string; description: string; channel: string;
  mailbox_id: number | null; creator_user_id: number | null; occurrence_type_id: number | null; occurrence_id: number | null;
  sector_id: number | null; assignee_user_id: number | null; sla_due_at: Date | null; sla_state: TicketView['slaState'];
  created_at: Date; updated_at: Date; customer_id: number; customer_code: string | null; customer_name: string; customer_email: string | null;
}

function toView(r: TicketRow): TicketView {
  return {
    protocol: r.protocol,
    status: r.status,
    subject: r.subject,
    description: r.description,
    channel: r.channel,
    customer: { id: r.customer_id, code: r.customer_code, name: r.customer_name, email: r.customer_email },
    mailboxId: r.mailbox_id,
    creatorUserId: r.creator_user_id,
    occurrenceTypeId: r.occurrence_type_id,
    occurrenceId: r.occurrence_id,
    sectorId: r.sector_id,
    assigneeUserId: r.assignee_user_id,
    slaDueAt: r.sla_due_at?.toISOString() ?? null,
    slaState: r.sla_state,
    createdAt: r.created_at.toISOString(),
    updatedAt: r.updated_at.toISOString(),
  };
}

export async function getTicketByProtocol(sql: Sql, protocol: string): Promise<TicketView | undefined> {
  const [row] = await sql<TicketRow[]>`
    SELECT ${COLUMNS(sql)} FROM ticket t JOIN customer c ON c.id = t.customer_id WHERE t.protocol = ${protocol}`;
  return row && toView(row);
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
  return { items: page.map(toView), nextBeforeId: rows.length > f.limit && last ? last.id : null };
}
