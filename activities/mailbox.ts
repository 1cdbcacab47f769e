import { Context } from '@temporalio/activity';
import type { ImapFlow } from 'imapflow';
import type { SecretBox } from '../config/secret-box.js';
import type { Sql } from '../db/client.js';
import { advanceCursor, getCursor, getMailbox, type MailboxCursor } from '../db/mailboxes.js';
import { fetchAndStore } from './fetch-mail.js';
import { unprocessable } from './failures.js';
import { withMailboxImap } from './imap.js';

export interface NewMail {
  uidValidity: number;
  /** Ascending UIDs above the cursor, at most `maxBatch` of them, each one stored. */
  uids: number[];
}

/**
 * UIDs above the cursor, their messages fetched and stored. A new UIDVALIDITY invalidates the
 * cursor: everything is read again, and Message-ID dedupe keeps already-converted mail from
 * becoming a second ticket.
 */
async function newMail(sql: Sql, client: ImapFlow, mailboxId: number, folder: string, cursor: MailboxCursor | undefined, maxBatch: number, ctx: Context): Promise<NewMail> {
  const lock = await client.getMailboxLock(folder);
  try {
    const mailbox = client.mailbox;
    if (!mailbox) throw new Error(`folder ${folder} is not open`);
    const uidValidity = Number(mailbox.uidValidity);
    const last = cursor && cursor.uidValidity === uidValidity ? cursor.lastUid : 0;
    const found = mailbox.exists > 0 ? await client.search({ uid: `${last + 1}:*` }, { uid: true }) : [];
    // `n:*` always matches the highest UID, even when it is below n.
    const uids = (found || []).filter((u) => u > last).sort((a, b) => a - b).slice(0, maxBatch);
    await fetchAndStore(sql, client, { mailboxId, uidValidity }, uids, () => ctx.heartbeat());
    return { uidValidity, uids };
  } finally {
    lock.release();
  }
}

/**
 * IMAP IDLE on the selected folder until the first of: new mail (EXISTS), the connection
 * closing, `ms` passing, or the activity being cancelled; heartbeating meanwhile.
 */
function untilNewMail(client: ImapFlow, ms: number, ctx: Context): Promise<void> {
  return new Promise<void>((resolve) => {
    // Cancelled while connecting or fetching: 'abort' has fired already and will not again.
    if (ctx.cancellationSignal.aborted) return resolve();
    const beat = setInterval(() => ctx.heartbeat(), 5_000);
    const timer = setTimeout(done, ms);
    ctx.cancellationSignal.addEventListener('abort', done);
    client.on('exists', done);
    client.on('close', done);
    function done() {
      clearInterval(beat);
      clearTimeout(timer);
      ctx.cancellationSignal.removeEventListener('abort', done);
      client.off('exists', done);
      client.off('close', done);
      resolve();
    }
    client.idle({ whenFree: true }).catch(done);
  });
}

export function createMailboxActivities(deps: { sql: Sql; secrets: SecretBox }) {
  const { sql, secrets } = deps;
  return {
    /**
     * Stores and returns the messages above the mailbox cursor, waiting up to `maxWaitSeconds`
     * for new mail (IMAP IDLE; imapflow falls back to polling on servers without it). One IMAP
     * connection per mailbox however large the burst. Heartbeats while waiting and fetching, so
     * a dead worker is noticed and another one takes over.
     */
    async waitForMail(input: { mailboxId: number; maxWaitSeconds: number; maxBatch: number }): Promise<NewMail> {
      const mailbox = await getMailbox(sql, input.mailboxId);
      if (!mailbox) throw unprocessable(`mailbox ${input.mailboxId} does not exist`);
      const cursor = await getCursor(sql, input.mailboxId);
      const ctx = Context.current();
      return withMailboxImap(mailbox.imap, secrets, async (client) => {
        const since = () => newMail(sql, client, mailbox.id, mailbox.imap.folder, cursor, input.maxBatch, ctx);
        const first = await since();
        if (first.uids.length > 0) return first;

        await untilNewMail(client, input.maxWaitSeconds * 1000, ctx);
        ctx.cancellationSignal.throwIfAborted();
        return since();
      });
    },

    async advanceMailboxCursor(input: { mailboxId: number; uidValidity: number; lastUid: number }): Promise<void> {
      await advanceCursor(sql, input.mailboxId, { uidValidity: input.uidValidity, lastUid: input.lastUid });
    },
  };
}
