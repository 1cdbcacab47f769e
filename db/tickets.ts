import { formatProtocol } from '../domain/protocol.js';
import type { Ticket, TicketDetail, TicketFilters } from '../schemas/tickets.js';
import type { Queryable, Sql } from './client.js';
import { where, type Fragment } from './crud.js';

export interface NewEmailTicket {
  sourceEmailId: number;
  subject: string;
  description: string;
  customerId: number;
  mailboxId: number;
  creatorUserId: number | null;
  occurrenceTypeId: number | null;
  occurrenceId: number | null;
  sectorId: number | null;
  slaDueAt: Date | null;
  openedAt: Date;
}

export interface CreatedTicket {
  ticketId: number;
  protocol: string;
  created: boolean;
}

/**
 * One ticket per source e-mail, however often this runs: the unique source_email_id
 * decides, so a retried activity returns the ticket the first attempt made.
 */
export async function createTicketFromEmail(sql: Sql, t: NewEmailTicket): Promise<CreatedTicket> {
  return sql.begin(async (tx) => {
    const [existing] = await tx<{ id: number; protocol: string }[]>`SELECT id, protocol FROM ticket WHERE source_email_id = ${t.sourceEmailId}`;
    if (existing) return { ticketId: existing.id, protocol: existing.protocol, created: false };
    const [seq] = await tx<{ n: number }[]>`SELECT nextval('protocol_sequence') AS n`;
    const protocol = formatProtocol(t.openedAt.getUTCFullYear(), seq!.n);
    const [inserted] = await tx<{ id: number }[]>`
      INSERT INTO ticket (protocol, subject, description, customer_id, channel, mailbox_id, source_email_id,
                          creator_user_id, occurrence_type_id, occurrence_id, sector_id, sla_due_at, created_at, updated_at)
      VALUES (${protocol}, ${t.subject}, ${t.description}, ${t.customerId}, 'email', ${t.mailboxId}, ${t.sourceEmailId},
              ${t.creatorUserId}, ${t.occurrenceTypeId}, ${t.occurrenceId}, ${t.sectorId}, ${t.slaDueAt}, ${t.openedAt}, ${t.openedAt})
      ON CONFLICT (source_email_id) DO NOTHING
      RETURNING id`;
    if (!inserted) {
      const [raced] = await tx<{ id: number; protocol: string }[]>`SELECT id, protocol FROM ticket WHERE source_email_id = ${t.sourceEmailId}`;
      return { ticketId: raced!.id, protocol: raced!.protocol, created: false };
    }
    await tx`
      INSERT INTO ticket_event (ticket_id, kind, actor, at, data)
      VALUES (${inserted.id}, 'created', 'system:email', ${t.openedAt}, ${tx.json({ emailId: t.sourceEmailId })})`;
    return { ticketId: inserted.id, protocol, created: true };
  });
}

// ---- Reads -----------------------------------------------------------------------------

/** A timestamptz inside JSON as the API writes every time: ISO 8601 in UTC, to the millisecond. */
const iso = (sql: Queryable, column: Fragment) => sql`to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

/** `{ id, name }` of a joined row, or null when the ticket names none. */
const ref = (sql: Queryable, alias: string) =>
  sql`CASE WHEN ${sql(alias)}.id IS NULL THEN NULL ELSE json_build_object('id', ${sql(alias)}.id, 'name', ${sql(alias)}.name) END`;

/**
 * The columns of a ticket as lists show it (schemas/tickets.ts `ticket`), over `t` (ticket)
 * and the joins of TICKET_JOINS; the row is the entity.
 */
const TICKET_COLUMNS = (sql: Queryable) => sql`
  t.id, t.protocol, t.status, t.subject, t.channel,
  json_build_object('id', c.id, 'code', c.code, 'name', c.name, 'email', c.email) AS customer,
  ${ref(sql, 'mb')} AS mailbox, ${ref(sql, 'cr')} AS creator, ${ref(sql, 'ot')} AS occurrence_type,
  ${ref(sql, 'oc')} AS occurrence, ${ref(sql, 'se')} AS sector, ${ref(sql, 'asg')} AS assignee,
  json_build_object('dueAt', ${iso(sql, sql`t.sla_due_at`)}, 'state', t.sla_state) AS sla,
  t.created_at, t.updated_at`;

const TICKET_JOINS = (sql: Queryable) => sql`
  JOIN customer c ON c.id = t.customer_id
  LEFT JOIN mailbox mb ON mb.id = t.mailbox_id
  LEFT JOIN app_user cr ON cr.id = t.creator_user_id
  LEFT JOIN occurrence_type ot ON ot.id = t.occurrence_type_id
  LEFT JOIN occurrence oc ON oc.id = t.occurrence_id
  LEFT JOIN sector se ON se.id = t.sector_id
  LEFT JOIN app_user asg ON asg.id = t.assignee_user_id`;

/**
 * The e-mails of a ticket, as a condition on `e` (inbound_email) and `t`: for now the one it
 * was opened from; replies appended to it will join here.
 */
const TICKET_EMAILS = (sql: Queryable, e: string) => sql`${sql(e)}.id = t.source_email_id`;

export interface TicketListOptions extends TicketFilters {
  /** Keyset pagination: tickets older than (id below) this ticket id. */
  before?: number;
  limit: number;
}

/**
 * Newest first; `nextBefore` is the cursor of the following page, null on the last one. The
 * page is cut from `ticket` alone (one index range scan, see the 1764600000000 migration)
 * before its names are joined.
 */
export async function listTickets(sql: Queryable, f: TicketListOptions): Promise<{ items: Ticket[]; nextBefore: number | null }> {
  const conditions = where(sql, [
    f.mailboxId !== undefined && sql`mailbox_id = ${f.mailboxId}`,
    f.channel !== undefined && sql`channel = ${f.channel}`,
    f.occurrenceTypeId !== undefined && sql`occurrence_type_id = ${f.occurrenceTypeId}`,
    f.occurrenceId !== undefined && sql`occurrence_id = ${f.occurrenceId}`,
    f.creatorUserId !== undefined && sql`creator_user_id = ${f.creatorUserId}`,
    f.assigneeUserId !== undefined && sql`assignee_user_id = ${f.assigneeUserId}`,
    f.status !== undefined && sql`status = ${f.status}`,
    f.sectorId !== undefined && sql`sector_id = ${f.sectorId}`,
    f.slaState !== undefined && sql`sla_state = ${f.slaState}`,
    f.before !== undefined && sql`id < ${f.before}`,
  ]);
  const rows = await sql<(Ticket & { id: number })[]>`
    SELECT ${TICKET_COLUMNS(sql)}
      FROM (SELECT * FROM ticket WHERE ${conditions} ORDER BY id DESC LIMIT ${f.limit + 1}) t
      ${TICKET_JOINS(sql)}
     ORDER BY t.id DESC`;
  const items = rows.slice(0, f.limit);
  return { items, nextBefore: rows.length > f.limit ? (items.at(-1)?.id ?? null) : null };
}

/** One ticket with its messages, attachments, steps and timeline, in one query. */
export async function getTicketByProtocol(sql: Queryable, protocol: string): Promise<TicketDetail | undefined> {
  const [row] = await sql<TicketDetail[]>`
    SELECT ${TICKET_COLUMNS(sql)}, t.description,
      COALESCE((SELECT json_agg(json_build_object(
                  'id', e.id, 'from', json_build_object('address', e.from_address, 'name', e.from_name),
                  'to', COALESCE(e.to_addresses, '{}'), 'subject', e.subject, 'sentAt', ${iso(sql, sql`e.sent_at`)},
                  'receivedAt', ${iso(sql, sql`e.received_at`)}, 'text', e.text_body) ORDER BY e.id)
                  FROM inbound_email e WHERE ${TICKET_EMAILS(sql, 'e')}), '[]') AS messages,
      COALESCE((SELECT json_agg(json_build_object(
                  'id', a.id, 'emailId', a.email_id, 'filename', a.filename, 'contentType', a.content_type, 'size', a.size,
                  'sha256', a.sha256, 'inline', a.inline, 'url', '/tickets/' || t.protocol || '/attachments/' || a.id) ORDER BY a.email_id, a.position)
                  FROM email_attachment a JOIN inbound_email e ON e.id = a.email_id WHERE ${TICKET_EMAILS(sql, 'e')}), '[]') AS attachments,
      '[]'::json AS steps,
      COALESCE((SELECT json_agg(json_build_object('kind', ev.kind, 'actor', ev.actor, 'at', ${iso(sql, sql`ev.at`)}, 'data', ev.data) ORDER BY ev.id)
                  FROM ticket_event ev WHERE ev.ticket_id = t.id), '[]') AS timeline
      FROM ticket t ${TICKET_JOINS(sql)}
     WHERE t.protocol = ${protocol}`;
  return row;
}

export interface AttachmentContent {
  filename: string | null;
  contentType: string;
  content: Buffer;
}

/** An attachment's bytes, if it belongs to an e-mail of this ticket. */
export async function getTicketAttachment(sql: Queryable, protocol: string, attachmentId: number): Promise<AttachmentContent | undefined> {
  const [row] = await sql<AttachmentContent[]>`
    SELECT a.filename, a.content_type, a.content
      FROM ticket t JOIN inbound_email e ON ${TICKET_EMAILS(sql, 'e')} JOIN email_attachment a ON a.email_id = e.id
     WHERE t.protocol = ${protocol} AND a.id = ${attachmentId}`;
  return row;
}
