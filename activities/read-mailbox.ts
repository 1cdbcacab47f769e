import { Context } from '@temporalio/activity';
import type { SecretBox } from '../config/secret-box.js';
import { startEmailWorkflow } from '../clients/email-workflows.js';
import type { EmailRef } from '../contracts/workflow-ids.js';
import type { Sql } from '../db/client.js';
import { markNoticed } from '../db/inbound-email-operations.js';
import { advanceCursor, getCursor, getMailbox, recordWatcherError, type MailboxCursor } from '../db/mailboxes.js';
import { unprocessable } from './failures.js';
import { withMailboxConnection } from './imap.js';
import { closedWhileWaiting, describe, idleTick, keepIdleBelowSocketTimeout, readRound, untilNewMail } from './mailbox.js';

export interface MailboxRead {
  uidValidity: number | null;
  /** Messages stored and handed to their `email:` workflows by this call. */
  read: number;
  lastUid: number | null;
}

/**
 * A call that has run this long returns at its next quiet moment, when a look finds no new mail
 * (the watcher calls again at once): not in the middle of a burst, where calling again (a new
 * connection) would be a pause between two batches.
 */
const READ_FOR_MS = 5 * 60_000;
/** A call returns after this long even in the middle of a burst, so that it never nears its timeout. */
const READ_AT_MOST_MS = 8 * 60_000;

/**
 * Starts the message's `email:` workflow on this worker's task queue, its MailboxId search
 * attribute set from the start (an e-mail whose steps are retrying is found by mailbox). Its id
 * is the message's position, so a second start (a retried round) finds it started, or done,
 * and does nothing.
 */
async function startEmail(ref: EmailRef): Promise<void> {
  const ctx = Context.current();
  await startEmailWorkflow({ client: ctx.client, taskQueue: ctx.info.taskQueue, ref, summary: `E-mail UID ${ref.uid} of mailbox ${ref.mailboxId}` });
}

export function createReadMailboxActivities(deps: { sql: Sql; secrets: SecretBox }) {
  const { sql, secrets } = deps;
  return {
    /**
     * The mailbox watcher's one activity: over one IMAP connection, stores the messages above
     * the cursor, starts each one's `email:` workflow as soon as it is stored, and moves the
     * cursor once a batch's workflows all exist, while it reads the next batch (at most one batch
     * is read ahead of the cursor), without going back to the watcher's workflow in between.
     * When nothing is left it waits in IMAP IDLE and reads again on the server's notification
     * (when it came is recorded as the messages' `noticed_at`). Returns after `maxWaitSeconds`
     * without new mail, at the first quiet moment after five minutes, or after eight minutes of
     * reading without one; the watcher calls again. A crash anywhere loses nothing and starts
     * nothing twice: messages are stored before their workflow starts, the workflows' ids are
     * the messages' positions, and the cursor moves only past started ones (a batch read ahead
     * is read again).
     */
    async readMailbox(input: { mailboxId: number; maxWaitSeconds: number; maxBatch: number }): Promise<MailboxRead> {
      const mailbox = await getMailbox(sql, input.mailboxId);
      if (!mailbox) throw unprocessable(`mailbox ${input.mailboxId} does not exist`);
      const ctx = Context.current();
      let cursor: MailboxCursor | undefined = await getCursor(sql, input.mailboxId);
      const result: MailboxRead = { uidValidity: null, read: 0, lastUid: null };
      const quietAfter = Date.now() + READ_FOR_MS;
      const until = Date.now() + READ_AT_MOST_MS;
      /** Once all of a batch's workflows exist: when the watcher was told of it, and the cursor past it. */
      const settle = async (uids: number[], starts: Map<number, Promise<void>>, moved: MailboxCursor, noticedAt: Date) => {
        await Promise.all(starts.values());
        await markNoticed(sql, { mailboxId: mailbox.id, uidValidity: moved.uidValidity }, uids, noticedAt);
        await advanceCursor(sql, mailbox.id, moved);
        result.read += uids.length;
        result.lastUid = moved.lastUid;
      };
      try {
        // An OAuth 2.0 access token must outlive the call (servers end a session when its token expires).
        const holdMs = (input.maxWaitSeconds + READ_AT_MOST_MS / 1000 + 60) * 1000;
        return await withMailboxConnection({ sql, secrets }, mailbox, async (client) => {
          keepIdleBelowSocketTimeout(client);
          let noticedAt = new Date();
          // The batch read before this one, settling: its workflows starting, then the cursor moved past it.
          let settling: Promise<void> = Promise.resolve();
          for (;;) {
            const starts = new Map<number, Promise<void>>();
            const start = (uidValidity: number, uid: number) => {
              const started = startEmail({ mailboxId: mailbox.id, uidValidity, uid });
              // Awaited once the batch is stored; until then a failure must not count as unhandled.
              started.catch(() => {});
              starts.set(uid, started);
            };
            const mail = await readRound(sql, client, mailbox, cursor, input.maxBatch, ctx, (uid) => start(Number(client.mailbox && client.mailbox.uidValidity), uid));
            result.uidValidity = mail.uidValidity;
            // At most one batch behind: the one before this must have settled (or failed, which ends the call).
            await settling;
            if (mail.uids.length > 0) {
              // A message gone from the server was stored empty (quarantined) without being fetched: it gets its workflow too.
              for (const uid of mail.uids) if (!starts.has(uid)) start(mail.uidValidity, uid);
              const lastUid = Math.max(...mail.uids);
              cursor = { uidValidity: mail.uidValidity, lastUid };
              // Settles while the next batch is read, so that no pause falls between two batches.
              settling = settle(mail.uids, starts, { uidValidity: mail.uidValidity, lastUid }, noticedAt);
              settling.catch(() => {});
              if (Date.now() >= until) {
                await settling;
                return result;
              }
              noticedAt = new Date();
              continue;
            }
            if (Date.now() >= quietAfter) return result;
            const tick = idleTick(sql, client, mailbox, mail.uidValidity, ctx);
            const waitedFrom = Date.now();
            const woken = await untilNewMail(client, input.maxWaitSeconds * 1000, ctx.cancellationSignal, tick, mail.exists);
            noticedAt = new Date();
            ctx.cancellationSignal.throwIfAborted();
            if (woken === 'timeout') return result;
            if (woken === 'closed') {
              closedWhileWaiting(mailbox.id, waitedFrom, ctx);
              return result;
            }
          }
        }, { holdMs });
      } catch (err) {
        if (!ctx.cancellationSignal.aborted) await recordWatcherError(sql, mailbox.id, describe(err)).catch(() => {});
        throw err;
      }
    },
  };
}
