import { createHash } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActivities } from '../../activities/index.js';
import type { Sql } from '../../db/client.js';
import { UNPROCESSABLE } from '../../contracts/failures.js';
import { appendMail, rawMail, seedConfig, testSecrets, testSql } from '../harness/fixtures.js';

let sql: Sql;
let cfg: Awaited<ReturnType<typeof seedConfig>>;
let act: ReturnType<typeof createActivities>;

beforeAll(async () => {
  sql = testSql();
  cfg = await seedConfig(sql);
  act = createActivities({ sql, secrets: testSecrets });
});
afterAll(() => sql.end());

/** Drops a message in the test folder and runs it through receive + parse, as the workflow does. */
async function received(raw: string | Buffer): Promise<number> {
  const { uid, uidValidity } = await appendMail(cfg.imap, raw);
  const r = await act.receiveEmail({ mailboxId: cfg.mailboxId, uidValidity, uid });
  return r.emailId;
}

async function parsed(raw: string | Buffer): Promise<number> {
  const emailId = await received(raw);
  await act.parseEmail(emailId);
  return emailId;
}

async function expectUnprocessable(p: Promise<unknown>, message: RegExp) {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(ApplicationFailure);
  expect((err as ApplicationFailure).type).toBe(UNPROCESSABLE);
  expect((err as ApplicationFailure).nonRetryable).toBe(true);
  expect((err as ApplicationFailure).message).toMatch(message);
}

describe('receiveEmail (real Dovecot + PostgreSQL)', () => {
  it('stores the raw message once per UID, byte for byte', async () => {
    const raw = rawMail({ subject: 'stored once' });
    const { uid, uidValidity } = await appendMail(cfg.imap, raw);
    const ref = { mailboxId: cfg.mailboxId, uidValidity, uid };
    const [a, b] = await Promise.all([act.receiveEmail(ref), act.receiveEmail(ref)]);
    expect(a.emailId).toBe(b.emailId);
    const rows = await sql<{ raw: Buffer; size: number }[]>`SELECT raw, size FROM inbound_email WHERE mailbox_id = ${cfg.mailboxId} AND uid = ${uid}`;
    expect(rows).toHaveLength(1);
    expect(rows[0]!.raw.toString()).toBe(raw);
    expect(rows[0]!.size).toBe(Buffer.byteLength(raw));
  });

  it('marks a second copy of a Message-ID as a duplicate of the first', async () => {
    const raw = rawMail({ messageId: '<same-message@test>', subject: 'twice' });
    const first = await received(raw);
    const { uid, uidValidity } = await appendMail(cfg.imap, raw);
    const second = await act.receiveEmail({ mailboxId: cfg.mailboxId, uidValidity, uid });
    expect(second.emailId).not.toBe(first);
    expect(second.duplicateOf).toBe(first);
  });

  it('records a UID that is not in the folder as quarantined', async () => {
    const { uidValidity } = await appendMail(cfg.imap, rawMail());
    const r = await act.receiveEmail({ mailboxId: cfg.mailboxId, uidValidity, uid: 999_999 });
    expect(r.settled).toEqual({ outcome: 'quarantined', reason: expect.stringMatching(/no longer in the mailbox/) });
    const [row] = await sql<{ outcome: string; outcomeReason: string }[]>`SELECT outcome, outcome_reason FROM inbound_email WHERE id = ${r.emailId}`;
    expect(row).toEqual({ outcome: 'quarantined', outcomeReason: expect.stringMatching(/no longer in the mailbox/) });
  });
});

describe('parseEmail', () => {
  it('takes the text from the HTML part when there is no text part, and stores attachments with checksums', async () => {
    const pdf = Buffer.from('%PDF-1.4 pretend');
    const raw = [
      'From: "Zé" <ze@example.com>',
      'Subject: =?UTF-8?B?Q29uZmlybWHDp8Ojbw==?=',
      'Message-ID: <html-only@test>',
      'MIME-Version: 1.0',
      'Content-Type: multipart/mixed; boundary="b1"',
      '',
      '--b1',
      'Content-Type: text/html; charset=utf-8',
      '',
      '<p>Olá, <b>tudo bem</b>?</p>',
      '--b1',
      'Content-Type: application/pdf; name="nota.pdf"',
      'Content-Disposition: attachment; filename="nota.pdf"',
      'Content-Transfer-Encoding: base64',
      '',
      pdf.toString('base64'),
      '--b1--',
      '',
    ].join('\r\n');
    const emailId = await received(raw);
    const result = await act.parseEmail(emailId);
    expect(result).toEqual({ fromAddress: 'ze@example.com', subject: 'Confirmação', attachments: 1 });
    const [email] = await sql<{ textBody: string; fromName: string }[]>`SELECT text_body, from_name FROM inbound_email WHERE id = ${emailId}`;
    expect(email!.textBody).toContain('Olá, tudo bem?');
    expect(email!.fromName).toBe('Zé');
    const [att] = await sql<{ filename: string; size: number; sha256: string }[]>`SELECT filename, size, sha256 FROM email_attachment WHERE email_id = ${emailId}`;
    expect(att).toEqual({ filename: 'nota.pdf', size: pdf.length, sha256: createHash('sha256').update(pdf).digest('hex') });
  });

  it('rejects a message without a sender as unprocessable (not retried)', async () => {
    const emailId = await received(rawMail({ from: '' }));
    await expectUnprocessable(act.parseEmail(emailId), /no sender address/);
  });

  it('rejects a sender that is not an address', async () => {
    const emailId = await received(rawMail({ from: 'Nobody <nobody at example.com>' }));
    await expectUnprocessable(act.parseEmail(emailId), /«nobody at example.com» is not a valid e-mail address/);
  });
});

describe('resolveCustomer (SPEC §4.6)', () => {
  it('uses the customer whose e-mail matches, ignoring case', async () => {
    const [known] = await sql<{ id: number }[]>`
      INSERT INTO customer (code, name, email, email_key) VALUES ('K-1', 'Known Customer', 'Known.Customer@Example.com', 'known.customer@example.com') RETURNING id`;
    const emailId = await parsed(rawMail({ from: 'KNOWN.customer@example.COM' }));
    const r = await act.resolveCustomer(emailId);
    expect(r).toEqual({ customerId: known!.id, customerEmail: 'KNOWN.customer@example.COM', created: false });
  });

  it("creates a customer named after the local part, with the mailbox's type and region", async () => {
    const emailId = await parsed(rawMail({ from: '"Antonio Carlos" <Antonio.Carlos@citrus.example>' }));
    const r = await act.resolveCustomer(emailId);
    expect(r.created).toBe(true);
    const [c] = await sql<{ name: string; code: string; email: string; regionId: number; customerTypeId: number }[]>`
      SELECT name, code, email, region_id, customer_type_id FROM customer WHERE id = ${r.customerId}`;
    expect(c).toEqual({ name: 'Antonio.Carlos', code: `C${String(r.customerId).padStart(6, '0')}`, email: 'Antonio.Carlos@citrus.example', regionId: cfg.regionId, customerTypeId: cfg.customerTypeId });
  });

  it('creates one customer when several e-mails from the same new sender are resolved at once', async () => {
    const senders = ['first.timer@burst.example', 'First.Timer@Burst.example', 'FIRST.TIMER@BURST.EXAMPLE', 'first.timer@burst.example'];
    const emailIds = await Promise.all(senders.map((from) => parsed(rawMail({ from }))));
    for (let round = 0; round < 3; round++) {
      const results = await Promise.all(emailIds.map((id) => act.resolveCustomer(id)));
      expect(new Set(results.map((r) => r.customerId)).size).toBe(1);
    }
    const rows = await sql`SELECT id FROM customer WHERE email_key = 'first.timer@burst.example'`;
    expect(rows).toHaveLength(1);
  });
});

describe('openTicketFromEmail (SPEC §4.7)', () => {
  it('opens one ticket per e-mail however often it runs, with the mailbox settings', async () => {
    const emailId = await parsed(rawMail({ from: 'ticket.once@example.com', subject: 'Once only', body: 'Please help.' }));
    const { customerId } = await act.resolveCustomer(emailId);
    const attempts = await Promise.all([1, 2, 3].map(() => act.openTicketFromEmail({ emailId, customerId })));
    expect(new Set(attempts.map((a) => a.protocol)).size).toBe(1);
    expect(attempts.filter((a) => a.created)).toHaveLength(1);
    const tickets = await sql<{ protocol: string; subject: string; description: string; sectorId: number; occurrenceId: number; creatorUserId: number; status: string; createdAt: string; slaDueAt: string }[]>`
      SELECT protocol, subject, description, sector_id, occurrence_id, creator_user_id, status, created_at, sla_due_at FROM ticket WHERE source_email_id = ${emailId}`;
    expect(tickets).toHaveLength(1);
    const t = tickets[0]!;
    expect(t.protocol).toMatch(/^\d{4}\d{6,}$/);
    expect(t).toMatchObject({ subject: 'Once only', description: 'Please help.', sectorId: cfg.sectorId, occurrenceId: cfg.occurrenceId, creatorUserId: cfg.userIds[0], status: 'open' });
    expect(Date.parse(t.slaDueAt) - Date.parse(t.createdAt)).toBe(4 * 3600_000);
    const [email] = await sql<{ outcome: string; outcomeReason: string }[]>`SELECT outcome, outcome_reason FROM inbound_email WHERE id = ${emailId}`;
    expect(email).toEqual({ outcome: 'ticket_created', outcomeReason: `ticket ${t.protocol}` });
  });

  it('gives concurrent tickets distinct protocols', async () => {
    const emailIds = await Promise.all([1, 2, 3, 4, 5].map((i) => parsed(rawMail({ from: `p${i}@protocols.example` }))));
    const protocols = await Promise.all(
      emailIds.map(async (emailId) => act.openTicketFromEmail({ emailId, customerId: (await act.resolveCustomer(emailId)).customerId })),
    );
    expect(new Set(protocols.map((p) => p.protocol)).size).toBe(5);
  });
});
