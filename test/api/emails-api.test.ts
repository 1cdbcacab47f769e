import { createHash } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { createActivities } from '../../activities/index.js';
import type { Sql } from '../../db/client.js';
import { useTestApi, type TestApi } from '../harness/api.js';
import { appendMail, seedConfig, testSecrets, uniqueSuffix } from '../harness/fixtures.js';

let sql: Sql;
let api: TestApi;
useTestApi((s, a) => ([sql, api] = [s, a]));
let cfg: Awaited<ReturnType<typeof seedConfig>>;
let act: ReturnType<typeof createActivities>;
const image = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0xff, 0x10]);
const messageId = `<headers${uniqueSuffix()}@test>`;
/** A message whose header block has a folded field, an encoded word, raw UTF-8 and a field repeated. */
const RAW = [
  'Received: from mx.example.com (mx.example.com [192.0.2.1])',
  '\tby mail.mailtrack.test; Tue, 02 Jun 2026 10:00:00 +0000',
  'Received: from laptop (laptop [198.51.100.7]) by mx.example.com',
  'From: =?UTF-8?Q?Jos=C3=A9?= <jose@emails-api.example>',
  'To: support@mailtrack.test',
  'Subject: =?UTF-8?B?Q29uZmlybWHDp8Ojbw==?=',
  'X-Note: olá, 漢字',
  `Message-ID: ${messageId}`,
  'Date: Tue, 02 Jun 2026 09:59:00 +0000',
  'MIME-Version: 1.0',
  'Content-Type: multipart/related; boundary="b1"',
  '',
  '--b1',
  'Content-Type: text/plain; charset=utf-8',
  '',
  'Body line: not a header',
  '--b1',
  'Content-Type: image/png',
  'Content-Disposition: inline; filename="logo.png"',
  'Content-ID: <logo@test>',
  'Content-Transfer-Encoding: base64',
  '',
  image.toString('base64'),
  '--b1--',
  '',
].join('\r\n');

async function receive(raw: string, opts: { parse?: boolean } = {}): Promise<number> {
  const { emailId } = await act.receiveEmail({ mailboxId: cfg.mailboxId, ...(await appendMail(cfg.imap, raw)) });
  if (opts.parse !== false) await act.parseEmail(emailId);
  return emailId;
}

let emailId: number;

beforeAll(async () => {
  cfg = await seedConfig(sql);
  act = createActivities({ sql, secrets: testSecrets });
  emailId = await receive(RAW);
});

describe('GET /emails/:id', () => {
  it('shows the e-mail with its header fields in order, unfolded, and its attachments', async () => {
    const res = await api.as('agent', `/emails/${emailId}`);
    expect(res.statusCode).toBe(200);
    const email = res.json();
    const [att] = await sql<{ id: number }[]>`SELECT id FROM email_attachment WHERE email_id = ${emailId}`;
    expect(email).toEqual({
      id: emailId,
      mailboxId: cfg.mailboxId,
      uidValidity: expect.any(Number),
      uid: expect.any(Number),
      messageId,
      size: Buffer.byteLength(RAW),
      receivedAt: expect.stringMatching(/Z$/),
      subject: 'Confirmação',
      fromAddress: 'jose@emails-api.example',
      fromName: 'José',
      toAddresses: ['support@mailtrack.test'],
      sentAt: '2026-06-02T09:59:00.000Z',
      outcome: null,
      outcomeReason: null,
      outcomeAt: null,
      noticedAt: null,
      protocol: null,
      headers: [
        { name: 'Received', value: 'from mx.example.com (mx.example.com [192.0.2.1])\tby mail.mailtrack.test; Tue, 02 Jun 2026 10:00:00 +0000' },
        { name: 'Received', value: 'from laptop (laptop [198.51.100.7]) by mx.example.com' },
        { name: 'From', value: '=?UTF-8?Q?Jos=C3=A9?= <jose@emails-api.example>' },
        { name: 'To', value: 'support@mailtrack.test' },
        { name: 'Subject', value: '=?UTF-8?B?Q29uZmlybWHDp8Ojbw==?=' },
        { name: 'X-Note', value: 'olá, 漢字' },
        { name: 'Message-ID', value: messageId },
        { name: 'Date', value: 'Tue, 02 Jun 2026 09:59:00 +0000' },
        { name: 'MIME-Version', value: '1.0' },
        { name: 'Content-Type', value: 'multipart/related; boundary="b1"' },
      ],
      attachments: [
        {
          id: att!.id,
          emailId,
          filename: 'logo.png',
          contentType: 'image/png',
          size: image.length,
          sha256: createHash('sha256').update(image).digest('hex'),
          inline: true,
          url: `/emails/${emailId}/attachments/${att!.id}`,
        },
      ],
      triage: null,
      rawUrl: `/emails/${emailId}/raw`,
    });
  });

  it('names the ticket an e-mail opened', async () => {
    const id = await receive(RAW.replace(messageId, `<ticket${uniqueSuffix()}@test>`));
    const { customerId } = await act.resolveCustomer(id);
    const { protocol } = await act.openTicketFromEmail({ emailId: id, customerId });
    const email = (await api.as('backoffice', `/emails/${id}`)).json();
    expect(email).toMatchObject({ outcome: 'ticket_created', outcomeReason: `ticket ${protocol}`, outcomeAt: expect.stringMatching(/Z$/), protocol, triage: null });
    // The ticket lists the same attachment, downloadable from either place.
    const ticket = (await api.as('agent', `/tickets/${protocol}`)).json();
    expect(ticket.attachments.map((a: { id: number }) => a.id)).toEqual(email.attachments.map((a: { id: number }) => a.id));
  });

  it('reads the header block of a bare-LF message, and of one that is all headers', async () => {
    const bareLf = await receive(`From: lf@emails-api.example\nSubject: bare\n  folded\nMessage-ID: <lf${uniqueSuffix()}@test>\n\nX-Not-A-Header: body\n`);
    expect((await api.as('agent', `/emails/${bareLf}`)).json().headers.map((h: { name: string; value: string }) => `${h.name}=${h.value}`)).toEqual([
      'From=lf@emails-api.example',
      'Subject=bare  folded',
      expect.stringMatching(/^Message-ID=<lf-/),
    ]);
    const headersOnly = await receive(`From: only@emails-api.example\r\nSubject: no body\r\nMessage-ID: <only${uniqueSuffix()}@test>\r\n`, { parse: false });
    const email = (await api.as('agent', `/emails/${headersOnly}`)).json();
    expect(email.headers.map((h: { name: string }) => h.name)).toEqual(['From', 'Subject', 'Message-ID']);
    // Not parsed yet: the parsed fields are empty, the header fields are there.
    expect(email).toMatchObject({ subject: null, fromAddress: null, toAddresses: [], attachments: [] });
  });

  it('says 404 for an e-mail that does not exist', async () => {
    const res = await api.as('agent', '/emails/999999999');
    expect(res.statusCode).toBe(404);
    expect(res.json().detail).toBe('There is no e-mail with id 999999999.');
  });
});

describe('GET /emails/:id/raw', () => {
  it('downloads the stored bytes exactly', async () => {
    const res = await api.as('agent', `/emails/${emailId}/raw`);
    expect(res.statusCode).toBe(200);
    const [stored] = await sql<{ raw: Buffer }[]>`SELECT raw FROM inbound_email WHERE id = ${emailId}`;
    expect(res.rawPayload.equals(stored!.raw)).toBe(true);
    expect(res.rawPayload.equals(Buffer.from(RAW))).toBe(true);
    expect(res.headers['content-type']).toBe('message/rfc822');
    expect(res.headers['content-disposition']).toBe(`attachment; filename="email-${emailId}.eml"; filename*=UTF-8''email-${emailId}.eml`);
    expect(res.headers['x-content-type-options']).toBe('nosniff');
  });

  it('says 404 for an e-mail that does not exist', async () => {
    expect((await api.as('agent', '/emails/999999999/raw')).statusCode).toBe(404);
  });
});

describe('GET /emails/:id/attachments/:attachmentId', () => {
  it('downloads an attachment; one of another e-mail is a 404', async () => {
    const [att] = (await api.as('agent', `/emails/${emailId}`)).json().attachments;
    const res = await api.as('agent', att.url);
    expect(res.statusCode).toBe(200);
    expect(res.rawPayload.equals(image)).toBe(true);
    expect(res.headers['content-type']).toBe('image/png');
    expect(res.headers['content-disposition']).toBe(`attachment; filename="logo.png"; filename*=UTF-8''logo.png`);
    const other = await receive(RAW.replace(messageId, `<other${uniqueSuffix()}@test>`));
    expect((await api.as('agent', `/emails/${other}/attachments/${att.id}`)).statusCode).toBe(404);
  });
});

describe('GET /emails', () => {
  it('lists e-mails newest first, pending ones on request', async () => {
    const { items } = (await api.as('agent', `/emails?mailboxId=${cfg.mailboxId}&pending=true&limit=200`)).json();
    expect(items.map((e: { id: number }) => e.id)).toContain(emailId);
    expect(items.map((e: { id: number }) => e.id)).toEqual([...items.map((e: { id: number }) => e.id)].sort((a, b) => b - a));
    const done = (await api.as('agent', `/emails?mailboxId=${cfg.mailboxId}&pending=false&limit=200`)).json().items;
    expect(done.every((e: { outcome: string | null }) => e.outcome !== null)).toBe(true);
  });
});
