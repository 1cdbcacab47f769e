import { randomBytes, randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Email as EmailView } from '../../schemas/emails.js';
import type { TicketDetail as TicketView } from '../../schemas/tickets.js';
import { useE2E } from '../harness/e2e.js';
import { appendMail, rawMail } from '../harness/fixtures.js';

const e2e = useE2E('hostile');
const { watchedMailbox, outcomeOf } = e2e;

async function api<T>(url: string): Promise<T> {
  const { status, body } = await e2e.get<T>(url);
  expect(status).toBe(200);
  return body;
}

/** The stored row (aliased, so the same with or without a camelCase transform on the client). */
async function storedRow(ref: { mailboxId: number; uidValidity: number; uid: number }) {
  const [row] = await e2e.sql<{ id: number; raw: Buffer; messageId: string | null; subject: string | null; fromName: string | null; textBody: string | null }[]>`
    SELECT id, raw, message_id AS "messageId", subject, from_name AS "fromName", text_body AS "textBody" FROM inbound_email
     WHERE mailbox_id = ${ref.mailboxId} AND uid_validity = ${ref.uidValidity} AND uid = ${ref.uid}`;
  return row!;
}

/** A message as a mail client sends it: CRLF line endings, quoted-printable text. */
function qpMail(h: { from: string; subject: string; body: string; messageId: string }): string {
  return [
    `From: ${h.from}`,
    'To: support@mailtrack.test',
    `Subject: ${h.subject}`,
    `Date: ${new Date().toUTCString()}`,
    `Message-ID: ${h.messageId}`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=UTF-8',
    'Content-Transfer-Encoding: quoted-printable',
    '',
    h.body,
    '',
  ].join('\r\n');
}

describe('hostile mail never stops a mailbox', () => {
  it('a message with a 4 KB Message-ID becomes a ticket, and the next message is read too', async () => {
    const cfg = await watchedMailbox();
    // Random, so PostgreSQL cannot compress it below the btree's row size limit (~2.7 KB).
    const longId = `<${randomBytes(3000).toString('base64url')}@hostile.example>`;
    expect(longId.length).toBeGreaterThan(4000);
    const raw = rawMail({ subject: 'Long Message-ID', messageId: longId });
    const long = { mailboxId: cfg.mailboxId, ...(await appendMail(cfg.imap, raw)) };
    const next = { mailboxId: cfg.mailboxId, ...(await appendMail(cfg.imap, rawMail({ subject: 'After the long Message-ID' }))) };

    expect(await outcomeOf(long)).toMatchObject({ outcome: 'ticket_created' });
    expect(await outcomeOf(next)).toMatchObject({ outcome: 'ticket_created' });
    const stored = await storedRow(long);
    expect(stored.messageId).toBe(longId);
    expect(stored.raw.toString()).toBe(raw);

    // The same message delivered again is still recognised as a duplicate by its Message-ID.
    const copy = { mailboxId: cfg.mailboxId, ...(await appendMail(cfg.imap, raw)) };
    expect(await outcomeOf(copy)).toMatchObject({ outcome: 'ignored', reason: `duplicate of e-mail ${stored.id} (same Message-ID)` });
  });
});

describe('a message the database refuses for good at receipt', () => {
  it('is kept raw and quarantined with the reason, and the next message becomes a ticket', async () => {
    const cfg = await watchedMailbox();
    // Stands in for any permanent refusal (SQLSTATE 22/23/54) of one message's row; scoped to
    // this mailbox, so no other test notices it.
    const constraint = `hostile_refuse_${cfg.mailboxId}`;
    await e2e.sql.unsafe(`ALTER TABLE inbound_email ADD CONSTRAINT ${constraint}
      CHECK (mailbox_id <> ${Number(cfg.mailboxId)} OR message_id IS NULL OR message_id NOT LIKE '<refused-%') NOT VALID`);
    try {
      const raw = rawMail({ subject: 'Refused', messageId: `<refused-${randomUUID()}@hostile.example>` });
      const refused = { mailboxId: cfg.mailboxId, ...(await appendMail(cfg.imap, raw)) };
      const next = { mailboxId: cfg.mailboxId, ...(await appendMail(cfg.imap, rawMail({ subject: 'After the refused one' }))) };

      expect(await outcomeOf(refused)).toEqual({
        outcome: 'quarantined',
        reason: expect.stringMatching(new RegExp(`^the message could not be stored as received: database rejected the data \\(23514\\): .*${constraint}`)),
      });
      expect(await outcomeOf(next)).toMatchObject({ outcome: 'ticket_created' });
      const stored = await storedRow(refused);
      expect(stored.messageId).toBeNull();
      expect(stored.raw.toString()).toBe(raw);
    } finally {
      await e2e.sql.unsafe(`ALTER TABLE inbound_email DROP CONSTRAINT ${constraint}`);
    }
  });
});

describe('a NUL byte (quoted-printable =00) in the text does not quarantine the e-mail', () => {
  const suffix = randomUUID().slice(0, 8);
  const cases: { name: string; raw: string; check: (row: Awaited<ReturnType<typeof storedRow>>, ticket: TicketView) => Promise<void> | void }[] = [
    {
      name: 'in the body',
      raw: qpMail({ from: 'Body Sender <body@nul.example>', subject: `NUL body ${suffix}`, messageId: `<nul-body-${suffix}@nul.example>`, body: 'before=00after' }),
      check: (row, ticket) => {
        expect(row.textBody).toBe('beforeafter');
        expect(ticket.description).toBe('beforeafter');
      },
    },
    {
      name: 'in an RFC 2047 encoded subject',
      raw: qpMail({ from: 'Subject Sender <subject@nul.example>', subject: `=?UTF-8?Q?a=00b_${suffix}?=`, messageId: `<nul-subject-${suffix}@nul.example>`, body: 'plain' }),
      check: (row, ticket) => {
        expect(row.subject).toBe(`ab ${suffix}`);
        expect(ticket.subject).toBe(`ab ${suffix}`);
      },
    },
    {
      name: 'in the sender display name',
      raw: qpMail({ from: '=?UTF-8?Q?Jo=00e_Sender?= <joe@nul.example>', subject: `NUL name ${suffix}`, messageId: `<nul-name-${suffix}@nul.example>`, body: 'plain' }),
      check: (row) => {
        expect(row.fromName).toBe('Joe Sender');
      },
    },
    {
      name: 'in an attachment filename',
      raw: [
        'From: Attachment Sender <attach@nul.example>',
        'To: support@mailtrack.test',
        `Subject: NUL filename ${suffix}`,
        `Date: ${new Date().toUTCString()}`,
        `Message-ID: <nul-file-${suffix}@nul.example>`,
        'MIME-Version: 1.0',
        'Content-Type: multipart/mixed; boundary="----=_Part_0_1"',
        '',
        'This is a multi-part message in MIME format.',
        '------=_Part_0_1',
        'Content-Type: text/plain; charset=UTF-8',
        'Content-Transfer-Encoding: quoted-printable',
        '',
        'See the attached report.',
        '------=_Part_0_1',
        'Content-Type: text/plain; charset=UTF-8; name="=?UTF-8?Q?re=00port.txt?="',
        'Content-Transfer-Encoding: base64',
        'Content-Disposition: attachment; filename="=?UTF-8?Q?re=00port.txt?="',
        '',
        Buffer.from('report contents\n').toString('base64'),
        '------=_Part_0_1--',
        '',
      ].join('\r\n'),
      check: async (row) => {
        const files = await e2e.sql<{ filename: string | null; content: Buffer }[]>`SELECT filename, content FROM email_attachment WHERE email_id = ${row.id}`;
        expect(files).toEqual([{ filename: 'report.txt', content: Buffer.from('report contents\n') }]);
      },
    },
  ];

  it.each(cases)('$name', async ({ raw, check }) => {
    const cfg = await watchedMailbox();
    const ref = { mailboxId: cfg.mailboxId, ...(await appendMail(cfg.imap, raw)) };
    const outcome = await outcomeOf(ref);
    expect(outcome).toMatchObject({ outcome: 'ticket_created' });
    const ticket = await api<TicketView>(`/tickets/${outcome.protocol}`);
    const row = await storedRow(ref);
    // The raw message keeps every byte, the encoded NUL included.
    expect(row.raw.toString()).toBe(raw);
    expect(row.raw.includes('=00')).toBe(true);
    for (const text of [row.subject, row.fromName, row.textBody, ticket.subject, ticket.description]) expect(text).not.toContain('\u0000');
    const { items } = await api<{ items: EmailView[] }>(`/emails?mailboxId=${cfg.mailboxId}`);
    expect(items).toEqual([expect.objectContaining({ uid: ref.uid, outcome: 'ticket_created', protocol: outcome.protocol, subject: row.subject })]);
    await check(row, ticket);
  });
});
