import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type postgres from 'postgres';
import type { Queryable } from './client.js';
import type { StoredAttachment } from './inbound-emails.js';

/**
 * The raw message stored and read in pieces, and the parse's attachments written one at a time,
 * so that neither receiving nor parsing a large message holds the whole message, nor all its
 * attachments, in memory: postgres.js sends and receives bytea as hex text, so one 30 MB value
 * costs a 60 MB string and a 60 MB protocol buffer on top of its bytes.
 */

/** Bytes of the raw message read at a time (and downloaded at a time, see activities/fetch-mail.ts). */
export const RAW_PIECE_BYTES = 1024 * 1024;

/**
 * A raw message staged in pieces in the current transaction by `stageRaw`, not yet an e-mail:
 * `storeReceived` in the same transaction makes it one.
 */
export interface StagedRaw {
  readonly size: number;
  /**
   * Its first bytes, at most RAW_PIECE_BYTES and ending at a line end unless they are the whole
   * message: its header section, unless that is longer than mail servers accept (Postfix refuses
   * a header section above 100 KiB by default).
   */
  readonly head: Buffer;
}

/** PostgreSQL's binary COPY format: its signature, then flags and header extension length (none). */
const COPY_HEADER = Buffer.concat([Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1'), Buffer.alloc(8)]);
const COPY_TRAILER = Buffer.from([0xff, 0xff]);

/**
 * Stages a raw message that arrives in pieces in a temporary table of this transaction, one row
 * a piece, dropped when the transaction ends. Nothing but `storeReceived` in the same transaction
 * reads it, so a message is never seen half-stored, and a crash or a connection lost between
 * pieces rolls back all of it (a retry downloads it again).
 *
 * The pieces go through `COPY ... FROM STDIN (FORMAT binary)`, with the stream's backpressure:
 * their bytes as they are, where a bytea parameter would become hex text (a string twice their
 * size and a protocol buffer as large, for the garbage collector to find). Appending each piece
 * to the e-mail's row instead (`raw = raw || piece`) rewrites the whole value every time:
 * measured on the embedded PostgreSQL, 3–10 s for 30 MB and 19–32 s for 64 MB in 1 MiB pieces,
 * against 0.4 s and 1.1 s for the pieces staged here and joined once (`STAGED_RAW`), and
 * 0.6 s and 1.9 s for one INSERT of the whole message.
 */
export async function stageRaw(tx: postgres.TransactionSql, pieces: AsyncIterable<Buffer>): Promise<StagedRaw> {
  await tx`CREATE TEMPORARY TABLE raw_piece (n integer PRIMARY KEY, piece bytea NOT NULL) ON COMMIT DROP`;
  const head: Buffer[] = [];
  let headBytes = 0;
  let size = 0;
  async function* rows(): AsyncGenerator<Buffer> {
    yield COPY_HEADER;
    let n = 0;
    for await (const piece of pieces) {
      if (piece.length === 0) continue;
      if (headBytes < RAW_PIECE_BYTES) {
        // A copy: a slice would keep the whole piece alive.
        const part = Buffer.from(piece.subarray(0, RAW_PIECE_BYTES - headBytes));
        head.push(part);
        headBytes += part.length;
      }
      // A row: two fields, n (int4) and the piece (bytea, its bytes as they are).
      const fields = Buffer.alloc(14);
      fields.writeInt16BE(2, 0);
      fields.writeInt32BE(4, 2);
      fields.writeInt32BE(n++, 6);
      fields.writeInt32BE(piece.length, 10);
      yield fields;
      yield piece;
      size += piece.length;
    }
    yield COPY_TRAILER;
  }
  await pipeline(Readable.from(rows(), { objectMode: false }), await tx`COPY pg_temp.raw_piece (n, piece) FROM STDIN (FORMAT binary)`.writable());
  const first = Buffer.concat(head);
  const lineEnd = first.lastIndexOf(0x0a);
  return { size, head: size > first.length && lineEnd >= 0 ? first.subarray(0, lineEnd + 1) : first };
}

/** The staged raw message (`stageRaw`) as one bytea value, joined by PostgreSQL: a subquery for the statement that stores it. */
export const STAGED_RAW = (sql: Queryable) => sql`(SELECT COALESCE(string_agg(piece, ''::bytea ORDER BY n), ''::bytea) FROM pg_temp.raw_piece)`;

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
