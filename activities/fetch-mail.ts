import type { ImapFlow } from 'imapflow';
import type { Sql } from '../db/client.js';
import { recordOutcome, storeReceived } from '../db/inbound-emails.js';

const VANISHED = 'the message was no longer in the mailbox (or its UIDVALIDITY changed) when it was read';

/** Message-ID from the raw header block, without a full parse (the parse may fail; this must not). */
export function headerMessageId(raw: Buffer): string | null {
  const end = raw.indexOf('\r\n\r\n');
  const head = raw.subarray(0, end === -1 ? Math.min(raw.length, 65536) : end).toString('latin1');
  const match = /^message-id:[ \t]*((?:.|\r?\n[ \t])*)/im.exec(head);
  const value = match?.[1]?.replace(/\r?\n[ \t]+/g, ' ').trim();
  return value ? value : null;
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
      const raw = Buffer.from(message.source);
      await storeReceived(sql, { ...at, uid: message.uid }, raw, headerMessageId(raw));
      stored.add(message.uid);
      onMessage();
    }
  }
  for (const uid of uids.filter((u) => !stored.has(u))) {
    const { emailId } = await storeReceived(sql, { ...at, uid }, Buffer.alloc(0), null);
    await recordOutcome(sql, emailId, 'quarantined', VANISHED);
  }
}
