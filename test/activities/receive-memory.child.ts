/**
 * Receives the mail of one mailbox as the watcher does (waitForMail: IMAP FETCH, then the
 * message stored in PostgreSQL) and parses what it stored, in a process of its own, and prints
 * what each step cost, as JSON:
 *   node --max-old-space-size=<MiB> --expose-gc --import tsx test/activities/receive-memory.child.ts <mailboxId>
 * with DATABASE_URL set. The mailbox holds a small message (the warm-up: modules' lazy tables,
 * compiled code, the first connections) and then the message measured. Each step's `peakMiB` is
 * the process's peak resident memory during that step (VmHWM, reset before it through
 * /proc/self/clear_refs), `baseMiB` its resident memory when the step began.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createActivities } from '../../activities/index.js';
import type { NewMail } from '../../activities/mailbox.js';
import { createSql } from '../../db/client.js';
import { advanceCursor } from '../../db/mailboxes.js';
import { testSecrets } from '../harness/secrets.js';

const mib = (bytes: number) => Math.round(bytes / 1024 / 1024);
const peakRss = () => Number(/^VmHWM:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? 0) * 1024;

/** Runs `step` and what it cost: resident memory before (after a full GC) and at its peak. */
async function measured<T>(step: () => Promise<T>): Promise<{ value: T; baseMiB: number; peakMiB: number; ms: number }> {
  // What the previous step left behind is collected and handed back to the system first (the allocator returns it in the background).
  globalThis.gc?.();
  await new Promise((r) => setTimeout(r, 200));
  globalThis.gc?.();
  const base = process.memoryUsage.rss();
  // Writing 5 to clear_refs starts the peak (VmHWM) afresh at the current resident size (Linux ≥ 4.0);
  // without it the peak is the process's, which can only make a step look costlier.
  try {
    writeFileSync('/proc/self/clear_refs', '5');
  } catch {
    // an older kernel
  }
  const started = Date.now();
  const value = await step();
  return { value, baseMiB: mib(base), peakMiB: mib(Math.max(peakRss(), process.memoryUsage.rss())), ms: Date.now() - started };
}

const mailboxId = Number(process.argv[2]);
const sql = createSql(process.env.DATABASE_URL!, { max: 4 });
const act = createActivities({ sql, secrets: testSecrets });
const env = new MockActivityEnvironment();
const receive = async (): Promise<{ uid: number; emailId: number; size: number }> => {
  const got = (await env.run(act.waitForMail, { mailboxId, maxWaitSeconds: 10, maxBatch: 1 })) as NewMail;
  const uid = got.uids[0];
  if (uid === undefined) throw new Error(`mailbox ${mailboxId} had no message to receive`);
  await advanceCursor(sql, mailboxId, { uidValidity: got.uidValidity, lastUid: uid });
  const [row] = await sql<{ id: number; size: number }[]>`
    SELECT id, size FROM inbound_email WHERE mailbox_id = ${mailboxId} AND uid_validity = ${got.uidValidity} AND uid = ${uid}`;
  if (!row) throw new Error(`UID ${uid} was not stored`);
  return { uid, emailId: row.id, size: row.size };
};

const warm = await receive();
await act.parseEmail(warm.emailId);

const received = await measured(receive);
const parsed = await measured(() => act.parseEmail(received.value.emailId));
await sql.end();
console.log(
  JSON.stringify({
    stored: received.value,
    receive: { baseMiB: received.baseMiB, peakMiB: received.peakMiB, ms: received.ms },
    parse: { baseMiB: parsed.baseMiB, peakMiB: parsed.peakMiB, ms: parsed.ms, result: parsed.value },
    heapMiB: mib(process.memoryUsage().heapUsed),
  }),
);
