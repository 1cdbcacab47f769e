import type { EmailOutcome } from '../domain/email-outcome.js';
import type { Email, EmailDetail, EmailListQuery } from '../schemas/emails.js';
import type { Queryable } from './client.js';
import { where } from './crud.js';

// Reads of received e-mails for the API. To be merged into db/inbound-emails.ts (the
// inbound e-mail aggregate) once the work in progress there is done.

/** Received e-mails with their outcome, newest first; the raw message stays in the database. */
export async function listEmails(sql: Queryable, f: Omit<EmailListQuery, 'outcome'> & { outcome?: EmailOutcome }): Promise<{ items: Email[]; nextBefore: number | null }> {
  const rows = await sql<Email[]>`
    SELECT e.id, e.mailbox_id, e.uid_validity, e.uid, e.message_id, e.size, e.received_at, e.subject, e.from_address,
           e.outcome, e.outcome_reason, t.protocol
      FROM inbound_email e LEFT JOIN ticket t ON t.source_email_id = e.id
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

/**
 * The header fields of a message's header block (everything before the first empty line),
 * unfolded (RFC 5322 §2.2.3), in order. Bytes are read as UTF-8 (RFC 6532); a line that is
 * not `name: value` is skipped (the raw message keeps it).
 */
export function headerFields(block: Buffer): { name: string; value: string }[] {
  const text = new TextDecoder('utf-8').decode(block);
  const fields: { name: string; value: string }[] = [];
  for (const line of text.split(/\r?\n(?![ \t])/)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim();
    if (!/^[\x21-\x39\x3b-\x7e]+$/.test(name)) continue;
    fields.push({ name, value: line.slice(colon + 1).replace(/\r?\n(?=[ \t])/g, '').trim() });
  }
  return fields;
}

/** Where the header block ends: the first empty line (CRLF CRLF, or LF LF in a bare-LF message). */
const HEADER_BLOCK = (sql: Queryable) => sql`
  substring(e.raw FROM 1 FOR COALESCE(LEAST(NULLIF(position('\\x0d0a0d0a'::bytea IN e.raw), 0), NULLIF(position('\\x0a0a'::bytea IN e.raw), 0)), length(e.raw)))`;

/** One e-mail with its parsed fields, header fields and attachments; only the header block of the raw message is read. */
export async function getEmail(sql: Queryable, id: number): Promise<EmailDetail | undefined> {
  const [row] = await sql<(Omit<EmailDetail, 'headers'> & { headerBlock: Buffer })[]>`
    SELECT e.id, e.mailbox_id, e.uid_validity, e.uid, e.message_id, e.size, e.received_at, e.subject, e.from_address,
           e.outcome, e.outcome_reason, t.protocol, e.from_name, COALESCE(e.to_addresses, '{}') AS to_addresses, e.sent_at, e.outcome_at,
           ${HEADER_BLOCK(sql)} AS header_block,
           COALESCE((SELECT json_agg(json_build_object(
                       'id', a.id, 'emailId', a.email_id, 'filename', a.filename, 'contentType', a.content_type, 'size', a.size,
                       'sha256', a.sha256, 'inline', a.inline, 'url', '/emails/' || e.id || '/attachments/' || a.id) ORDER BY a.position)
                       FROM email_attachment a WHERE a.email_id = e.id), '[]') AS attachments,
           '/emails/' || e.id || '/raw' AS raw_url
      FROM inbound_email e LEFT JOIN ticket t ON t.source_email_id = e.id
     WHERE e.id = ${id}`;
  if (!row) return undefined;
  const { headerBlock, ...email } = row;
  return { ...email, headers: headerFields(headerBlock) };
}

/** The message exactly as it was received. */
export async function getRawEmail(sql: Queryable, id: number): Promise<Buffer | undefined> {
  const [row] = await sql<{ raw: Buffer }[]>`SELECT raw FROM inbound_email WHERE id = ${id}`;
  return row?.raw;
}

/** An attachment's bytes, if it belongs to this e-mail. */
export async function getEmailAttachment(sql: Queryable, emailId: number, attachmentId: number): Promise<{ filename: string | null; contentType: string; content: Buffer } | undefined> {
  const [row] = await sql<{ filename: string | null; contentType: string; content: Buffer }[]>`
    SELECT filename, content_type, content FROM email_attachment WHERE email_id = ${emailId} AND id = ${attachmentId}`;
  return row;
}
