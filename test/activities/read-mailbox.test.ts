import { randomUUID } from 'node:crypto';
import { Client, Connection, WorkflowNotFoundError } from '@temporalio/client';
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createActivities } from '../../activities/index.js';
import type { MailboxRead } from '../../activities/read-mailbox.js';
import { MailboxId } from '../../contracts/search-attributes.js';
import { emailWorkflowId } from '../../contracts/workflow-ids.js';
import type { Sql } from '../../db/client.js';
import { getCursor } from '../../db/mailboxes.js';
import { appendMail, rawMail, seedConfig, testSecrets, testSql } from '../harness/fixtures.js';

// The activity runs for real against Dovecot, PostgreSQL and Temporal: it starts the e-mails'
// workflows on a task queue no worker polls, so they stay started and visible, nothing more.
let sql: Sql;
let act: ReturnType<typeof createActivities>;
let connection: Connection;
let client: Client;
const taskQueue = `read-mailbox-${randomUUID()}`;

beforeAll(async () => {
  sql = testSql();
  act = createActivities({ sql, secrets: testSecrets });
  connection = await Connection.connect({ address: inject('temporalAddress') });
  client = new Client({ connection });
});
afterAll(async () => {
  await sql.end();
  await connection.close();
});

const environment = () => new MockActivityEnvironment({ taskQueue }, { client });
const read = (mailboxId: number, maxWaitSeconds: number, env = environment(), maxBatch = 100): Promise<MailboxRead> =>
  env.run(act.readMailbox, { mailboxId, maxWaitSeconds, maxBatch }) as Promise<MailboxRead>;

async function started(mailboxId: number, uidValidity: number, uid: number): Promise<boolean> {
  try {
    const d = await client.workflow.getHandle(emailWorkflowId({ mailboxId, uidValidity, uid })).describe();
    // Found by its mailbox from the start (the Temporal UI's search), not only once it is done.
    return d.type === 'processEmail' && d.taskQueue === taskQueue && d.typedSearchAttributes.get(MailboxId) === String(mailboxId);
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return false;
    throw err;
  }
}

describe('readMailbox (the watcher: store, start each e-mail workflow, move the cursor)', () => {
  it('reads batch after batch in one call, each message stored, its workflow started, the cursor past it', async () => {
    const cfg = await seedConfig(sql);
    const refs = [];
    for (let i = 0; i < 7; i++) refs.push(await appendMail(cfg.imap, rawMail({ subject: `burst ${i}` })));
    const { uidValidity } = refs[0]!;
    // Batches of 3: three of them, without going back to the workflow in between.
    expect(await read(cfg.mailboxId, 1, environment(), 3)).toEqual({ uidValidity, read: 7, lastUid: refs[6]!.uid });
    const stored = await sql<{ uid: number; size: number; noticedAt: string | null }[]>`
      SELECT uid, size, noticed_at FROM inbound_email WHERE mailbox_id = ${cfg.mailboxId} ORDER BY uid`;
    expect(stored.map((r) => r.uid)).toEqual(refs.map((r) => r.uid));
    expect(stored.every((r) => r.size > 0 && r.noticedAt !== null)).toBe(true);
    for (const r of refs) expect(await started(cfg.mailboxId, uidValidity, r.uid)).toBe(true);
    expect(await getCursor(sql, cfg.mailboxId)).toEqual({ uidValidity, lastUid: refs[6]!.uid });
  });

  it('a second call after a crash (cursor not moved) starts nothing twice and loses nothing', async () => {
    const cfg = await seedConfig(sql);
    const ref = await appendMail(cfg.imap, rawMail());
    await read(cfg.mailboxId, 1);
    // As if the first call died after starting the workflow, before moving the cursor.
    await sql`DELETE FROM mailbox_cursor WHERE mailbox_id = ${cfg.mailboxId}`;
    const again = await read(cfg.mailboxId, 1);
    expect(again).toEqual({ uidValidity: ref.uidValidity, read: 1, lastUid: ref.uid });
    const runs = await client.workflow.count(`WorkflowId = '${emailWorkflowId({ mailboxId: cfg.mailboxId, ...ref })}'`);
    expect(runs.count).toBe(1);
    const [row] = await sql<{ n: number }[]>`SELECT count(*)::int AS n FROM inbound_email WHERE mailbox_id = ${cfg.mailboxId}`;
    expect(row!.n).toBe(1);
  });

  it('waits in IDLE, reads on the notification and records when it came', async () => {
    const cfg = await seedConfig(sql);
    const reading = read(cfg.mailboxId, 3);
    await new Promise((r) => setTimeout(r, 1000));
    const appendedAt = Date.now();
    const ref = await appendMail(cfg.imap, rawMail());
    // Woken by the server's EXISTS, then idle again until the wait ends without more mail.
    expect(await reading).toEqual({ uidValidity: ref.uidValidity, read: 1, lastUid: ref.uid });
    expect(await started(cfg.mailboxId, ref.uidValidity, ref.uid)).toBe(true);
    const [row] = await sql<{ noticedAt: string; receivedAt: string }[]>`
      SELECT noticed_at, received_at FROM inbound_email WHERE mailbox_id = ${cfg.mailboxId} AND uid = ${ref.uid}`;
    const noticed = Date.parse(row!.noticedAt);
    expect(noticed).toBeGreaterThanOrEqual(appendedAt - 50);
    expect(noticed).toBeLessThanOrEqual(Date.parse(row!.receivedAt));
  });

  it('returns what it read when nothing comes, and nothing when there was nothing', async () => {
    const cfg = await seedConfig(sql);
    expect(await read(cfg.mailboxId, 1)).toEqual({ uidValidity: expect.any(Number), read: 0, lastUid: null });
  });

  it('stops waiting when the activity is cancelled', async () => {
    const cfg = await seedConfig(sql);
    const env = environment();
    const reading = read(cfg.mailboxId, 60, env);
    await new Promise((r) => setTimeout(r, 500));
    env.cancel();
    await expect(reading).rejects.toThrow();
  });
});
