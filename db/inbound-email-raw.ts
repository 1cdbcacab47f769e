import type { Queryable } from './client.js';
import type { StoredAttachment } from './inbound-emails.js';

/**
 * The stored raw message read in pieces, and the parse's attachments written one at a time, so
 * that the parse of a large message never holds the whole message, nor all its attachments, in
 * memory: postgres.js sends and receives bytea as hex text, so one 30 MB value costs a 60 MB
 * string and a 60 MB protocol buffer on top of its bytes.
 */

/** Bytes of the raw message read at a time. */
export const RAW_PIECE_BYTES = 1024 * 1024;

/**
 * The raw message's size in bytes and its first piece (all of it, for most messages), in one
 * query; undefined when the e-mail was never stored.
 */
export async function rawHead(sql: Queryable, emailId: number): Promise<{ size: number; head: Buffer } | undefined> {
  const [row] = await sql<{ size: number; head: Buffer }[]>`
    SELECT length(raw) AS size, substring(raw FROM 1 FOR ${RAW_PIECE_BYTES}) AS head FROM inbound_email WHERE id = ${emailId}`;
  return row;
}

/** The pieces of the raw message (`size` bytes, see `rawHead`) after its first, in order. */
export async function* rawRest(sql: Queryable, emailId: number, size: number): AsyncGenerator<Buffer> {
  for (let at = RAW_PIECE_BYTES; at < size; at += RAW_PIECE_BYTES) {
    const [row] = await sql<{ piece: Buffer }[]>`SELECT substring(raw FROM ${at + 1} FOR ${RAW_PIECE_BYTES}) AS piece FROM inbound_email WHERE id = ${emailId}`;
    if (!row) throw new Error(`inbound e-mail ${emailId} vanished while it was read`);
    yield row.piece;
  }
}

/** One attachment of a parsed e-mail at its position; a retried parse writes nothing twice (as `saveParsed`). */
export async function saveAttachment(sql: Queryable, emailId: number, position: number, a: StoredAttachment): Promise<void> {
  await sql`
    INSERT INTO email_attachment (email_id, position, filename, content_type, size, sha256, content_id, inline, content)
    VALUES (${emailId}, ${position}, ${a.filename}, ${a.contentType}, ${a.size}, ${a.sha256}, ${a.contentId}, ${a.inline}, ${a.content})
    ON CONFLICT (email_id, position) DO NOTHING`;
}
