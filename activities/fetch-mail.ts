import { Context } from '@temporalio/activity';
import type { ImapFlow } from 'imapflow';
import type { Queryable, Sql } from '../db/client.js';
import { RAW_PIECE_BYTES, stageRaw, type StagedRaw } from '../db/inbound-email-raw.js';
import { storeReceived } from '../db/inbound-emails.js';
import { getMaxMessageBytes } from '../db/mailboxes.js';
import type { EmailRef } from '../contracts/workflow-ids.js';
import { ownMessageId } from '../domain/mail-headers.js';
import { oversizedReason } from '../domain/mailbox-settings.js';
import { storableOrNull } from '../domain/storable-text.js';
import { permanentDatabaseError } from './failures.js';

const VANISHED = 'the message was no longer in the mailbox (or its UIDVALIDITY changed) when it was read';

/**
 * At most this many bytes of messages are asked for in one FETCH (a larger message goes
 * alone): imapflow holds each message of a FETCH whole, so this bounds what one batch holds.
 */
export const FETCH_GROUP_BYTES = 16 * 1024 * 1024;

/**
 * A message above this many bytes (by RFC822.SIZE) is downloaded and stored in pieces of
 * RAW_PIECE_BYTES (`streamOne`). Below it, one FETCH for a group and one INSERT each: a message
 * held whole costs about nine times its size at its peak (imapflow's copy, postgres.js's hex
 * text and protocol buffer), measured at +272 MiB for 30 MB, so at most about 40 MiB here.
 */
export const STREAM_ABOVE_BYTES = 4 * 1024 * 1024;

/** The message's own Message-ID, without a full parse (the parse may fail; this must not). */
export function headerMessageId(raw: Buffer): string | null {
  return storableOrNull(ownMessageId(raw)) || null;
}

/**
 * Stores one fetched message. When the database refuses it for good (SQLSTATE 22, 23, 54:
 * no retry would help), it is stored in a form that cannot be refused (without its
 * Message-ID; as a last resort without its bytes) and recorded as quarantined with the
 * reason, so that one message never stops its mailbox. Anything else (connection lost) is
 * thrown, and the activity retried.
 */
async function storeOne(sql: Queryable, ref: EmailRef, raw: Buffer | StagedRaw, quarantine: string | null): Promise<void> {
  let refused: string | null = null;
  const ownId = headerMessageId(Buffer.isBuffer(raw) ? raw : raw.head);
  for (const [body, messageId] of [[raw, ownId], [raw, null], [Buffer.alloc(0), null]] as const) {
    try {
      const reason = refused ? `the message could not be stored as received: ${refused}` : quarantine;
      await storeReceived(sql, ref, body, messageId, reason);
      return;
    } catch (err) {
      const permanent = permanentDatabaseError(err);
      if (!permanent) throw err;
      refused ??= permanent;
    }
  }
  throw new Error(`e-mail ${ref.mailboxId}:${ref.uidValidity}:${ref.uid} could not be stored in any form: ${refused}`);
}

/**
 * Downloads one large message in pieces (imapflow's `download`: `BODY.PEEK[]<offset.length>`
 * FETCHes, one piece in flight, with backpressure) and stores it in pieces (`stageRaw`), in one
 * transaction: the e-mail appears whole or not at all, and the advisory lock of the Message-ID
 * dedupe is taken only at the end, not held during the download. False when the server no
 * longer has the message; a download cut short (the connection lost, the message expunged
 * meanwhile) throws, and its transaction is rolled back.
 */
async function streamOne(sql: Sql, client: ImapFlow, ref: EmailRef, limit: number): Promise<boolean> {
  const { content } = await client.download(String(ref.uid), undefined, { uid: true, chunkSize: RAW_PIECE_BYTES });
  if (!content) return false;
  try {
    await sql.begin(async (tx) => {
      const staged = await stageRaw(tx, heartbeatingEachPiece(content));
      await storeOne(tx, ref, staged, staged.size > limit ? oversizedReason(staged.size, limit) : null);
    });
  } finally {
    // Stops imapflow's chunk loop if the store gave up before the end (it waits on this stream's backpressure).
    content.destroy();
  }
  return true;
}

/**
 * The pieces as they come, the activity heartbeating at each: a large message from a slow server
 * (25 MB at 1 MB/s) must not look like a dead worker to Temporal, or its download would be
 * retried from the start for ever and the mailbox stop.
 */
async function* heartbeatingEachPiece(pieces: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  for await (const piece of pieces) {
    heartbeat();
    yield piece;
  }
}

function heartbeat(): void {
  try {
    Context.current().heartbeat();
  } catch {
    // Not in an activity (a script or a test storing mail): nobody to tell.
  }
}

/** Whether a message of this size is downloaded and stored in pieces (alone) rather than in a group FETCH. */
const streamed = (size: number | undefined, streamAbove = STREAM_ABOVE_BYTES) => (size ?? 0) > streamAbove;

/**
 * The UIDs cut into FETCH commands of at most FETCH_GROUP_BYTES (by RFC822.SIZE), in order;
 * a message above that, above the mailbox's limit, or above STREAM_ABOVE_BYTES (it is
 * downloaded in pieces) is fetched alone.
 */
export function fetchGroups(uids: number[], sizes: Map<number, number>, limit: number, groupBytes = FETCH_GROUP_BYTES, streamAbove = STREAM_ABOVE_BYTES): number[][] {
  const groups: number[][] = [];
  let group: number[] = [];
  let bytes = 0;
  for (const uid of uids) {
    const size = sizes.get(uid) ?? 0;
    const alone = size > limit || size > groupBytes || streamed(size, streamAbove);
    if (group.length > 0 && (alone || bytes + size > groupBytes)) {
      groups.push(group);
      group = [];
      bytes = 0;
    }
    group.push(uid);
    bytes += size;
    if (alone) {
      groups.push(group);
      group = [];
      bytes = 0;
    }
  }
  if (group.length > 0) groups.push(group);
  return groups;
}

/**
 * Fetches these UIDs of the selected folder over one connection (BODY.PEEK: flags are left
 * alone) and stores each raw message before anything else happens to it. Sizes come first
 * (RFC822.SIZE), so a batch is fetched in groups of bounded bytes, a message above
 * STREAM_ABOVE_BYTES downloaded and stored in pieces, and a message above the mailbox's
 * `max_message_bytes` alone; that one is stored as received with its outcome already
 * recorded as quarantined (it is never parsed). A UID the server no longer has is
 * stored empty and recorded as quarantined, so it too has an outcome. Returns the UIDs
 * stored with their bytes.
 */
export async function fetchAndStore(
  sql: Sql,
  client: ImapFlow,
  at: { mailboxId: number; uidValidity: number },
  uids: number[],
  /** Told each UID as soon as its message is stored (before the next is fetched). */
  onMessage: (uid: number) => void = () => {},
  maxMessageBytes?: number,
): Promise<number[]> {
  const stored = new Set<number>();
  const wanted = new Set(uids);
  if (uids.length > 0 && Number(client.mailbox && client.mailbox.uidValidity) === at.uidValidity) {
    const limit = maxMessageBytes ?? (await getMaxMessageBytes(sql, at.mailboxId));
    const sizes = new Map<number, number>();
    for await (const m of client.fetch(uids.join(','), { uid: true, size: true }, { uid: true })) {
      if (wanted.has(m.uid) && typeof m.size === 'number') sizes.set(m.uid, m.size);
    }
    // A UID without a size (the server did not say) is fetched all the same: only the source fetch tells a message gone.
    for (const group of fetchGroups(uids, sizes, limit)) {
      const [only] = group;
      if (group.length === 1 && only !== undefined && streamed(sizes.get(only))) {
        if (!stored.has(only) && (await streamOne(sql, client, { ...at, uid: only }, limit))) {
          stored.add(only);
          onMessage(only);
        }
        continue;
      }
      for await (const message of client.fetch(group.join(','), { source: true }, { uid: true })) {
        if (!message.source || !wanted.has(message.uid) || stored.has(message.uid)) continue;
        const raw = message.source;
        await storeOne(sql, { ...at, uid: message.uid }, raw, raw.length > limit ? oversizedReason(raw.length, limit) : null);
        stored.add(message.uid);
        onMessage(message.uid);
      }
    }
  }
  for (const uid of uids.filter((u) => !stored.has(u))) {
    await storeReceived(sql, { ...at, uid }, Buffer.alloc(0), null, VANISHED);
  }
  return [...stored];
}
