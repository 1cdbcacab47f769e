import type { AfterProcessing } from '../domain/mailbox-settings.js';
import type { EmailOutcome } from '../domain/email-outcome.js';
import type { EmailRef } from '../contracts/workflow-ids.js';
import type { Queryable, Sql } from './client.js';

/**
 * What the mailbox side does with inbound e-mails besides reading them (issue 8, "mailboxes
 * people can run"): the message on the server after the outcome (after-processing), a
 * quarantined e-mail sent through its workflow again (re-processing), and mail pushed over
 * HTTP. Part of the inbound e-mail aggregate (db/inbound-emails.ts holds the pipeline's side).
 */

/** What after-processing did to a message: the mailbox's action, or nothing it could do. */
export type PostProcessing = 'left' | 'seen' | 'moved' | 'skipped' | 'none';

export const ACTION_OF: Record<AfterProcessing, PostProcessing> = { leave: 'left', seen: 'seen', move: 'moved' };

/**
 * UIDs of this mailbox position (UIDVALIDITY) whose outcome is recorded and whose message has
 * not been marked or moved yet, oldest first.
 */
export async function dueForAfterProcessing(sql: Queryable, mailboxId: number, uidValidity: number, limit: number): Promise<number[]> {
  const rows = await sql<{ uid: number }[]>`
    SELECT uid FROM inbound_email
     WHERE mailbox_id = ${mailboxId} AND uid_validity = ${uidValidity} AND outcome IS NOT NULL AND post_processed_at IS NULL
     ORDER BY uid LIMIT ${limit}`;
  return rows.map((r) => r.uid);
}

/** Records what was done to these messages (idempotent: a message done once stays as it was recorded). */
export async function markAfterProcessed(sql: Queryable, mailboxId: number, uidValidity: number, uids: number[], action: PostProcessing): Promise<void> {
  if (uids.length === 0) return;
  await sql`
    UPDATE inbound_email SET post_processed_at = now(), post_processing = ${action}
     WHERE mailbox_id = ${mailboxId} AND uid_validity = ${uidValidity} AND uid = ANY(${uids}::bigint[]) AND post_processed_at IS NULL`;
}

/**
 * Closes after-processing without touching the server: every e-mail with an outcome when the
 * mailbox leaves its mail alone (`left`), or only those of another UIDVALIDITY than the
 * folder's (`skipped`: their UIDs no longer name anything). Returns how many.
 */
export async function closeAfterProcessing(sql: Queryable, mailboxId: number, how: { leave: true } | { exceptUidValidity: number }): Promise<number> {
  const rows = await sql`
    UPDATE inbound_email SET post_processed_at = now(), post_processing = ${'leave' in how ? 'left' : 'skipped'}
     WHERE mailbox_id = ${mailboxId} AND outcome IS NOT NULL AND post_processed_at IS NULL
       AND ${'leave' in how ? sql`TRUE` : sql`uid_validity <> ${how.exceptUidValidity}`}
    RETURNING id`;
  return rows.length;
}

export type Reopened =
  | { kind: 'reopened'; ref: EmailRef; attempt: number; previous: { outcome: EmailOutcome; reason: string | null } }
  | { kind: 'pending'; ref: EmailRef; attempt: number }
  | { kind: 'not-quarantined'; outcome: EmailOutcome | null }
  | { kind: 'missing' };

/**
 * Makes a quarantined e-mail ready to go through its workflow again: its outcome moves to
 * email_outcome_history (with who asked), its attachments are dropped (the new parse stores its
 * own), and `reprocess_count` numbers the attempt. An e-mail already reopened and still without
 * an outcome is `pending` (its workflow may need starting again); any other is refused.
 */
export async function reopenQuarantined(sql: Sql, emailId: number, by: string): Promise<Reopened> {
  return sql.begin(async (tx) => {
    const [e] = await tx<{ mailboxId: number; uidValidity: number; uid: number; outcome: EmailOutcome | null; outcomeReason: string | null; reprocessCount: number }[]>`
      SELECT mailbox_id, uid_validity, uid, outcome, outcome_reason, reprocess_count FROM inbound_email WHERE id = ${emailId} FOR UPDATE`;
    if (!e) return { kind: 'missing' } as const;
    const ref = { mailboxId: e.mailboxId, uidValidity: e.uidValidity, uid: e.uid };
    if (e.outcome === null && e.reprocessCount > 0) return { kind: 'pending', ref, attempt: e.reprocessCount } as const;
    if (e.outcome !== 'quarantined') return { kind: 'not-quarantined', outcome: e.outcome } as const;
    await tx`
      INSERT INTO email_outcome_history (email_id, outcome, outcome_reason, outcome_at, replaced_by)
      SELECT id, outcome, outcome_reason, outcome_at, ${by} FROM inbound_email WHERE id = ${emailId}`;
    await tx`DELETE FROM email_attachment a WHERE a.email_id = ${emailId} AND NOT EXISTS (SELECT 1 FROM ticket t WHERE t.source_email_id = ${emailId})`;
    const [next] = await tx<{ reprocessCount: number }[]>`
      UPDATE inbound_email SET outcome = NULL, outcome_reason = NULL, outcome_at = NULL, parsed_at = NULL, reprocess_count = reprocess_count + 1
       WHERE id = ${emailId} RETURNING reprocess_count`;
    return { kind: 'reopened', ref, attempt: next!.reprocessCount, previous: { outcome: e.outcome, reason: e.outcomeReason } } as const;
  });
}

/** The outcomes an e-mail had before it was re-processed, oldest first. */
export async function outcomeHistory(sql: Queryable, emailId: number): Promise<{ outcome: EmailOutcome; reason: string | null; at: string | null; replacedAt: string; replacedBy: string }[]> {
  return sql<{ outcome: EmailOutcome; reason: string | null; at: string | null; replacedAt: string; replacedBy: string }[]>`
    SELECT outcome, outcome_reason AS reason, outcome_at AS at, replaced_at, replaced_by FROM email_outcome_history WHERE email_id = ${emailId} ORDER BY id`;
}

/** A pushed message as stored: at UIDVALIDITY 0, with its own UID from a sequence. */
export interface PushedEmail {
  emailId: number;
  ref: EmailRef;
  /** An earlier push of the same Message-ID still without an outcome was found instead (a sender's retry). */
  existing: boolean;
}

/**
 * Stores a pushed message like one read over IMAP (raw bytes, size, Message-ID) at
 * UIDVALIDITY 0, its after-processing closed at once (there is no message on a server). Under
 * the same per-Message-ID lock as IMAP mail, so the pipeline's Message-ID dedupe sees copies in
 * order. A push of a Message-ID whose earlier push has no outcome yet stores nothing and gives
 * that one back: a sender retrying after a timeout, or after a failed workflow start, gets the
 * first copy (and its workflow started if need be), not an ignored duplicate of a stuck one.
 */
export async function storePushed(sql: Sql, mailboxId: number, raw: Buffer, messageId: string | null): Promise<PushedEmail> {
  return sql.begin(async (tx) => {
    if (messageId) {
      await tx`SELECT pg_advisory_xact_lock(${mailboxId}, hashtext(${messageId}))`;
      const [pending] = await tx<{ id: number; uid: number }[]>`
        SELECT id, uid FROM inbound_email
         WHERE mailbox_id = ${mailboxId} AND md5(message_id) = md5(${messageId}) AND message_id = ${messageId}
           AND uid_validity = 0 AND outcome IS NULL
         ORDER BY id LIMIT 1`;
      if (pending) return { emailId: pending.id, ref: { mailboxId, uidValidity: 0, uid: pending.uid }, existing: true };
    }
    const [row] = await tx<{ id: number; uid: number }[]>`
      INSERT INTO inbound_email (mailbox_id, uid_validity, uid, message_id, size, raw, post_processed_at, post_processing)
      VALUES (${mailboxId}, 0, nextval('inbound_push_uid'), ${messageId}, ${raw.length}, ${raw}, now(), 'none')
      RETURNING id, uid`;
    return { emailId: row!.id, ref: { mailboxId, uidValidity: 0, uid: row!.uid }, existing: false };
  });
}

/** Takes back a pushed message whose workflow could not be started (nothing else has seen it), so the sender's retry is stored anew. */
export async function forgetPushed(sql: Queryable, emailId: number): Promise<void> {
  await sql`DELETE FROM inbound_email WHERE id = ${emailId} AND uid_validity = 0 AND outcome IS NULL AND parsed_at IS NULL`;
}

/**
 * When the watcher learned of these messages (the IDLE notification, or the round that found
 * them); the first time counts: a retried round does not move it.
 */
export async function markNoticed(sql: Queryable, at: { mailboxId: number; uidValidity: number }, uids: number[], noticedAt: Date): Promise<void> {
  await sql`
    UPDATE inbound_email SET noticed_at = ${noticedAt}
     WHERE mailbox_id = ${at.mailboxId} AND uid_validity = ${at.uidValidity} AND uid = ANY(${uids}) AND noticed_at IS NULL`;
}
