import { storableText } from '../domain/storable-text.js';
import type { EmailOutcome, RecordedOutcome } from '../domain/email-outcome.js';
import type { EmailRef } from '../contracts/workflow-ids.js';
import { inTransaction, type Queryable, type Sql } from './client.js';
import { STAGED_RAW, type StagedRaw } from './inbound-email-raw.js';
import type { Email, EmailDetail, EmailListQuery } from '../schemas/emails.js';
import { headerFields } from '../domain/mail-headers.js';
import { iso, where } from './crud.js';

export interface ReceivedEmail {
  emailId: number;
  /** An earlier e-mail of the same mailbox with the same Message-ID (e.g. after a UIDVALIDITY change). */
  duplicateOf: number | null;
  /** Set once the e-mail's outcome is recorded. */
  outcome: RecordedOutcome | null;
}

/**
 * The stored e-mail at this mailbox position, if it has been received. Duplicates are found
 * through the index on md5(message_id) (a Message-ID may be too long for a btree row), and
 * confirmed on the full Message-ID.
 */
export async function findReceived(sql: Queryable, ref: EmailRef): Promise<ReceivedEmail | undefined> {
  const [row] = await sql<{ id: number; duplicateOf: number | null; outcome: EmailOutcome | null; outcomeReason: string | null; protocol: string | null }[]>`
    SELECT e.id, e.outcome, e.outcome_reason, t.protocol,
           (SELECT min(d.id) FROM inbound_email d
             WHERE d.mailbox_id = e.mailbox_id AND md5(d.message_id) = md5(e.message_id)
               AND d.message_id = e.message_id AND d.id < e.id) AS duplicate_of
      FROM inbound_email e LEFT JOIN LATERAL ${TICKET_OF_EMAIL(sql)} t ON true
     WHERE e.mailbox_id = ${ref.mailboxId} AND e.uid_validity = ${ref.uidValidity} AND e.uid = ${ref.uid}`;
  if (!row) return undefined;
  const outcome = row.outcome && { outcome: row.outcome, reason: row.outcomeReason ?? '', ...(row.protocol ? { protocol: row.protocol } : {}) };
  return { emailId: row.id, duplicateOf: row.duplicateOf, outcome };
}

/**
 * Stores the raw message once per (mailbox, UIDVALIDITY, UID). Under a per-Message-ID
 * advisory lock, so of two copies of one message received at once exactly one is first.
 * With `quarantineReason`, the e-mail is stored with its outcome already recorded as
 * quarantined (in the same transaction: it is never seen without it). `raw` is the message's
 * bytes, or a message staged in pieces in the caller's transaction (`stageRaw`): then this runs
 * in a savepoint of it (a refusal leaves the staged pieces for another try), and the e-mail and
 * its whole message become visible together when the caller commits.
 */
export async function storeReceived(sql: Queryable, ref: EmailRef, raw: Buffer | StagedRaw, messageId: string | null, quarantineReason: string | null = null): Promise<ReceivedEmail> {
  return inTransaction(sql, async (tx) => {
    if (messageId) await tx`SELECT pg_advisory_xact_lock(${ref.mailboxId}, hashtext(${messageId}))`;
    const outcome = quarantineReason === null ? null : 'quarantined';
    const size = Buffer.isBuffer(raw) ? raw.length : raw.size;
    const bytes = Buffer.isBuffer(raw) ? tx`${raw}` : STAGED_RAW(tx);
    await tx`
      INSERT INTO inbound_email (mailbox_id, uid_validity, uid, message_id, size, raw, outcome, outcome_reason, outcome_at)
      VALUES (${ref.mailboxId}, ${ref.uidValidity}, ${ref.uid}, ${messageId}, ${size}, ${bytes},
              ${outcome}, ${quarantineReason}, CASE WHEN ${outcome}::text IS NULL THEN NULL ELSE now() END)
      ON CONFLICT (mailbox_id, uid_validity, uid) DO NOTHING`;
    const stored = await findReceived(tx, ref);
    if (!stored) throw new Error(`inbound e-mail ${ref.mailboxId}:${ref.uidValidity}:${ref.uid} vanished after insert`);
    return stored;
  });
}

export async function getRaw(sql: Queryable, emailId: number): Promise<{ mailboxId: number; raw: Buffer } | undefined> {
  const [row] = await sql<{ mailboxId: number; raw: Buffer }[]>`SELECT mailbox_id, raw FROM inbound_email WHERE id = ${emailId}`;
  return row;
}

export interface ParsedFields {
  subject: string | null;
  fromAddress: string | null;
  fromName: string | null;
  toAddresses: string[];
  sentAt: Date | null;
  textBody: string;
}

export interface StoredAttachment {
  filename: string | null;
  contentType: string;
  size: number;
  sha256: string;
  contentId: string | null;
  inline: boolean;
  content: Buffer;
}

/** Idempotent: a retried parse rewrites the same fields and the same attachment positions. */
export async function saveParsed(sql: Sql, emailId: number, fields: ParsedFields, attachments: StoredAttachment[]): Promise<void> {
  await sql.begin(async (tx) => {
    await tx`
      UPDATE inbound_email SET subject = ${fields.subject}, from_address = ${fields.fromAddress},
             from_name = ${fields.fromName}, to_addresses = ${fields.toAddresses}, sent_at = ${fields.sentAt},
             text_body = ${fields.textBody}, parsed_at = now()
       WHERE id = ${emailId}`;
    for (const [position, a] of attachments.entries()) {
      await tx`
        INSERT INTO email_attachment (email_id, position, filename, content_type, size, sha256, content_id, inline, content)
        VALUES (${emailId}, ${position}, ${a.filename}, ${a.contentType}, ${a.size}, ${a.sha256}, ${a.contentId}, ${a.inline}, ${a.content})
        ON CONFLICT (email_id, position) DO NOTHING`;
    }
  });
}

export interface EmailForTicket {
  mailboxId: number;
  subject: string | null;
  fromAddress: string | null;
  textBody: string | null;
  receivedAt: string;
  /** The mailbox's limit of new tickets per sender per hour (0: none). */
  senderTicketLimit: number;
}

export async function getEmailForTicket(sql: Sql, emailId: number): Promise<EmailForTicket | undefined> {
  const [row] = await sql<EmailForTicket[]>`
    SELECT e.mailbox_id, e.subject, e.from_address, e.text_body, e.received_at, m.sender_ticket_limit
      FROM inbound_email e JOIN mailbox m ON m.id = e.mailbox_id WHERE e.id = ${emailId}`;
  return row;
}

/** Whether the mailbox acknowledges new tickets (SPEC §4.11). */
export async function acknowledges(sql: Queryable, mailboxId: number): Promise<boolean> {
  const [row] = await sql<{ acknowledge: boolean }[]>`SELECT acknowledge FROM mailbox WHERE id = ${mailboxId}`;
  return row?.acknowledge ?? false;
}

/** What threading reads of a parsed e-mail (SPEC §4.4): its mailbox, sender, subject and own header section. */
export async function getEmailForThreading(sql: Queryable, emailId: number): Promise<{ mailboxId: number; fromAddress: string | null; subject: string | null; headerBlock: Buffer } | undefined> {
  const [row] = await sql<{ mailboxId: number; fromAddress: string | null; subject: string | null; headerBlock: Buffer }[]>`
    SELECT e.mailbox_id, e.from_address, e.subject, ${HEADER_BLOCK(sql)} AS header_block FROM inbound_email e WHERE e.id = ${emailId}`;
  return row;
}

/**
 * Ends an e-mail `ignored` (automatic mail, SPEC §4.2) in one transaction: what its header
 * section says is kept where the parse did not store it, and `alsoIn` (a bounce's event on
 * its ticket) is written with the outcome.
 */
export async function settleIgnored(
  sql: Sql,
  emailId: number,
  reason: string,
  fields: Pick<ParsedFields, 'subject' | 'fromAddress' | 'fromName' | 'sentAt'> | undefined,
  alsoIn?: (tx: Queryable) => Promise<void>,
): Promise<void> {
  await sql.begin(async (tx) => {
    if (fields) await fillReadableFields(tx, emailId, fields);
    if (alsoIn) await alsoIn(tx);
    await recordOutcome(tx, emailId, 'ignored', reason);
  });
}

/** The first recorded outcome stands: a replayed workflow cannot rewrite history. */
export async function recordOutcome(sql: Queryable, emailId: number, outcome: EmailOutcome, reason: string): Promise<void> {
  // A reason quotes the message (a sender, a parse error): it must be storable whatever it holds.
  const storable = storableText(reason).slice(0, 2000);
  await sql`
    UPDATE inbound_email SET outcome = ${outcome}, outcome_reason = ${storable}, outcome_at = now()
     WHERE id = ${emailId} AND outcome IS NULL`;
}

/** The header section of a stored message (its first empty line ends it, CRLF or LF), without reading the rest. */
export async function storedHeaderSection(sql: Queryable, emailId: number): Promise<Buffer | undefined> {
  const [row] = await sql<{ headerBlock: Buffer }[]>`SELECT ${HEADER_BLOCK(sql)} AS header_block FROM inbound_email e WHERE e.id = ${emailId}`;
  return row?.headerBlock;
}

/** Fills the fields a full parse would have stored, where it did not (an e-mail ignored or quarantined before or during its parse). */
export async function fillReadableFields(sql: Queryable, emailId: number, f: Pick<ParsedFields, 'subject' | 'fromAddress' | 'fromName' | 'sentAt'>): Promise<void> {
  await sql`
    UPDATE inbound_email
       SET subject = COALESCE(subject, ${f.subject}), from_address = COALESCE(from_address, ${f.fromAddress}),
           from_name = COALESCE(from_name, ${f.fromName}), sent_at = COALESCE(sent_at, ${f.sentAt})
     WHERE id = ${emailId}`;
}

/** Received e-mails with their outcome, newest first; the raw message stays in the database. */
export async function listEmails(sql: Queryable, f: Omit<EmailListQuery, 'outcome'> & { outcome?: EmailOutcome }): Promise<{ items: Email[]; nextBefore: number | null }> {
  const rows = await sql<Email[]>`
    SELECT e.id, e.mailbox_id, e.uid_validity, e.uid, e.message_id, e.size, e.received_at, e.subject, e.from_address,
           e.outcome, e.outcome_reason, t.protocol
      FROM inbound_email e LEFT JOIN LATERAL ${TICKET_OF_EMAIL(sql)} t ON true
     WHERE ${where(sql, [
       f.mailboxId !== undefined && sql`e.mailbox_id = ${f.mailboxId}`,
       f.outcome !== undefined && sql`e.outcome = ${f.outcome}`,
       f.pending === true && sql`e.outcome IS NULL`,
       f.pending === false && sql`e.outcome IS NOT NULL`,
       f.before !== undefined && sql`e.id < ${f.before}`,
     ])}
     ORDER BY e.id DESC LIMIT ${f.limit + 1}`;
  const items = rows.slice(0, f.limit);
  return { items, nextBefore: rows.length > f.limit ? (items.at(-1)?.id ?? null) : null };
}


/** The protocol of the ticket an e-mail (`e`) opened, or else of the one it was appended to: a subquery to join laterally. */
const TICKET_OF_EMAIL = (sql: Queryable) => sql`
  (SELECT x.protocol FROM ticket x WHERE x.source_email_id = e.id
   UNION ALL
   SELECT x.protocol FROM ticket_message m JOIN ticket x ON x.id = m.ticket_id WHERE m.email_id = e.id
   LIMIT 1)`;

/** Where the header block ends: the first empty line (CRLF CRLF, or LF LF in a bare-LF message). */
const HEADER_BLOCK = (sql: Queryable) => sql`
  substring(e.raw FROM 1 FOR COALESCE(LEAST(NULLIF(position('\\x0d0a0d0a'::bytea IN e.raw), 0), NULLIF(position('\\x0a0a'::bytea IN e.raw), 0)), length(e.raw)))`;

/** One e-mail with its parsed fields, header fields and attachments; only the header block of the raw message is read. */
export async function getEmail(sql: Queryable, id: number): Promise<EmailDetail | undefined> {
  const [row] = await sql<(Omit<EmailDetail, 'headers'> & { headerBlock: Buffer })[]>`
    SELECT e.id, e.mailbox_id, e.uid_validity, e.uid, e.message_id, e.size, e.received_at, e.subject, e.from_address,
           e.outcome, e.outcome_reason, t.protocol, e.from_name, COALESCE(e.to_addresses, '{}') AS to_addresses, e.sent_at, e.outcome_at, e.noticed_at,
           CASE WHEN e.outcome = 'pre_ticket' THEN json_build_object(
                  'status', COALESCE(p.status, 'pending'), 'discardReason', CASE WHEN p.status = 'discarded' THEN p.reason END,
                  'by', p.by_login, 'at', ${iso(sql, sql`p.at`)}, 'url', '/pre-tickets/' || e.id) END AS triage,
           ${HEADER_BLOCK(sql)} AS header_block,
           COALESCE((SELECT json_agg(json_build_object(
                       'id', a.id, 'emailId', a.email_id, 'filename', a.filename, 'contentType', a.content_type, 'size', a.size,
                       'sha256', a.sha256, 'inline', a.inline, 'url', '/emails/' || e.id || '/attachments/' || a.id) ORDER BY a.position)
                       FROM email_attachment a WHERE a.email_id = e.id), '[]') AS attachments,
           '/emails/' || e.id || '/raw' AS raw_url
      FROM inbound_email e LEFT JOIN LATERAL ${TICKET_OF_EMAIL(sql)} t ON true
      LEFT JOIN pre_ticket_triage p ON p.email_id = e.id
     WHERE e.id = ${id}`;
  if (!row) return undefined;
  const { headerBlock, ...email } = row;
  return { ...email, headers: headerFields(headerBlock) };
}


/** An attachment's bytes, if it belongs to this e-mail. */
export async function getEmailAttachment(sql: Queryable, emailId: number, attachmentId: number): Promise<{ filename: string | null; contentType: string; content: Buffer } | undefined> {
  const [row] = await sql<{ filename: string | null; contentType: string; content: Buffer }[]>`
    SELECT filename, content_type, content FROM email_attachment WHERE email_id = ${emailId} AND id = ${attachmentId}`;
  return row;
}
