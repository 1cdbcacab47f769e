import type { ImapFlow } from 'imapflow';
import type { Sql } from '../db/client.js';
import { ACTION_OF, closeAfterProcessing, dueForAfterProcessing, markAfterProcessed } from '../db/inbound-email-operations.js';
import type { MailboxRow } from '../db/mailboxes.js';

/** Messages marked or moved per IMAP command. */
const BATCH = 500;

export interface AfterProcessingResult {
  done: number;
  /** Why the server refused (the messages stay due and are tried again later). */
  error?: string;
}

/**
 * What happens to messages on the server once their e-mail's outcome is recorded (never
 * before: only e-mails with an outcome are due): left alone, marked \Seen, or moved to the
 * mailbox's folder (created when missing). The caller holds the folder selected and locked.
 * Idempotent: a message marked or moved again, or gone already, changes nothing, and the
 * record is written after the server's answer, so a crash in between repeats the command.
 */
export async function applyAfterProcessing(sql: Sql, client: ImapFlow, mailbox: MailboxRow, uidValidity: number): Promise<AfterProcessingResult> {
  if (mailbox.afterProcessing === 'leave') return { done: await closeAfterProcessing(sql, mailbox.id, { leave: true }) };
  let done = await closeAfterProcessing(sql, mailbox.id, { exceptUidValidity: uidValidity });
  for (;;) {
    const uids = await dueForAfterProcessing(sql, mailbox.id, uidValidity, BATCH);
    if (uids.length === 0) return { done };
    const error = await act(client, mailbox, uids.join(','));
    if (error) return { done, error };
    await markAfterProcessed(sql, mailbox.id, uidValidity, uids, ACTION_OF[mailbox.afterProcessing]);
    done += uids.length;
    if (uids.length < BATCH) return { done };
  }
}

/** Runs the mailbox's action on these UIDs; the server's refusal, if any, in words. */
async function act(client: ImapFlow, mailbox: MailboxRow, range: string): Promise<string | undefined> {
  if (mailbox.afterProcessing === 'seen') {
    return (await client.messageFlagsAdd(range, ['\\Seen'], { uid: true })) ? undefined : 'the server refused to mark messages \\Seen';
  }
  const folder = mailbox.afterProcessingFolder;
  if (!folder) return 'no folder to move messages to (afterProcessingFolder)';
  if (await client.messageMove(range, folder, { uid: true })) return undefined;
  // The folder may not exist yet: create it (an existing one is no error) and try once more.
  await client.mailboxCreate(folder).catch(() => undefined);
  if (await client.messageMove(range, folder, { uid: true })) return undefined;
  return `the server refused to move messages to the folder «${folder}»`;
}
