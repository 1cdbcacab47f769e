import type { Sql } from '../db/client.js';
import { recordOutcome, storeReceived } from '../db/inbound-emails.js';
import { getMailbox } from '../db/mailboxes.js';
import type { RecordedOutcome } from '../domain/email-outcome.js';
import type { EmailRef } from '../domain/workflow-ids.js';
import { unprocessable } from './failures.js';
import { withImap } from './imap.js';

export interface Received {
  emailId: number;
  duplicateOf: number | null;
  autoConvert: boolean;
  /** Set when receiving already decided the outcome (and recorded it). */
  settled: RecordedOutcome | null;
}

const VANISHED = 'the message was no longer in the mailbox (or its UIDVALIDITY changed) when it was read';

/** Message-ID from the raw header block, without a full parse (the parse may fail; this must not). */
export function headerMessageId(raw: Buffer): string | null {
  const end = raw.indexOf('\r\n\r\n');
  const head = raw.subarray(0, end === -1 ? Math.min(raw.length, 65536) : end).toString('latin1');
  const match = /^message-id:[ \t]*((?:.|\r?\n[ \t])*)/im.exec(head);
  const value = match?.[1]?.replace(/\r?\n[ \t]+/g, ' ').trim();
  return value ? value : null;
}

export function createReceiveActivities(deps: { sql: Sql }) {
  const { sql } = deps;
  return {
    /** Fetches the raw message by UID and stores it before anything else happens to it. */
    async receiveEmail(ref: EmailRef): Promise<Received> {
      const mailbox = await getMailbox(sql, ref.mailboxId);
      if (!mailbox) throw unprocessable(`mailbox ${ref.mailboxId} does not exist`);
      const raw = await withImap(mailbox.imap, async (client) => {
        const lock = await client.getMailboxLock(mailbox.imap.folder, { readOnly: true });
        try {
          if (Number(client.mailbox && client.mailbox.uidValidity) !== ref.uidValidity) return null;
          const message = await client.fetchOne(String(ref.uid), { source: true }, { uid: true });
          return message && message.source ? Buffer.from(message.source) : null;
        } finally {
          lock.release();
        }
      });
      if (!raw) {
        const stored = await storeReceived(sql, ref, Buffer.alloc(0), null);
        await recordOutcome(sql, stored.emailId, 'quarantined', VANISHED);
        return { ...stored, duplicateOf: null, autoConvert: mailbox.autoConvert, settled: { outcome: 'quarantined', reason: VANISHED } };
      }
      const stored = await storeReceived(sql, ref, raw, headerMessageId(raw));
      return { ...stored, autoConvert: mailbox.autoConvert, settled: null };
    },
  };
}
