import type { EmailOutcome } from '../domain/email-outcome.js';
import type { Sql } from './client.js';

export interface EmailView {
  id: number;
  mailboxId: number;
  uidValidity: number;
  uid: number;
  messageId: string | null;
  size: number;
  receivedAt: string;
  subject: string | null;
  fromAddress: string | null;
  outcome: EmailOutcome | null;
  outcomeReason: string | null;
  protocol: string | null;
}

/** Received e-mails with their outcome, newest first; the raw message stays in the database. */
export async function listEmails(
  sql: Sql,
  f: { mailboxId?: number; outcome?: EmailOutcome; pending?: boolean; beforeId?: number; limit: number },
): Promise<{ items: EmailView[]; nextBeforeId: number | null }> {
  const conditions = [
    f.mailboxId !== undefined && sql`e.mailbox_id = ${f.mailboxId}`,
    f.outcome !== undefined && sql`e.outcome = ${f.outcome}`,
    f.pending === true && sql`e.outcome IS NULL`,
    f.beforeId !== undefined && sql`e.id < ${f.beforeId}`,
  ].filter((c) => c !== false);
  const where = conditions.reduce((acc, c) => sql`${acc} AND ${c}`, sql`TRUE`);
  const rows = await sql<(EmailView & { id: number })[]>`
    SELECT e.id, e.mailbox_id, e.uid_validity, e.uid, e.message_id, e.size, e.received_at, e.subject, e.from_address,
           e.outcome, e.outcome_reason, t.protocol
      FROM inbound_email e LEFT JOIN ticket t ON t.source_email_id = e.id
     WHERE ${where} ORDER BY e.id DESC LIMIT ${f.limit + 1}`;
  const page = rows.slice(0, f.limit);
  const last = page.at(-1);
  return {
    items: page,
    nextBeforeId: rows.length > f.limit && last ? last.id : null,
  };
}
