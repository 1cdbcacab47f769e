import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Sql } from '../../db/client.js';
import { appendMail, rawMail, seedConfig, testSql } from '../harness/fixtures.js';
import { bigMail } from './big-mail.js';

/**
 * Memory per message on the receive side (issue 8: one 30 MB message took a worker from about
 * 600 MiB to 1.7 GiB). The watcher's round (waitForMail: IMAP FETCH from Dovecot, the message
 * stored in PostgreSQL) and then the parse run in a process of their own with a small V8 heap,
 * and each step's peak resident memory is compared with what the process had before it. A
 * large message is downloaded in pieces and stored in pieces, so receiving it holds a few
 * pieces, not the message, imapflow's copy of it and its hex text (postgres.js sends bytea as
 * hex): that cost +272–278 MiB here for this 30 MB message before (+280–340 MiB in the issue);
 * in pieces, +26–57 MiB, and not in proportion to the message (+46 MiB for 60 MB): what is left
 * is the pieces' copies waiting for the garbage collector, which V8 runs after about 64 MiB of
 * them. The whole path's peak (receive, then parse) is the parse's now (parse-memory.test.ts
 * bounds that on its own): +100–138 MiB over where the receive began, against +272–278 before.
 */
const HEAP_MIB = 128;
const RECEIVE_BUDGET_MIB = 100;
const WHOLE_PATH_BUDGET_MIB = 200;

let sql: Sql;

beforeAll(() => {
  sql = testSql();
});
afterAll(() => sql.end());

interface Step {
  baseMiB: number;
  peakMiB: number;
  ms: number;
}
interface Report {
  stored: { uid: number; emailId: number; size: number };
  receive: Step;
  parse: Step & { result: unknown };
}

/** Receives the mailbox's two messages (the first warms up) and parses them, in a child process with a small heap. */
async function receiveInChild(mailboxId: number): Promise<Report> {
  const { stdout } = await promisify(execFile)(process.execPath, [`--max-old-space-size=${HEAP_MIB}`, '--expose-gc', '--import', 'tsx', 'test/activities/receive-memory.child.ts', String(mailboxId)], {
    cwd: new URL('../..', import.meta.url).pathname,
    env: { ...process.env, DATABASE_URL: inject('databaseUrl') },
    timeout: 150_000,
  });
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as Report;
}

describe('receiving a large message in bounded memory', () => {
  it(`a 30 MB message fetched over IMAP, stored and parsed: a ${HEAP_MIB} MiB heap, resident memory growing by less than ${RECEIVE_BUDGET_MIB} MiB to receive it, ${WHOLE_PATH_BUDGET_MIB} MiB in all`, async () => {
    const cfg = await seedConfig(sql);
    // Above the default limit (25 MiB) a message is quarantined unparsed; this mailbox takes it.
    await sql`UPDATE mailbox SET max_message_bytes = ${64 * 1024 * 1024} WHERE id = ${cfg.mailboxId}`;
    const { raw, files } = bigMail(30, 3);
    await appendMail(cfg.imap, rawMail({ subject: 'warm-up' }));
    const { uid } = await appendMail(cfg.imap, raw);

    const report = await receiveInChild(cfg.mailboxId);
    const growth = (s: Step) => s.peakMiB - s.baseMiB;
    const whole = Math.max(report.receive.peakMiB, report.parse.peakMiB) - report.receive.baseMiB;
    console.log(
      `receive of a ${Math.round(raw.length / 2 ** 20)} MiB message: resident ${report.receive.baseMiB} → peak ${report.receive.peakMiB} MiB (+${growth(report.receive)}), ${report.receive.ms} ms; ` +
        `its parse: ${report.parse.baseMiB} → ${report.parse.peakMiB} MiB (+${growth(report.parse)}), ${report.parse.ms} ms; the whole path: +${whole} MiB`,
    );

    expect(report.stored).toMatchObject({ uid, size: raw.length });
    const [row] = await sql<{ md5: string; messageId: string | null; outcome: string | null }[]>`
      SELECT md5(raw) AS md5, message_id, outcome FROM inbound_email WHERE id = ${report.stored.emailId}`;
    expect(row).toEqual({ md5: createHash('md5').update(raw).digest('hex'), messageId: /^Message-ID: (.*)$/m.exec(raw.subarray(0, 4096).toString())![1]!.trim(), outcome: null });
    expect(report.parse.result).toEqual({ fromAddress: 'carla.mendes@cliente.example', subject: 'Relatórios do mês (anexos)', attachments: 3 });
    const attachments = await sql<{ filename: string; sha256: string; size: number }[]>`
      SELECT filename, sha256, size FROM email_attachment WHERE email_id = ${report.stored.emailId} ORDER BY position`;
    expect(attachments).toEqual(files);

    expect(growth(report.receive)).toBeLessThan(RECEIVE_BUDGET_MIB);
    expect(whole).toBeLessThan(WHOLE_PATH_BUDGET_MIB);
  }, 240_000);
});
