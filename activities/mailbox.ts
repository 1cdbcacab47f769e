import { Context } from '@temporalio/activity';
import type { ImapFlow } from 'imapflow';
import type { SecretBox } from '../config/secret-box.js';
import type { Sql } from '../db/client.js';
import { advanceCursor, getCursor, getMailbox, recordWatcherError, recordWatcherRound, type MailboxCursor, type MailboxRow } from '../db/mailboxes.js';
import { dueForAfterProcessing } from '../db/inbound-email-operations.js';
import { applyAfterProcessing } from './after-processing.js';
import { fetchAndStore } from './fetch-mail.js';
import { unprocessable } from './failures.js';
import { withMailboxConnection } from './imap.js';

export interface NewMail {
  uidValidity: number;
  /** Ascending UIDs above the cursor, at most `maxBatch` of them, each one stored. */
  uids: number[];
}

/** A round of reading: the new mail, and how many messages the folder held when it looked. */
export interface Round extends NewMail {
  exists: number;
}

/** How often the wait heartbeats and looks for messages due for after-processing. */
export const TICK_MS = 5_000;
/** How often the wait tells the mailbox status it is alive. */
const ALIVE_MS = 60_000;
/** imapflow's socket timeout when it does not say (its default). */
const IMAPFLOW_SOCKET_TIMEOUT_MS = 5 * 60_000;
/** The longest IDLE before it is re-issued (RFC 2177 asks for less than 29 minutes; NATs and servers drop quieter connections). */
const MAX_IDLE_MS = 4 * 60_000;

/**
 * One IDLE lasts less than the connection's socket timeout: imapflow ends it with DONE and
 * issues IDLE again, so a server that sends nothing while idling (no `* OK Still here`) never
 * lets the socket time out. Without this, IDLE lasted as long as the watcher's wait (300 s by
 * default), which is imapflow's socket timeout.
 */
export function keepIdleBelowSocketTimeout(client: ImapFlow): number {
  const socketTimeout = (client as unknown as { socketTimeout?: number }).socketTimeout || IMAPFLOW_SOCKET_TIMEOUT_MS;
  const restart = Math.max(1_000, Math.min(MAX_IDLE_MS, Math.floor(socketTimeout * 0.8)));
  if (!client.maxIdleTime || client.maxIdleTime > restart) client.maxIdleTime = restart;
  return client.maxIdleTime;
}

/**
 * UIDs above the cursor, their messages fetched and stored, then what the round saw written
 * to the mailbox status and the messages whose outcome is recorded marked or moved. A new
 * UIDVALIDITY invalidates the cursor: everything is read again, and Message-ID dedupe keeps
 * already-converted mail from becoming a second ticket.
 */
export async function readRound(
  sql: Sql,
  client: ImapFlow,
  mailbox: MailboxRow,
  cursor: MailboxCursor | undefined,
  maxBatch: number,
  ctx: Context,
  onStored: (uid: number) => void = () => {},
): Promise<Round> {
  const lock = await client.getMailboxLock(mailbox.imap.folder);
  try {
    const folder = client.mailbox;
    if (!folder) throw new Error(`folder ${mailbox.imap.folder} is not open`);
    const uidValidity = Number(folder.uidValidity);
    const last = cursor && cursor.uidValidity === uidValidity ? cursor.lastUid : 0;
    // Counted before the search: a message that arrives after it makes the folder hold more.
    const exists = folder.exists;
    const found = exists > 0 ? await client.search({ uid: `${last + 1}:*` }, { uid: true }) : [];
    // `n:*` always matches the highest UID, even when it is below n.
    const above = (found || []).filter((u) => u > last).sort((a, b) => a - b);
    const uids = above.slice(0, maxBatch);
    const stored = await fetchAndStore(sql, client, { mailboxId: mailbox.id, uidValidity }, uids, (uid) => {
      ctx.heartbeat();
      onStored(uid);
    }, mailbox.maxMessageBytes);
    await recordWatcherRound(sql, mailbox.id, {
      folder: { uidValidity, messages: folder.exists, backlog: above.length - uids.length },
      ...(stored.length > 0 ? { lastRead: { uidValidity, uid: Math.max(...stored) } } : {}),
    });
    await afterProcessing(sql, client, mailbox, uidValidity, ctx);
    return { uidValidity, uids, exists };
  } finally {
    lock.release();
  }
}

/** Marks or moves what is due; a refusal by the server is recorded in the mailbox status and tried again later, never fails the round. */
async function afterProcessing(sql: Sql, client: ImapFlow, mailbox: MailboxRow, uidValidity: number, ctx: Context): Promise<void> {
  const result = await applyAfterProcessing(sql, client, mailbox, uidValidity);
  if (result.error) {
    ctx.log.warn(`mailbox ${mailbox.id}: after-processing: ${result.error}`);
    await recordWatcherError(sql, mailbox.id, `after-processing: ${result.error}`);
  }
}

/**
 * What the wait does every TICK_MS: heartbeat, tell the mailbox status it is alive (every
 * ALIVE_MS), and mark or move the messages whose outcome is recorded meanwhile.
 */
export function idleTick(sql: Sql, client: ImapFlow, mailbox: MailboxRow, uidValidity: number, ctx: Context): () => Promise<void> {
  let aliveAt = Date.now();
  let afterProcessingFailed = false;
  return async () => {
    ctx.heartbeat();
    if (Date.now() - aliveAt >= ALIVE_MS) {
      aliveAt = Date.now();
      await recordWatcherRound(sql, mailbox.id);
    }
    if (mailbox.afterProcessing === 'leave' || afterProcessingFailed) return;
    if ((await dueForAfterProcessing(sql, mailbox.id, uidValidity, 1)).length === 0) return;
    const lock = await client.getMailboxLock(mailbox.imap.folder);
    try {
      const result = await applyAfterProcessing(sql, client, mailbox, uidValidity);
      if (result.error) {
        // Once per wait: the next round tries again.
        afterProcessingFailed = true;
        ctx.log.warn(`mailbox ${mailbox.id}: after-processing: ${result.error}`);
        await recordWatcherError(sql, mailbox.id, `after-processing: ${result.error}`);
      }
    } finally {
      lock.release();
    }
  };
}

export type Woken = 'mail' | 'timeout' | 'closed' | 'cancelled';

/**
 * IMAP IDLE on the selected folder until the first of: new mail (EXISTS grows, or the folder
 * already holds more than the `seenExists` messages of the last look), the
 * connection closing, `ms` passing, or `signal` aborting. Every TICK_MS, `tick` runs (heartbeat,
 * after-processing); its IMAP commands break IDLE, which is issued again after it.
 */
export async function untilNewMail(client: ImapFlow, ms: number, signal: AbortSignal, tick: () => Promise<void>, seenExists?: number): Promise<Woken> {
  if (signal.aborted) return 'cancelled';
  let woken: Woken | undefined;
  let wake = () => {};
  const on = (why: Woken) => () => {
    woken ??= why;
    wake();
  };
  const onExists = (e: { count: number; prevCount: number }) => {
    if (e.count > e.prevCount) on('mail')();
  };
  const onClose = on('closed');
  const onAbort = on('cancelled');
  client.on('exists', onExists);
  client.on('close', onClose);
  signal.addEventListener('abort', onAbort);
  const deadline = Date.now() + ms;
  try {
    for (;;) {
      // Mail that came after the last look but before the listener (the server said EXISTS during another command).
      if (seenExists !== undefined && (client.mailbox ? client.mailbox.exists : 0) > seenExists) on('mail')();
      if (woken) return woken;
      const left = deadline - Date.now();
      if (left <= 0) return 'timeout';
      // Returns at once when IDLE already runs; resolves when it ends (a command broke it).
      client.idle({ whenFree: true }).catch(() => {});
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(TICK_MS, left));
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      if (!woken) await tick();
    }
  } finally {
    client.off('exists', onExists);
    client.off('close', onClose);
    signal.removeEventListener('abort', onAbort);
  }
}

/**
 * The server closed the connection during the wait. Servers close idle connections (after
 * their own timeout, at a restart): the next round connects again. A server that drops every
 * connection at once is retried with backoff (this throws), not in a tight loop.
 */
export function closedWhileWaiting(mailboxId: number, waitedFrom: number, ctx: Context): void {
  const waited = Math.round((Date.now() - waitedFrom) / 1000);
  if (waited < 30) throw new Error(`the IMAP server closed the connection ${waited} s into the wait`);
  ctx.log.info(`mailbox ${mailboxId}: the IMAP server closed the connection after ${waited} s of waiting; connecting again`);
}

/** An IMAP or network error in words, with the server's answer when there is one (never a secret: imapflow's errors hold none). */
export function describe(err: unknown): string {
  const e = err as { message?: string; responseText?: string; code?: string };
  return [e.code, e.message, e.responseText].filter(Boolean).join(': ') || String(err);
}

export function createMailboxActivities(deps: { sql: Sql; secrets: SecretBox }) {
  const { sql, secrets } = deps;
  return {
    /**
     * Stores and returns the messages above the mailbox cursor, waiting up to `maxWaitSeconds`
     * for new mail (IMAP IDLE; imapflow falls back to polling on servers without it). One IMAP
     * connection per mailbox however large the burst. Heartbeats while waiting and fetching, so
     * a dead worker is noticed and another one takes over. Meanwhile it keeps the mailbox
     * status and applies after-processing to e-mails whose outcome is recorded.
     */
    async waitForMail(input: { mailboxId: number; maxWaitSeconds: number; maxBatch: number }): Promise<NewMail> {
      const mailbox = await getMailbox(sql, input.mailboxId);
      if (!mailbox) throw unprocessable(`mailbox ${input.mailboxId} does not exist`);
      const cursor = await getCursor(sql, input.mailboxId);
      const ctx = Context.current();
      try {
        // An OAuth 2.0 access token must outlive the wait (servers end a session when its token expires).
        const holdMs = (input.maxWaitSeconds + 60) * 1000;
        return await withMailboxConnection({ sql, secrets }, mailbox, async (client) => {
          keepIdleBelowSocketTimeout(client);
          const first = await readRound(sql, client, mailbox, cursor, input.maxBatch, ctx);
          if (first.uids.length > 0) return { uidValidity: first.uidValidity, uids: first.uids };

          const tick = idleTick(sql, client, mailbox, first.uidValidity, ctx);
          const waitedFrom = Date.now();
          const woken = await untilNewMail(client, input.maxWaitSeconds * 1000, ctx.cancellationSignal, tick, first.exists);
          ctx.cancellationSignal.throwIfAborted();
          if (woken === 'closed') {
            closedWhileWaiting(mailbox.id, waitedFrom, ctx);
            return { uidValidity: first.uidValidity, uids: [] };
          }
          const next = await readRound(sql, client, mailbox, cursor, input.maxBatch, ctx);
          return { uidValidity: next.uidValidity, uids: next.uids };
        }, { holdMs });
      } catch (err) {
        if (!ctx.cancellationSignal.aborted) await recordWatcherError(sql, mailbox.id, describe(err)).catch(() => {});
        throw err;
      }
    },

    async advanceMailboxCursor(input: { mailboxId: number; uidValidity: number; lastUid: number }): Promise<void> {
      await advanceCursor(sql, input.mailboxId, { uidValidity: input.uidValidity, lastUid: input.lastUid });
    },
  };
}
