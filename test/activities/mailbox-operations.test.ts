import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActivities } from '../../activities/index.js';
import type { NewMail } from '../../activities/mailbox.js';
import { withImap } from '../../activities/imap.js';
import type { Sql } from '../../db/client.js';
import { advanceCursor, getMailboxStatus, type ImapSettings } from '../../db/mailboxes.js';
import { appendMail, eventually, rawMail, seedConfig, testSecrets, testSql, uniqueSuffix } from '../harness/fixtures.js';

/**
 * The mailbox side of issue 8 on real Dovecot and PostgreSQL: the size limit, what happens to
 * a message on the server after its outcome, and the live status. The activity runs for real;
 * MockActivityEnvironment only supplies the activity context a worker would. Outcomes are
 * written in SQL here: the e-mail workflow is not under test.
 */
let sql: Sql;
let act: ReturnType<typeof createActivities>;

beforeAll(() => {
  sql = testSql();
  act = createActivities({ sql, secrets: testSecrets });
});
afterAll(() => sql.end());

/** One round of the watcher: waitForMail, then the cursor moved as the workflow moves it. */
async function round(mailboxId: number, maxWaitSeconds = 1, opts: { maxBatch?: number; env?: MockActivityEnvironment } = {}): Promise<NewMail> {
  const mail = (await (opts.env ?? new MockActivityEnvironment()).run(act.waitForMail, { mailboxId, maxWaitSeconds, maxBatch: opts.maxBatch ?? 100 })) as NewMail;
  if (mail.uids.length > 0) await advanceCursor(sql, mailboxId, { uidValidity: mail.uidValidity, lastUid: Math.max(...mail.uids) });
  return mail;
}

const settle = (mailboxId: number, uid: number) =>
  sql`UPDATE inbound_email SET outcome = 'ticket_created', outcome_reason = 'test', outcome_at = now() WHERE mailbox_id = ${mailboxId} AND uid = ${uid}`;

/** The UIDs in a folder with their flags, read without changing them. */
async function folderFlags(imap: ImapSettings, folder = imap.folder): Promise<Record<number, string[]>> {
  return withImap(imap, async (c) => {
    const lock = await c.getMailboxLock(folder, { readOnly: true });
    try {
      const out: Record<number, string[]> = {};
      if ((c.mailbox && c.mailbox.exists) || 0) for await (const m of c.fetch('1:*', { uid: true, flags: true }, { uid: true })) out[m.uid] = [...(m.flags ?? [])].filter((f) => f !== '\\Recent');
      return out;
    } finally {
      lock.release();
    }
  });
}

const row = async (mailboxId: number, uid: number) =>
  (await sql<{ outcome: string | null; outcomeReason: string | null; size: number; rawLength: number; postProcessing: string | null }[]>`
    SELECT outcome, outcome_reason, size, length(raw) AS raw_length, post_processing FROM inbound_email WHERE mailbox_id = ${mailboxId} AND uid = ${uid}`)[0];

describe('the size limit (maxMessageBytes)', () => {
  it('quarantines a larger message with the reason and keeps its bytes; the others of the batch go on', async () => {
    const cfg = await seedConfig(sql);
    await sql`UPDATE mailbox SET max_message_bytes = 4000 WHERE id = ${cfg.mailboxId}`;
    const small = await appendMail(cfg.imap, rawMail({ subject: 'small one' }));
    const bigRaw = rawMail({ subject: 'big one', body: 'x'.repeat(78).concat('\r\n').repeat(100) });
    const big = await appendMail(cfg.imap, bigRaw);
    const after = await appendMail(cfg.imap, rawMail({ subject: 'after the big one' }));

    expect((await round(cfg.mailboxId)).uids).toEqual([small.uid, big.uid, after.uid]);
    expect(await row(cfg.mailboxId, big.uid)).toEqual({
      outcome: 'quarantined',
      outcomeReason: expect.stringMatching(new RegExp(`^the message is ${Buffer.byteLength(bigRaw)} bytes, above this mailbox's limit of 4000 bytes \\(maxMessageBytes\\): kept as received`)),
      size: Buffer.byteLength(bigRaw),
      rawLength: Buffer.byteLength(bigRaw),
      // It has its outcome at once, so the mailbox's after-processing (here: leave it) is done with it too.
      postProcessing: 'left',
    });
    // Kept byte for byte, so it can be re-processed after the limit is raised.
    const [kept] = await sql<{ raw: Buffer }[]>`SELECT raw FROM inbound_email WHERE mailbox_id = ${cfg.mailboxId} AND uid = ${big.uid}`;
    expect(kept!.raw.toString()).toBe(bigRaw);
    for (const ok of [small, after]) expect((await row(cfg.mailboxId, ok.uid))!.outcome).toBeNull();
  });
});

describe('after processing: the message on the server once its outcome is recorded', () => {
  it('marks it \\Seen, never before the outcome', async () => {
    const cfg = await seedConfig(sql);
    await sql`UPDATE mailbox SET after_processing = 'seen' WHERE id = ${cfg.mailboxId}`;
    const a = await appendMail(cfg.imap, rawMail({ subject: 'a' }));
    const b = await appendMail(cfg.imap, rawMail({ subject: 'b' }));
    await round(cfg.mailboxId);
    // Stored, no outcome yet: the server's copies are untouched (reading uses BODY.PEEK).
    expect(await folderFlags(cfg.imap)).toEqual({ [a.uid]: [], [b.uid]: [] });

    await settle(cfg.mailboxId, a.uid);
    await round(cfg.mailboxId);
    expect(await folderFlags(cfg.imap)).toEqual({ [a.uid]: ['\\Seen'], [b.uid]: [] });
    expect((await row(cfg.mailboxId, a.uid))!.postProcessing).toBe('seen');
    expect((await row(cfg.mailboxId, b.uid))!.postProcessing).toBeNull();
    const status = await getMailboxStatus(sql, cfg.mailboxId);
    expect(status!.backlog).toEqual({ onServer: 0, unprocessed: 1, afterProcessing: 0 });
  });

  it('moves it to the folder (created when missing) while the watcher idles, and does not read it again', async () => {
    const cfg = await seedConfig(sql);
    const done = `Done${uniqueSuffix()}`;
    await sql`UPDATE mailbox SET after_processing = 'move', after_processing_folder = ${done} WHERE id = ${cfg.mailboxId}`;
    const ref = await appendMail(cfg.imap, rawMail({ subject: 'to be moved' }));
    await round(cfg.mailboxId);

    // The watcher waits in IDLE; the outcome is recorded meanwhile and applied at its next tick.
    const waiting = round(cfg.mailboxId, 12);
    await new Promise((r) => setTimeout(r, 500));
    await settle(cfg.mailboxId, ref.uid);
    await eventually(async () => (Object.keys(await folderFlags(cfg.imap)).length === 0 ? true : undefined), 10_000, 'the message to leave the folder');
    expect(Object.keys(await folderFlags(cfg.imap, done))).toHaveLength(1);
    expect((await row(cfg.mailboxId, ref.uid))!.postProcessing).toBe('moved');
    expect((await waiting).uids).toEqual([]);
    const [count] = await sql<{ n: number }[]>`SELECT count(*)::int AS n FROM inbound_email WHERE mailbox_id = ${cfg.mailboxId}`;
    expect(count!.n).toBe(1);
  }, 30_000);

  it('leaves it alone by default, and skips e-mails of a UIDVALIDITY the folder no longer has', async () => {
    const cfg = await seedConfig(sql);
    const ref = await appendMail(cfg.imap, rawMail());
    await round(cfg.mailboxId);
    await settle(cfg.mailboxId, ref.uid);
    await round(cfg.mailboxId);
    expect(await folderFlags(cfg.imap)).toEqual({ [ref.uid]: [] });
    expect((await row(cfg.mailboxId, ref.uid))!.postProcessing).toBe('left');

    await sql`UPDATE mailbox SET after_processing = 'seen' WHERE id = ${cfg.mailboxId}`;
    await sql`
      INSERT INTO inbound_email (mailbox_id, uid_validity, uid, size, raw, outcome, outcome_reason, outcome_at)
      VALUES (${cfg.mailboxId}, ${ref.uidValidity - 1}, ${ref.uid}, 1, ${Buffer.from('x')}, 'ignored', 'test', now())`;
    await round(cfg.mailboxId);
    const [old] = await sql<{ postProcessing: string }[]>`SELECT post_processing FROM inbound_email WHERE mailbox_id = ${cfg.mailboxId} AND uid_validity = ${ref.uidValidity - 1}`;
    expect(old!.postProcessing).toBe('skipped');
    // The e-mail left alone before the mailbox changed its setting stays as it was.
    expect(await folderFlags(cfg.imap)).toEqual({ [ref.uid]: [] });
  });
});

describe('the live status of a mailbox', () => {
  it('says what the watcher saw: connected, the folder, the last message read, the backlog', async () => {
    const cfg = await seedConfig(sql);
    expect(await getMailboxStatus(sql, cfg.mailboxId)).toMatchObject({ connected: false, lastSeenAt: null, lastError: null, lastMessage: null, cursor: null, folder: null, backlog: { onServer: null, unprocessed: 0, afterProcessing: 0 } });
    const refs = [];
    for (let i = 0; i < 3; i++) refs.push(await appendMail(cfg.imap, rawMail({ subject: `s${i}` })));
    await round(cfg.mailboxId, 1, { maxBatch: 2 });
    // The mailbox made by seedConfig is inactive (no watcher of its own): activate it to see `connected`.
    await sql`UPDATE mailbox SET active = true WHERE id = ${cfg.mailboxId}`;
    const status = await getMailboxStatus(sql, cfg.mailboxId);
    expect(status).toMatchObject({
      mailboxId: cfg.mailboxId,
      active: true,
      connected: true,
      connectedSince: expect.any(String),
      lastError: null,
      lastMessage: { uidValidity: refs[0]!.uidValidity, uid: refs[1]!.uid, readAt: expect.stringMatching(/Z$/) },
      cursor: { uidValidity: refs[0]!.uidValidity, lastUid: refs[1]!.uid, movedAt: expect.any(String) },
      folder: { uidValidity: refs[0]!.uidValidity, messages: 3, checkedAt: expect.any(String) },
      backlog: { onServer: 1, unprocessed: 2, afterProcessing: 0 },
    });
    await sql`UPDATE mailbox SET active = false WHERE id = ${cfg.mailboxId}`;
  });

  it('records the error of a watcher that cannot log in, and shows it disconnected', async () => {
    const cfg = await seedConfig(sql);
    await round(cfg.mailboxId);
    await sql`UPDATE mailbox SET active = true, imap_secret = ${testSecrets.seal('not the password')} WHERE id = ${cfg.mailboxId}`;
    // The worker's log of the failed attempt, one line each (the expected failure needs no stack trace here).
    const logged: string[] = [];
    const logger = new DefaultLogger('WARN', (e) => logged.push(`${e.level} ${e.message}: ${(e.meta?.error as Error | undefined)?.message}`));
    await expect(round(cfg.mailboxId, 1, { env: new MockActivityEnvironment(undefined, { logger }) })).rejects.toThrow();
    expect(logged).toEqual(['WARN Activity failed: Command failed']);
    const status = await getMailboxStatus(sql, cfg.mailboxId);
    expect(status).toMatchObject({ connected: false, lastError: { message: expect.stringMatching(/auth/i), at: expect.any(String) } });
    expect(status!.lastError!.message).not.toContain('not the password');
    await sql`UPDATE mailbox SET active = false WHERE id = ${cfg.mailboxId}`;
  });
});
