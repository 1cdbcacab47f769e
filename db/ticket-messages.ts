import type { TicketStatus } from '../domain/ticket-status.js';
import type { Queryable } from './client.js';
import { recordOutcome } from './inbound-emails.js';

/**
 * The e-mails of a ticket after the one that opened it (SPEC §4.4, §8 "messages"): replies
 * threaded to it, and e-mails past their sender's hourly limit. Each e-mail joins one ticket at
 * most (`ticket_message.email_id` is unique).
 */

export type MessageVia = 'header' | 'subject' | 'sender_limit';

/**
 * Appends the e-mail to the ticket with a `message_received` event and records the e-mail's
 * outcome, in the caller's transaction (a ticket never shows a message whose e-mail has no
 * outcome). Running it again changes nothing.
 */
export async function appendEmail(tx: Queryable, a: { ticketId: number; emailId: number; via: MessageVia; reason: string }): Promise<void> {
  const [added] = await tx<{ id: number }[]>`
    INSERT INTO ticket_message (ticket_id, email_id, via) VALUES (${a.ticketId}, ${a.emailId}, ${a.via})
    ON CONFLICT (email_id) DO NOTHING RETURNING id`;
  if (added) {
    await tx`
      INSERT INTO ticket_event (ticket_id, kind, actor, data, key)
      VALUES (${a.ticketId}, 'message_received', 'system:email', ${tx.json({ emailId: a.emailId, via: a.via })}, ${`message:${a.emailId}`})
      ON CONFLICT DO NOTHING`;
    await tx`UPDATE ticket SET updated_at = now() WHERE id = ${a.ticketId}`;
  }
  await recordOutcome(tx, a.emailId, 'appended_to_ticket', a.reason);
}

/** What an e-mail already became, for a retried step: the ticket it opened or joined, with the outcome's reason. */
export async function ticketOfEmail(sql: Queryable, emailId: number): Promise<{ ticketId: number; protocol: string; appended: boolean; reason: string } | undefined> {
  const [row] = await sql<{ ticketId: number; protocol: string; appended: boolean; reason: string | null }[]>`
    SELECT t.id AS ticket_id, t.protocol, m.id IS NOT NULL AS appended, e.outcome_reason AS reason
      FROM inbound_email e
      LEFT JOIN ticket_message m ON m.email_id = e.id
      JOIN ticket t ON t.id = COALESCE(m.ticket_id, (SELECT x.id FROM ticket x WHERE x.source_email_id = e.id))
     WHERE e.id = ${emailId}`;
  return row && { ...row, reason: row.reason ?? `ticket ${row.protocol}` };
}

export interface TicketCandidate {
  ticketId: number;
  protocol: string;
  status: TicketStatus;
}

/**
 * The ticket the first of `messageIds` that names one belongs to (they come nearest first):
 * an e-mail opened or joined it, or we sent it about the ticket. An e-mail of the same mailbox
 * wins over one of another (the same message may have reached both).
 */
export async function ticketByMessageIds(sql: Queryable, messageIds: string[], mailboxId: number, exceptEmailId: number): Promise<TicketCandidate | undefined> {
  if (messageIds.length === 0) return undefined;
  const [row] = await sql<TicketCandidate[]>`
    SELECT t.id AS ticket_id, t.protocol, t.status
      FROM unnest(${messageIds}::text[]) WITH ORDINALITY AS i(message_id, ord)
      JOIN LATERAL (
        SELECT COALESCE(m.ticket_id, s.id) AS ticket_id, e.mailbox_id = ${mailboxId} AS here, e.id AS rank
          FROM inbound_email e
          LEFT JOIN ticket_message m ON m.email_id = e.id
          LEFT JOIN ticket s ON s.source_email_id = e.id
         WHERE md5(e.message_id) = md5(i.message_id) AND e.message_id = i.message_id AND e.id <> ${exceptEmailId}
           AND COALESCE(m.ticket_id, s.id) IS NOT NULL
        UNION ALL
        SELECT o.ticket_id, true, 0 FROM outbound_email o WHERE o.message_id = i.message_id
        ORDER BY here DESC, rank DESC LIMIT 1
      ) x ON true
      JOIN ticket t ON t.id = x.ticket_id
     ORDER BY i.ord LIMIT 1`;
  return row;
}

/**
 * The ticket of the first of `protocols` that exists, with the addresses of the people who may
 * continue it by subject: its customer, whoever wrote one of its e-mails, and the customer's
 * observers.
 */
export async function ticketByProtocols(sql: Queryable, protocols: string[]): Promise<(TicketCandidate & { addresses: string[] }) | undefined> {
  if (protocols.length === 0) return undefined;
  const [row] = await sql<(TicketCandidate & { addresses: (string | null)[] })[]>`
    SELECT t.id AS ticket_id, t.protocol, t.status,
           ARRAY(SELECT c.email FROM customer c WHERE c.id = t.customer_id
                 UNION SELECT e.from_address FROM inbound_email e
                        WHERE e.id IN (SELECT t.source_email_id UNION ALL SELECT m.email_id FROM ticket_message m WHERE m.ticket_id = t.id)
                 UNION SELECT u.email FROM customer_observer o JOIN app_user u ON u.id = o.user_id WHERE o.customer_id = t.customer_id) AS addresses
      FROM ticket t
     WHERE t.protocol = ANY(${protocols}::text[])
     ORDER BY array_position(${protocols}::text[], t.protocol) LIMIT 1`;
  return row && { ...row, addresses: row.addresses.filter((a): a is string => a !== null) };
}

/** The ticket's status now, holding it against a concurrent change until the caller's transaction ends. */
export async function lockedTicketStatus(tx: Queryable, ticketId: number): Promise<TicketStatus> {
  const [row] = await tx<{ status: TicketStatus }[]>`SELECT status FROM ticket WHERE id = ${ticketId} FOR SHARE`;
  if (!row) throw new Error(`ticket ${ticketId} vanished`);
  return row.status;
}

/** Mail we sent about a ticket that one of `messageIds` names: an acknowledgement, or an alert (by firing id). */
export async function ourMail(sql: Queryable, messageIds: string[], alertFiringIds: number[]): Promise<{ ticketId: number; protocol: string; kind: 'acknowledgement' | 'alert'; messageId: string; recipient: string | null } | undefined> {
  if (messageIds.length === 0 && alertFiringIds.length === 0) return undefined;
  const [row] = await sql<{ ticketId: number; protocol: string; kind: 'acknowledgement' | 'alert'; messageId: string; recipient: string | null }[]>`
    SELECT * FROM (
      SELECT o.ticket_id, t.protocol, o.kind, o.message_id, o.recipient, array_position(${messageIds}::text[], o.message_id) AS ord
        FROM outbound_email o JOIN ticket t ON t.id = o.ticket_id WHERE o.message_id = ANY(${messageIds}::text[])
      UNION ALL
      SELECT f.ticket_id, t.protocol, 'alert', '<alert-' || f.id || '@mailtrack>', f.recipients[1], array_position(${alertFiringIds}::bigint[], f.id)
        FROM alert_firing f JOIN ticket t ON t.id = f.ticket_id WHERE f.id = ANY(${alertFiringIds}::bigint[])
    ) x ORDER BY ord LIMIT 1`;
  return row;
}

/** A bounce of mail we sent, on the ticket's timeline (once per bounce). */
export async function recordBounce(tx: Queryable, b: { ticketId: number; emailId: number; kind: string; messageId: string; recipient: string | null }): Promise<void> {
  await tx`
    INSERT INTO ticket_event (ticket_id, kind, actor, data, key)
    VALUES (${b.ticketId}, 'bounce_received', 'system:email',
            ${tx.json({ emailId: b.emailId, of: b.kind, messageId: b.messageId, recipient: b.recipient })}, ${`bounce:${b.emailId}`})
    ON CONFLICT DO NOTHING`;
}

/** An event on a ticket's timeline from the e-mail side, once per key; the ticket by id or by protocol. */
export async function addTicketEvent(sql: Queryable, e: { ticket: number | string; kind: string; key: string; data: Record<string, string | number | boolean | null> }): Promise<void> {
  await sql`
    INSERT INTO ticket_event (ticket_id, kind, actor, data, key)
    SELECT t.id, ${e.kind}, 'system:email', ${sql.json(e.data)}, ${e.key} FROM ticket t
     WHERE ${typeof e.ticket === 'number' ? sql`t.id = ${e.ticket}` : sql`t.protocol = ${e.ticket}`}
    ON CONFLICT DO NOTHING`;
}
