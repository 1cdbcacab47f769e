import type { ImapFlow } from 'imapflow';
import type { Sql } from '../db/client.js';
import { storeReceived } from '../db/inbound-emails.js';
import type { EmailRef } from '../contracts/workflow-ids.js';
import { ownMessageId } from '../domain/mail-headers.js';
import { storableOrNull } from '../domain/storable-text.js';
import { permanentDatabaseError } from './failures.js';

const VANISHED = 'the message was no longer in the mailbox (or its UIDVALIDITY changed) when it was read';

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
async function storeOne(sql: Sql, ref: EmailRef, raw: Buffer): Promise<void> {
  let refused: string | null = null;
  for (const [body, messageId] of [[raw, headerMessageId(raw)], [raw, null], [Buffer.alloc(0), null]] as const) {
    try {
      const reason = refused && `the message could not be stored as received: ${refused}`;
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
 * Fetches these UIDs of the selected folder over one connection, one message at a time
 * (BODY.PEEK: flags are left alone), and stores each raw message before anything else
 * happens to it. A UID the server no longer has is stored empty and recorded as quarantined,
 * so it too has an outcome.
 */
export async function fetchAndStore(
  sql: Sql,
  client: ImapFlow,
  at: { mailboxId: number; uidValidity: number },
  uids: number[],
  onMessage: () => void = () => {},
): Promise<void> {
  const stored = new Set<number>();
  if (uids.length > 0 && Number(client.mailbox && client.mailbox.uidValidity) === at.uidValidity) {
    for await (const message of client.fetch(uids.join(','), { source: true }, { uid: true })) {
      if (!message.source || !uids.includes(message.uid)) continue;
      await storeOne(sql, { ...at, uid: message.uid }, Buffer.from(message.source));
      stored.add(message.uid);
      onMessage();
    }
  }
  for (const uid of uids.filter((u) => !stored.has(u))) {
    await storeReceived(sql, { ...at, uid }, Buffer.alloc(0), null, VANISHED);
  }
}
