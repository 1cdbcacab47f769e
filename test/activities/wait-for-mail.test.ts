import { MockActivityEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActivities } from '../../activities/index.js';
import type { NewMail } from '../../activities/mailbox.js';
import type { Sql } from '../../db/client.js';
import { advanceCursor } from '../../db/mailboxes.js';
import { appendMail, rawMail, seedConfig, testSecrets, testSql } from '../harness/fixtures.js';

// The activity runs for real against Dovecot and PostgreSQL; MockActivityEnvironment only
// supplies the activity context (heartbeats, cancellation) a worker would.
let sql: Sql;
let act: ReturnType<typeof createActivities>;

beforeAll(() => {
  sql = testSql();
  act = createActivities({ sql, secrets: testSecrets });
});
afterAll(() => sql.end());

const run = (mailboxId: number, maxWaitSeconds: number, env = new MockActivityEnvironment(), maxBatch = 100): Promise<NewMail> =>
  env.run(act.waitForMail, { mailboxId, maxWaitSeconds, maxBatch }) as Promise<NewMail>;

describe('waitForMail (IMAP IDLE on Dovecot)', () => {
  it('stores a whole batch over its one connection', async () => {
    const cfg = await seedConfig(sql);
    for (let i = 0; i < 30; i++) await appendMail(cfg.imap, rawMail({ subject: `burst ${i}` }));
    expect((await run(cfg.mailboxId, 30)).uids).toHaveLength(30);
    const [row] = await sql<{ n: number }[]>`SELECT count(*)::int AS n FROM inbound_email WHERE mailbox_id = ${cfg.mailboxId} AND size > 0`;
    expect(row!.n).toBe(30);
  });


  it('returns the UIDs above the cursor at once, in order, a batch at a time', async () => {
    const cfg = await seedConfig(sql);
    const refs = [];
    for (let i = 0; i < 3; i++) refs.push(await appendMail(cfg.imap, rawMail()));
    expect(await run(cfg.mailboxId, 30)).toEqual({ uidValidity: refs[0]!.uidValidity, uids: refs.map((r) => r.uid) });
    // Each message is stored before its UID is handed on.
    const stored = await sql<{ uid: number; size: number }[]>`SELECT uid, size FROM inbound_email WHERE mailbox_id = ${cfg.mailboxId} ORDER BY uid`;
    expect(stored.map((r) => r.uid)).toEqual(refs.map((r) => r.uid));
    expect(stored.every((r) => r.size > 0)).toBe(true);

    await advanceCursor(sql, cfg.mailboxId, { uidValidity: refs[0]!.uidValidity, lastUid: refs[1]!.uid });
    expect((await run(cfg.mailboxId, 30)).uids).toEqual([refs[2]!.uid]);
    // The cursor never moves back; without one, a batch is the oldest `maxBatch` UIDs.
    await advanceCursor(sql, cfg.mailboxId, { uidValidity: refs[0]!.uidValidity, lastUid: 0 });
    expect((await run(cfg.mailboxId, 30)).uids).toEqual([refs[2]!.uid]);
    await sql`DELETE FROM mailbox_cursor WHERE mailbox_id = ${cfg.mailboxId}`;
    expect((await run(cfg.mailboxId, 30, undefined, 2)).uids).toEqual([refs[0]!.uid, refs[1]!.uid]);
  });

  it('reads everything again when the cursor belongs to another UIDVALIDITY', async () => {
    const cfg = await seedConfig(sql);
    const ref = await appendMail(cfg.imap, rawMail());
    await advanceCursor(sql, cfg.mailboxId, { uidValidity: ref.uidValidity - 1, lastUid: 1000 });
    expect((await run(cfg.mailboxId, 30)).uids).toEqual([ref.uid]);
  });

  it('waits in IDLE and wakes up as soon as a message arrives', async () => {
    const cfg = await seedConfig(sql);
    const started = Date.now();
    const waiting = run(cfg.mailboxId, 60);
    await new Promise((r) => setTimeout(r, 1000));
    const ref = await appendMail(cfg.imap, rawMail());
    expect(await waiting).toEqual({ uidValidity: ref.uidValidity, uids: [ref.uid] });
    // Woken by the server's EXISTS, not by the 60 s fallback.
    expect(Date.now() - started).toBeLessThan(15_000);
  });

  it('returns nothing after the wait when no mail comes', async () => {
    const cfg = await seedConfig(sql);
    expect((await run(cfg.mailboxId, 1)).uids).toEqual([]);
  });

  it('does not start waiting when it was cancelled while connecting', async () => {
    const cfg = await seedConfig(sql);
    const env = new MockActivityEnvironment();
    const started = Date.now();
    const waiting = run(cfg.mailboxId, 60, env);
    env.cancel();
    await expect(waiting).rejects.toThrow();
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('stops waiting when the activity is cancelled', async () => {
    const cfg = await seedConfig(sql);
    const env = new MockActivityEnvironment();
    const waiting = run(cfg.mailboxId, 60, env);
    await new Promise((r) => setTimeout(r, 500));
    env.cancel();
    await expect(waiting).rejects.toThrow();
  });
});
