import type { Queryable } from './client.js';
import type { StoredAttachment } from './inbound-emails.js';

/**
 * The stored raw message read in pieces, and the parse's attachments written one at a time, so
 * that the parse of a large message never holds the whole message, nor all its attachments, in
 * memory: postgres.js sends and receives bytea as hex text, so one 30 MB value costs a 60 MB
 * string and a 60 MB protocol buffer on top of its bytes.
 */

/** The raw message's size in bytes; undefined when the e-mail was never stored. */
export async function rawSize(sql: Queryable, emailId: number): Promise<number | undefined> {
  const [row] = await sql<{ size: number }[]>`SELECT length(raw) AS size FROM inbound_email WHERE id = ${emailId}`;
  return row?.size;
}

/** The raw message (`size` bytes, see `rawSize`) in pieces of `pieceBytes`, first to last. */
export async function* rawPieces(sql: Queryable, emailId: number, size: number, pieceBytes = 1024 * 1024): AsyncGenerator<Buffer> {
  for (let at = 0; at < size; at += pieceBytes) {
    const [row] = await sql<{ piece: Buffer }[]>`SELECT substring(raw FROM ${at + 1} FOR ${pieceBytes}) AS piece FROM inbound_email WHERE id = ${emailId}`;
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
