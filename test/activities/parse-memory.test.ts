import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createActivities } from '../../activities/index.js';
import type { Sql } from '../../db/client.js';
import { appendMail, seedConfig, testSecrets, testSql } from '../harness/fixtures.js';
import { bigMail } from './big-mail.js';

/**
 * Memory per message (issue 8: one 30 MB message took a worker from about 600 MiB to 1.7 GiB).
 * The parse runs in a process of its own, with a small V8 heap, and its peak resident memory is
 * compared with what it had before: the message is read from the database in pieces and its
 * attachments stored one at a time, so the parse holds about one attachment, not the message,
 * its hex text and every attachment at once.
 */
const HEAP_MIB = 128;
const GROWTH_BUDGET_MIB = 180;

let sql: Sql;
let act: ReturnType<typeof createActivities>;
let cfg: Awaited<ReturnType<typeof seedConfig>>;

beforeAll(async () => {
  sql = testSql();
  cfg = await seedConfig(sql);
  act = createActivities({ sql, secrets: testSecrets });
});
afterAll(() => sql.end());

/** Runs parseEmail on one stored e-mail in a child process with a small heap; what it cost. */
async function parseInChild(emailId: number) {
  const { stdout } = await promisify(execFile)(process.execPath, [`--max-old-space-size=${HEAP_MIB}`, '--expose-gc', '--import', 'tsx', 'test/activities/parse-memory.child.ts', String(emailId)], {
    cwd: new URL('../..', import.meta.url).pathname,
    env: { ...process.env, DATABASE_URL: inject('databaseUrl') },
    timeout: 90_000,
  });
  const report = JSON.parse(stdout.trim().split('\n').at(-1)!) as { result: unknown; baseRssMiB: number; maxRssMiB: number; ms: number };
  return { ...report, growth: report.maxRssMiB - report.baseRssMiB };
}

async function stored(raw: Buffer | string): Promise<number> {
  const { uid, uidValidity } = await appendMail(cfg.imap, raw);
  return (await act.receiveEmail({ mailboxId: cfg.mailboxId, uidValidity, uid })).emailId;
}

const textOf = async (emailId: number) => (await sql<{ textBody: string }[]>`SELECT text_body FROM inbound_email WHERE id = ${emailId}`)[0]!.textBody;

describe('parseEmail in bounded memory', () => {
  it(`a 30 MB message with attachments: a ${HEAP_MIB} MiB heap, resident memory growing by less than ${GROWTH_BUDGET_MIB} MiB`, async () => {
    const { raw, files } = bigMail(30, 3);
    const emailId = await stored(raw);
    const report = await parseInChild(emailId);
    console.log(`parse of a ${Math.round(raw.length / 2 ** 20)} MiB message: resident ${report.baseRssMiB} → peak ${report.maxRssMiB} MiB (+${report.growth}), ${report.ms} ms`);

    expect(report.result).toEqual({ fromAddress: 'carla.mendes@cliente.example', subject: 'Relatórios do mês (anexos)', attachments: 3 });
    expect(report.growth).toBeLessThan(GROWTH_BUDGET_MIB);
    const attachments = await sql<{ filename: string; sha256: string; size: number }[]>`
      SELECT filename, sha256, size FROM email_attachment WHERE email_id = ${emailId} ORDER BY position`;
    expect(attachments).toEqual(files);
    expect(await textOf(emailId)).toBe('Seguem os relatórios do mês.');
  }, 180_000);

  const hostile = (subject: string, contentType: string, body: string) =>
    ['From: Hostile <hostile@example.com>', 'To: suporte@mailtrack.test', `Subject: ${subject}`, 'MIME-Version: 1.0', `Content-Type: ${contentType}`, '', body, ''].join('\r\n');
  const links = Array.from({ length: 5000 }, (_, i) => `<a href="https://example.com/track/${i}?utm_source=mail&amp;id=${i}">offer ${i}</a>`).join('<br>\r\n');
  const nested = (depth: number) => `${'<div><span>'.repeat(depth / 2)}the end${'</span></div>'.repeat(depth / 2)}`;
  it.each([
    { name: 'an HTML body with 5,000 links', raw: hostile('links', 'text/html; charset=utf-8', `<html><body>${links}</body></html>`), expected: (t: string) => expect(t).toContain('offer 4999 [https://example.com/track/4999?utm_source=mail&id=4999]') },
    { name: 'an HTML body nested 200 deep', raw: hostile('deep', 'text/html', nested(200)), expected: (t: string) => expect(t).toBe('the end') },
    { name: 'an HTML body nested 100,000 deep', raw: hostile('deeper', 'text/html', nested(100_000)), expected: (t: string) => expect(t).toBe('the end') },
  ])(`$name: a ${HEAP_MIB} MiB heap, resident memory growing by less than ${GROWTH_BUDGET_MIB} MiB`, async ({ name, raw, expected }) => {
    const emailId = await stored(raw);
    const report = await parseInChild(emailId);
    console.log(`parse of ${name}: resident ${report.baseRssMiB} → peak ${report.maxRssMiB} MiB (+${report.growth}), ${report.ms} ms`);
    expect(report.result).toMatchObject({ fromAddress: 'hostile@example.com', attachments: 0 });
    expect(report.growth).toBeLessThan(GROWTH_BUDGET_MIB);
    expected(await textOf(emailId));
  }, 120_000);
});
