import { formatProtocol } from '../domain/protocol.js';
import { recordOutcome } from './inbound-emails.js';
import { appendEmail, ticketOfEmail } from './ticket-messages.js';
import type { Ticket, TicketFilters } from '../schemas/tickets.js';
import type { Queryable, Sql } from './client.js';
import { iso, where, type Fragment } from './crud.js';

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
  /** A closed or cancelled ticket the e-mail replied to: the new ticket links to it (SPEC §4.4). */
  followsUp?: { ticketId: number; protocol: string; status: string } | null;
  /**
   * Loop protection: past this many new tickets of the customer in the mailbox within the hour
   * before `openedAt`, the e-mail is appended to the customer's latest ticket instead (0: no limit).
   */
  senderLimit?: { perHour: number; sender: string } | null;
}

export interface CreatedTicket {
  ticketId: number;
  protocol: string;
  /** False when an earlier run of the same step made it (or appended the e-mail). */
  created: boolean;
  /** The e-mail's recorded outcome: its ticket, or appended to its sender's latest one (`senderLimit`). */
  outcome: 'ticket_created' | 'appended_to_ticket';
  reason: string;
}

/**
 * The row of a ticket opened from an e-mail (by the e-mail's workflow, or converted from a
 * pre-ticket), with the next protocol number. Undefined when the e-mail has its ticket already:
 * `source_email_id` is unique.
 */
export async function insertEmailTicket(
  tx: Queryable,
  t: Omit<NewEmailTicket, 'followsUp' | 'senderLimit'> & { followsUpTicketId: number | null },
): Promise<{ id: number; protocol: string } | undefined> {
  const [seq] = await tx<{ n: number }[]>`SELECT nextval('protocol_sequence') AS n`;
  const protocol = formatProtocol(t.openedAt.getUTCFullYear(), seq!.n);
  const [inserted] = await tx<{ id: number }[]>`
    INSERT INTO ticket (protocol, subject, description, customer_id, channel, mailbox_id, source_email_id,
                        creator_user_id, occurrence_type_id, occurrence_id, sector_id, sla_due_at, follows_up_ticket_id, created_at, updated_at)
    VALUES (${protocol}, ${t.subject}, ${t.description}, ${t.customerId}, 'email', ${t.mailboxId}, ${t.sourceEmailId},
            ${t.creatorUserId}, ${t.occurrenceTypeId}, ${t.occurrenceId}, ${t.sectorId}, ${t.slaDueAt}, ${t.followsUpTicketId}, ${t.openedAt}, ${t.openedAt})
    ON CONFLICT (source_email_id) DO NOTHING
    RETURNING id`;
  return inserted && { id: inserted.id, protocol };
}

/**
 * One ticket per source e-mail, however often this runs: the unique source_email_id
 * decides, so a retried activity returns the ticket the first attempt made. The e-mail's
 * outcome is recorded in the same transaction (issue 8: a ticket never exists without it).
 */
export async function createTicketFromEmail(sql: Sql, t: NewEmailTicket): Promise<CreatedTicket> {
  return sql.begin(async (tx) => {
    const done = await ticketOfEmail(tx, t.sourceEmailId);
    if (done) return { ticketId: done.ticketId, protocol: done.protocol, created: false, outcome: done.appended ? 'appended_to_ticket' : 'ticket_created', reason: done.reason };
    const limit = t.senderLimit?.perHour ?? 0;
    if (limit > 0) {
      // Serialised per customer and mailbox, so two e-mails at once cannot both pass the limit.
      await tx`SELECT pg_advisory_xact_lock(hashtextextended(${`ticket-limit:${t.mailboxId}:${t.customerId}`}, 0))`;
      const [recent] = await tx<{ n: number; latestId: number | null; latestProtocol: string | null }[]>`
        SELECT (SELECT count(*)::int FROM ticket
                 WHERE customer_id = ${t.customerId} AND mailbox_id = ${t.mailboxId} AND created_at > ${t.openedAt}::timestamptz - interval '1 hour') AS n,
               l.id AS latest_id, l.protocol AS latest_protocol
          FROM (SELECT 1) one
          LEFT JOIN LATERAL (SELECT id, protocol FROM ticket WHERE customer_id = ${t.customerId} AND mailbox_id = ${t.mailboxId} ORDER BY id DESC LIMIT 1) l ON true`;
      if (recent && recent.n >= limit && recent.latestId !== null) {
        const reason = `${t.senderLimit!.sender} opened ${recent.n} tickets in this mailbox within the hour (limit ${limit}): appended to its latest ticket ${recent.latestProtocol}`;
        await appendEmail(tx, { ticketId: recent.latestId, emailId: t.sourceEmailId, via: 'sender_limit', reason });
        return { ticketId: recent.latestId, protocol: recent.latestProtocol!, created: false, outcome: 'appended_to_ticket', reason };
      }
    }
    const inserted = await insertEmailTicket(tx, { ...t, followsUpTicketId: t.followsUp?.ticketId ?? null });
    if (!inserted) {
      // Another attempt of the same step committed it meanwhile.
      const raced = await ticketOfEmail(tx, t.sourceEmailId);
      if (!raced) throw new Error(`the ticket of e-mail ${t.sourceEmailId} vanished`);
      return { ticketId: raced.ticketId, protocol: raced.protocol, created: false, outcome: 'ticket_created', reason: raced.reason };
    }
    const { protocol } = inserted;
    const followsUp = t.followsUp ? { followsUp: t.followsUp.protocol } : {};
    await tx`
      INSERT INTO ticket_event (ticket_id, kind, actor, at, data)
      VALUES (${inserted.id}, 'created', 'system:email', ${t.openedAt}, ${tx.json({ emailId: t.sourceEmailId, ...followsUp })})`;
    if (t.followsUp) {
      // The old ticket's timeline says where its conversation went on.
      await tx`
        INSERT INTO ticket_event (ticket_id, kind, actor, at, data, key)
        VALUES (${t.followsUp.ticketId}, 'followed_up', 'system:email', ${t.openedAt}, ${tx.json({ emailId: t.sourceEmailId, by: protocol })}, ${`followed_up:${protocol}`})
        ON CONFLICT DO NOTHING`;
    }
    const reason = t.followsUp ? `ticket ${protocol}, following up ${t.followsUp.status} ticket ${t.followsUp.protocol}` : `ticket ${protocol}`;
    await recordOutcome(tx, t.sourceEmailId, 'ticket_created', reason);
    return { ticketId: inserted.id, protocol, created: true, outcome: 'ticket_created', reason };
  });
}

// ---- Reads -----------------------------------------------------------------------------
//
// A ticket is read as one JSON document built by PostgreSQL with the API's field names
// (schemas/tickets.ts), sent as text and parsed once: no per-column JSON parsing and key
// conversion in the driver, which was most of the cost of a page. Names of referenced rows
// are scalar subqueries rather than joins, so a statement is cheap to plan whatever the
// filters (an eight-way join took milliseconds to plan).

/** `{ id, name }` of the row of `table` that `column` of the ticket (or of `alias`) names, or null. */
const ref = (sql: Queryable, table: string, column: string, alias = 't') =>
  sql`(SELECT json_build_object('id', x.id, 'name', x.name) FROM ${sql(table)} x WHERE x.id = ${sql(alias)}.${sql(column)})`;

/** The key/value pairs of a ticket as lists show it (schemas/tickets.ts `ticket`), over `t` (ticket). */
const TICKET_FIELDS = (sql: Queryable) => sql`
  'protocol', t.protocol, 'status', t.status, 'subject', t.subject, 'channel', t.channel,
  'customer', (SELECT json_build_object('id', c.id, 'code', c.code, 'name', c.name, 'email', c.email) FROM customer c WHERE c.id = t.customer_id),
  'mailbox', ${ref(sql, 'mailbox', 'mailbox_id')}, 'creator', ${ref(sql, 'app_user', 'creator_user_id')},
  'occurrenceType', ${ref(sql, 'occurrence_type', 'occurrence_type_id')}, 'occurrence', ${ref(sql, 'occurrence', 'occurrence_id')},
  'sector', ${ref(sql, 'sector', 'sector_id')}, 'assignee', ${ref(sql, 'app_user', 'assignee_user_id')},
  'sla', json_build_object('dueAt', ${iso(sql, sql`t.sla_due_at`)}, 'state', t.sla_state),
  'createdAt', ${iso(sql, sql`t.created_at`)}, 'updatedAt', ${iso(sql, sql`t.updated_at`)}`;

/**
 * The ids of a ticket's e-mails (`te.email_id`), as a FROM item over `t` (ticket): the one it
 * was opened from and those appended to it (db/ticket-messages.ts). Each is then looked up by
 * its key (an `IN` over the union hashed every e-mail of the table).
 */
const TICKET_EMAILS = (sql: Queryable) => sql`(SELECT t.source_email_id AS email_id UNION ALL SELECT tm.email_id FROM ticket_message tm WHERE tm.ticket_id = t.id) te`;

export interface TicketListOptions extends TicketFilters {
  /** Keyset pagination: tickets older than (id below) this ticket id. */
  before?: number;
  limit: number;
}

/**
 * Newest first; `nextBefore` is the cursor of the following page, null on the last one. The
 * page is cut from `ticket` alone (an index range scan: the 1764600000000 migration has the
 * indexes) before the names are looked up for its rows.
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
  const rows = await sql<{ id: number; doc: string }[]>`
    SELECT t.id, json_build_object(${TICKET_FIELDS(sql)})::text AS doc
      FROM (SELECT * FROM ticket WHERE ${conditions} ORDER BY id DESC LIMIT ${f.limit + 1}) t
     ORDER BY t.id DESC`;
  const page = rows.slice(0, f.limit);
  return { items: page.map((r) => JSON.parse(r.doc) as Ticket), nextBefore: rows.length > f.limit ? (page.at(-1)?.id ?? null) : null };
}

/**
 * One ticket with its messages, attachments, steps and timeline, in one query, as the JSON
 * text of schemas/tickets.ts `ticketDetail`: the API sends it as it comes (the detail is the
 * most read route; parsing and serializing it again was a third of its cost).
 */
export async function getTicketJson(sql: Queryable, protocol: string): Promise<string | undefined> {
  const [row] = await sql<{ doc: string }[]>`
    SELECT json_build_object(${TICKET_FIELDS(sql)}, 'description', t.description,
      'followsUp', (SELECT f.protocol FROM ticket f WHERE f.id = t.follows_up_ticket_id),
      'followedUpBy', COALESCE((SELECT json_agg(n.protocol ORDER BY n.id) FROM ticket n WHERE n.follows_up_ticket_id = t.id), '[]'),
      'messages', COALESCE((SELECT json_agg(json_build_object(
                    'id', e.id, 'from', json_build_object('address', e.from_address, 'name', e.from_name),
                    'to', COALESCE(e.to_addresses, '{}'), 'subject', e.subject, 'sentAt', ${iso(sql, sql`e.sent_at`)},
                    'receivedAt', ${iso(sql, sql`e.received_at`)}, 'text', e.text_body) ORDER BY e.id)
                    FROM ${TICKET_EMAILS(sql)} JOIN inbound_email e ON e.id = te.email_id), '[]'),
      'attachments', COALESCE((SELECT json_agg(json_build_object(
                    'id', a.id, 'emailId', a.email_id, 'filename', a.filename, 'contentType', a.content_type, 'size', a.size,
                    'sha256', a.sha256, 'inline', a.inline, 'url', '/tickets/' || t.protocol || '/attachments/' || a.id) ORDER BY a.email_id, a.position)
                    FROM ${TICKET_EMAILS(sql)} JOIN email_attachment a ON a.email_id = te.email_id), '[]'),
      'steps', COALESCE((SELECT json_agg(json_build_object(
                    'id', st.id, 'position', st.position, 'flow', st.flow, 'name', st.name, 'sector', ${ref(sql, 'sector', 'sector_id', 'st')},
                    'status', st.status, 'sla', CASE WHEN st.sla_value IS NULL THEN NULL ELSE json_build_object('dueAt', ${iso(sql, sql`st.sla_due_at`)}, 'state', st.sla_state) END,
                    'activatedAt', ${iso(sql, sql`st.activated_at`)}, 'finishedAt', ${iso(sql, sql`st.finished_at`)}, 'finishedBy', st.finished_by, 'note', st.note) ORDER BY st.position)
                    FROM ticket_step st WHERE st.ticket_id = t.id), '[]'),
      'alerts', COALESCE((SELECT json_agg(json_build_object(
                    'id', f.id, 'kind', f.kind, 'threshold', f.threshold, 'stepId', f.step_id, 'dueAt', ${iso(sql, sql`f.due_at`)}, 'firedAt', ${iso(sql, sql`f.fired_at`)},
                    'recipients', f.recipients,
                    'deliveries', COALESCE((SELECT json_agg(json_build_object('channel', d.channel, 'status', d.status, 'attempts', d.attempts, 'lastError', d.last_error,
                                   'deliveredAt', ${iso(sql, sql`d.delivered_at`)}) ORDER BY d.channel) FROM alert_delivery d WHERE d.firing_id = f.id), '[]')) ORDER BY f.id)
                    FROM alert_firing f WHERE f.ticket_id = t.id), '[]'),
      'timeline', COALESCE((SELECT json_agg(json_build_object('kind', ev.kind, 'actor', ev.actor, 'at', ${iso(sql, sql`ev.at`)}, 'data', ev.data) ORDER BY ev.id)
                    FROM ticket_event ev WHERE ev.ticket_id = t.id), '[]'))::text AS doc
      FROM ticket t
     WHERE t.protocol = ${protocol}`;
  return row?.doc;
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
      FROM ticket t CROSS JOIN LATERAL ${TICKET_EMAILS(sql)} JOIN email_attachment a ON a.email_id = te.email_id
     WHERE t.protocol = ${protocol} AND a.id = ${attachmentId}`;
  return row;
}

/** What the assignment workflow decided for a ticket (contracts/assignment.ts AssignAnswer). */
export interface AssignmentRecord {
  ticketId: number;
  userId: number | null;
  reason: string;
  detail: object;
}

/**
 * Writes the assignment workflow's decisions: the assignee of a ticket that has none yet, with
 * a timeline event saying who was chosen and why; for a ticket nobody could take, one event
 * saying why it waits. Idempotent: a replayed batch changes nothing and adds no event twice.
 */
export async function recordAssignments(sql: Sql, records: AssignmentRecord[]): Promise<void> {
  // One statement for the waiting ones, then one for the assigned ones (a ticket that waited
  // and was assigned in the same batch gets its events in that order), the events in the
  // batch's order; a ticket twice in a batch counts once (its first decision).
  const waiting = records.filter((r) => r.userId === null);
  const assigned = records.filter((r) => r.userId !== null);
  await sql.begin(async (tx) => {
    if (waiting.length > 0) {
      await tx`
        INSERT INTO ticket_event (ticket_id, kind, actor, data)
        SELECT w.ticket_id, 'assignment_waiting', 'system:assigner', w.data::jsonb
          FROM (SELECT DISTINCT ON (ticket_id) *
                  FROM unnest(${waiting.map((r) => r.ticketId)}::bigint[], ${waiting.map((r) => JSON.stringify({ reason: r.reason, ...r.detail }))}::text[])
                       WITH ORDINALITY AS i(ticket_id, data, ord)
                 ORDER BY ticket_id, ord) w
         WHERE NOT EXISTS (SELECT 1 FROM ticket_event e WHERE e.ticket_id = w.ticket_id AND e.kind = 'assignment_waiting')
         ORDER BY w.ord`;
    }
    if (assigned.length > 0) {
      await tx`
        WITH i AS (
          SELECT * FROM unnest(${assigned.map((r) => r.ticketId)}::bigint[], ${assigned.map((r) => r.userId!)}::bigint[],
                               ${assigned.map((r) => JSON.stringify({ userId: r.userId, reason: r.reason, ...r.detail }))}::text[])
                 WITH ORDINALITY AS i(ticket_id, user_id, data, ord)
        ), updated AS (
          UPDATE ticket t SET assignee_user_id = d.user_id, updated_at = now()
            FROM (SELECT DISTINCT ON (ticket_id) * FROM i ORDER BY ticket_id, ord) d
           WHERE t.id = d.ticket_id AND t.assignee_user_id IS NULL AND t.status IN ('open', 'waiting_customer')
          RETURNING d.ord
        )
        INSERT INTO ticket_event (ticket_id, kind, actor, data)
        SELECT i.ticket_id, 'assigned', 'system:assigner', i.data::jsonb FROM i JOIN updated u ON u.ord = i.ord ORDER BY i.ord`;
    }
  });
}

/** What distributing a ticket needs (SPEC §5): its mailbox's distribution settings and its occurrence's group and sector. */
export interface TicketDistribution {
  ticketId: number;
  protocol: string;
  assigneeUserId: number | null;
  assigneeLogin: string | null;
  autoDistribute: boolean;
  distributionTarget: 'solution_group' | 'sector' | null;
  occurrenceSolutionGroupId: number | null;
  occurrenceSectorId: number | null;
}

export async function ticketDistribution(sql: Queryable, protocol: string): Promise<TicketDistribution | undefined> {
  const [row] = await sql<TicketDistribution[]>`
    SELECT t.id AS ticket_id, t.protocol, t.assignee_user_id, (SELECT login FROM app_user WHERE id = t.assignee_user_id) AS assignee_login,
           COALESCE(m.auto_distribute, false) AS auto_distribute, m.distribution_target,
           o.solution_group_id AS occurrence_solution_group_id, o.sector_id AS occurrence_sector_id
      FROM ticket t LEFT JOIN mailbox m ON m.id = t.mailbox_id LEFT JOIN occurrence o ON o.id = t.occurrence_id
     WHERE t.protocol = ${protocol}`;
  return row;
}

/**
 * What `recordAssignments` recorded for a ticket: the explanation of its latest 'assigned'
 * event by the assignment workflow (`userId` given) or of its 'assignment_waiting' event
 * (`userId` null); undefined when there is none (the ticket had an assignee already).
 */
export async function recordedAssignment(sql: Queryable, ticketId: number, userId: number | null): Promise<Record<string, unknown> | undefined> {
  const [row] = await sql<{ data: Record<string, unknown> }[]>`
    SELECT data FROM ticket_event
     WHERE ticket_id = ${ticketId} AND actor = 'system:assigner'
       AND ${userId === null ? sql`kind = 'assignment_waiting'` : sql`kind = 'assigned' AND data->>'userId' = ${String(userId)}`}
     ORDER BY id DESC LIMIT 1`;
  return row?.data;
}

/** Who a ticket is assigned to now (null: nobody, or no such ticket). */
export async function ticketAssignee(sql: Queryable, ticketId: number): Promise<number | null> {
  const [row] = await sql<{ assigneeUserId: number | null }[]>`SELECT assignee_user_id FROM ticket WHERE id = ${ticketId}`;
  return row?.assigneeUserId ?? null;
}

/** What a ticket's SLA plan is made of (activities/lifecycle.ts): a change of one re-plans the tickets it concerns. */
export type SlaSource = { customerId: number } | { occurrenceId: number } | { alertId: number } | { sectorId: number } | { calendarId: number };

/**
 * The protocols of the tickets, not closed or cancelled, whose SLA (or whose active step's SLA)
 * is computed from `source`.
 */
export async function liveTicketProtocols(sql: Queryable, source: SlaSource): Promise<string[]> {
  // The sectors that run on a calendar: those naming it, and, for the default one, those naming none.
  const sectorsOn = (calendarId: number) => sql`
    SELECT s.id FROM sector s
     WHERE s.calendar_id = ${calendarId} OR (s.calendar_id IS NULL AND EXISTS (SELECT 1 FROM calendar c WHERE c.id = ${calendarId} AND c.is_default))`;
  const inSectors = (sectors: Fragment) => sql`
    (t.sector_id IN (${sectors}) OR EXISTS (SELECT 1 FROM ticket_step st WHERE st.ticket_id = t.id AND st.status = 'active' AND st.sector_id IN (${sectors})))`;
  const condition =
    'customerId' in source ? sql`t.customer_id = ${source.customerId}`
    : 'occurrenceId' in source ? sql`t.occurrence_id = ${source.occurrenceId}`
    : 'alertId' in source ? sql`t.occurrence_id IN (SELECT id FROM occurrence WHERE alert_id = ${source.alertId})`
    : 'sectorId' in source ? inSectors(sql`SELECT ${source.sectorId}::bigint`)
    : sql`(${inSectors(sectorsOn(source.calendarId))} OR (t.sector_id IS NULL AND EXISTS (SELECT 1 FROM calendar c WHERE c.id = ${source.calendarId} AND c.is_default)))`;
  const rows = await sql<{ protocol: string }[]>`
    SELECT t.protocol FROM ticket t WHERE ${condition} AND t.status NOT IN ('closed', 'cancelled') ORDER BY t.id`;
  return rows.map((r) => r.protocol);
}
