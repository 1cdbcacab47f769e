import type { Queryable, Sql } from './client.js';
import { addTicketEvent } from './ticket-messages.js';

/**
 * Mail we send about a ticket (SPEC §4.11: the acknowledgement), at most once: a row is written
 * before the send and moved `pending` → `sending` → `sent` (or back to `pending` after a
 * failed attempt, `failed` once given up). A row found `sending` by a later attempt means the
 * worker stopped during a send: it becomes `uncertain` and is never sent again.
 */

export type OutboundKind = 'acknowledgement';

/** What the acknowledgement of a ticket is made of. */
export interface AcknowledgementFacts {
  ticketId: number;
  protocol: string;
  createdAt: string;
  subject: string;
  customerName: string;
  mailboxName: string;
  acknowledge: boolean;
  subjectTemplate: string | null;
  bodyTemplate: string | null;
  /** The sender of the e-mail that opened the ticket, as written. */
  recipient: string | null;
  sourceMessageId: string | null;
  sourceTo: string[];
}

export async function acknowledgementFacts(sql: Queryable, protocol: string): Promise<AcknowledgementFacts | undefined> {
  const [row] = await sql<AcknowledgementFacts[]>`
    SELECT t.id AS ticket_id, t.protocol, t.created_at, t.subject, c.name AS customer_name, m.name AS mailbox_name,
           m.acknowledge, m.acknowledgement_subject AS subject_template, m.acknowledgement_body AS body_template,
           e.from_address AS recipient, e.message_id AS source_message_id, COALESCE(e.to_addresses, '{}') AS source_to
      FROM ticket t
      JOIN customer c ON c.id = t.customer_id
      JOIN mailbox m ON m.id = t.mailbox_id
      JOIN inbound_email e ON e.id = t.source_email_id
     WHERE t.protocol = ${protocol}`;
  return row;
}

export type Claim = { claimed: true; attempts: number } | { claimed: false; status: 'sending' | 'sent' | 'failed' | 'uncertain' };

/** Records the mail (once per ticket and kind) and takes the right to send it now, if it is pending. */
export async function claimOutbound(sql: Sql, o: { ticketId: number; kind: OutboundKind; messageId: string; recipient: string; subject: string }): Promise<Claim> {
  return sql.begin(async (tx) => {
    await tx`
      INSERT INTO outbound_email (ticket_id, kind, message_id, recipient, subject)
      VALUES (${o.ticketId}, ${o.kind}, ${o.messageId}, ${o.recipient}, ${o.subject})
      ON CONFLICT (ticket_id, kind) DO NOTHING`;
    const [taken] = await tx<{ attempts: number }[]>`
      UPDATE outbound_email SET status = 'sending', attempts = attempts + 1, updated_at = now()
       WHERE ticket_id = ${o.ticketId} AND kind = ${o.kind} AND status = 'pending'
      RETURNING attempts`;
    if (taken) return { claimed: true, attempts: taken.attempts };
    const [row] = await tx<{ status: 'sending' | 'sent' | 'failed' | 'uncertain' }[]>`SELECT status FROM outbound_email WHERE ticket_id = ${o.ticketId} AND kind = ${o.kind}`;
    return { claimed: false, status: row!.status };
  });
}

/** The mail went out (the SMTP server accepted it): on the ticket's timeline too. */
export async function markOutboundSent(sql: Sql, ticketId: number, kind: OutboundKind, event: { messageId: string; to: string }): Promise<void> {
  await sql.begin(async (tx) => {
    await tx`
      UPDATE outbound_email SET status = 'sent', sent_at = now(), last_error = NULL, updated_at = now()
       WHERE ticket_id = ${ticketId} AND kind = ${kind} AND status IN ('sending', 'uncertain')`;
    await addTicketEvent(tx, { ticket: ticketId, kind: `${kind}_sent`, key: `${kind}_sent`, data: event });
  });
}

/** An attempt failed: pending again for the next one, or failed for good (`giveUp`), saying why. */
export async function markOutboundFailed(sql: Sql, ticketId: number, kind: OutboundKind, error: string, giveUp: boolean): Promise<void> {
  await sql.begin(async (tx) => {
    await tx`
      UPDATE outbound_email SET status = ${giveUp ? 'failed' : 'pending'}, last_error = ${error}, updated_at = now()
       WHERE ticket_id = ${ticketId} AND kind = ${kind} AND status = 'sending'`;
    if (giveUp) await addTicketEvent(tx, { ticket: ticketId, kind: `${kind}_failed`, key: `${kind}_failed`, data: { error } });
  });
}

/** An earlier attempt stopped during its send: whether it went out is unknown, and it is not sent again. */
export async function markOutboundUncertain(sql: Sql, ticketId: number, kind: OutboundKind): Promise<void> {
  await sql.begin(async (tx) => {
    const [changed] = await tx<{ id: number }[]>`
      UPDATE outbound_email SET status = 'uncertain', updated_at = now()
       WHERE ticket_id = ${ticketId} AND kind = ${kind} AND status = 'sending' RETURNING id`;
    if (changed) {
      await addTicketEvent(tx, {
        ticket: ticketId,
        kind: `${kind}_uncertain`,
        key: `${kind}_uncertain`,
        data: { reason: 'the worker stopped while sending it: it may have gone out, and is not sent again' },
      });
    }
  });
}

/** No mail is sent for this ticket, and why (on its timeline). */
export async function recordOutboundSkipped(sql: Queryable, ticketId: number, kind: OutboundKind, reason: string): Promise<void> {
  await addTicketEvent(sql, { ticket: ticketId, kind: `${kind}_skipped`, key: `${kind}_skipped`, data: { reason } });
}
