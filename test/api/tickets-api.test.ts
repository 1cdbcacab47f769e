import { createHash } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { createActivities } from '../../activities/index.js';
import type { Sql } from '../../db/client.js';
import { ticketDetail, ticketPage } from '../../schemas/tickets.js';
import { useTestApi, type TestApi } from '../harness/api.js';
import { appendMail, rawMail, seedConfig, testSecrets, uniqueSuffix } from '../harness/fixtures.js';

let sql: Sql;
let api: TestApi;
useTestApi((s, a) => ([sql, api] = [s, a]));
let cfg: Awaited<ReturnType<typeof seedConfig>>;
const protocols: string[] = [];
/** The ticket opened from an e-mail with an attachment whose name is hostile. */
let withFile: { protocol: string; emailId: number };
const attachment = Buffer.from('%PDF-1.4 pretend\r\n\u0000binary\u00ff');
/** résumé "final"<CR><LF>X-Evil: 1;\.txt, as RFC 2231 sends it. */
const HOSTILE_NAME = `r%C3%A9sum%C3%A9%20%22final%22%0D%0AX-Evil%3A%201%3B%5C.txt`;

function withAttachment(subject: string): string {
  return [
    `From: Filer <filer${uniqueSuffix()}@api.example>`,
    'To: support@mailtrack.test, other@mailtrack.test',
    `Subject: ${subject}`,
    'Date: Tue, 02 Jun 2026 10:00:00 +0000',
    `Message-ID: <${uniqueSuffix()}@test>`,
    'MIME-Version: 1.0',
    'Content-Type: multipart/mixed; boundary="b1"',
    '',
    '--b1',
    'Content-Type: text/plain; charset=utf-8',
    '',
    'See the file.',
    '--b1',
    'Content-Type: application/pdf',
    `Content-Disposition: attachment; filename*=UTF-8''${HOSTILE_NAME}`,
    'Content-Transfer-Encoding: base64',
    '',
    attachment.toString('base64'),
    '--b1--',
    '',
  ].join('\r\n');
}

beforeAll(async () => {
  cfg = await seedConfig(sql);
  const act = createActivities({ sql, secrets: testSecrets });
  const open = async (raw: string) => {
    const { emailId } = await act.receiveEmail({ mailboxId: cfg.mailboxId, ...(await appendMail(cfg.imap, raw)) });
    await act.parseEmail(emailId);
    const { customerId } = await act.resolveCustomer(emailId);
    return { emailId, protocol: (await act.openTicketFromEmail({ emailId, customerId })).protocol };
  };
  // Three tickets through the real activities, oldest first.
  for (const subject of ['first', 'second', 'third']) protocols.push((await open(rawMail({ subject, from: `${subject}@api.example` }))).protocol);
  withFile = await open(withAttachment('with a file'));
});

const subjects = (res: { json(): { items: { subject: string }[] } }) => res.json().items.map((t) => t.subject);

describe('GET /tickets', () => {
  it('pages newest first with a keyset cursor', async () => {
    const page1 = (await api.as('admin', `/tickets?mailboxId=${cfg.mailboxId}&limit=2`)).json();
    expect(page1.items.map((t: { subject: string }) => t.subject)).toEqual(['with a file', 'third']);
    expect(page1.nextBefore).toEqual(expect.any(Number));
    const page2 = (await api.as('admin', `/tickets?mailboxId=${cfg.mailboxId}&limit=2&before=${page1.nextBefore}`)).json();
    expect(page2.items.map((t: { subject: string }) => t.subject)).toEqual(['second', 'first']);
    expect(page2.nextBefore).toBeNull();
  });

  it('shows each ticket with its names, without its messages or history', async () => {
    const page = (await api.as('agent', `/tickets?mailboxId=${cfg.mailboxId}&limit=1`)).json();
    expect(ticketPage.parse(page)).toEqual(page);
    const [item] = page.items;
    expect(item).toEqual({
      protocol: withFile.protocol,
      status: 'open',
      subject: 'with a file',
      channel: 'email',
      customer: { id: expect.any(Number), code: expect.toBeOneOf([null, expect.any(String)]), name: expect.stringMatching(/^filer-/), email: expect.stringMatching(/@api\.example$/) },
      mailbox: { id: cfg.mailboxId, name: expect.stringMatching(/^demo-/) },
      creator: { id: cfg.userIds[0], name: 'João' },
      occurrenceType: { id: cfg.occurrenceTypeId, name: 'Question' },
      occurrence: { id: cfg.occurrenceId, name: 'General question' },
      sector: { id: cfg.sectorId, name: expect.stringMatching(/^Support-/) },
      assignee: null,
      sla: { dueAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/), state: 'on_time' },
      createdAt: expect.stringMatching(/Z$/),
      updatedAt: expect.stringMatching(/Z$/),
    });
  });

  it('filters by every field of SPEC §8', async () => {
    const [first, second] = protocols;
    const [ana, luis] = [cfg.userIds[1], cfg.userIds[2]];
    await sql`UPDATE ticket SET assignee_user_id = ${ana}, status = 'resolved', sla_state = 'breached' WHERE protocol = ${first!}`;
    await sql`UPDATE ticket SET assignee_user_id = ${luis}, status = 'waiting_customer', sla_state = 'at_risk' WHERE protocol = ${second!}`;
    const list = async (q: string) => subjects(await api.as('agent', `/tickets?mailboxId=${cfg.mailboxId}&${q}`));
    const all = ['with a file', 'third', 'second', 'first'];
    expect(await list('channel=email')).toEqual(all);
    expect(await list('channel=api')).toEqual([]);
    expect(await list(`occurrenceTypeId=${cfg.occurrenceTypeId}`)).toEqual(all);
    expect(await list(`occurrenceId=${cfg.occurrenceId}`)).toEqual(all);
    expect(await list(`occurrenceId=999999999`)).toEqual([]);
    expect(await list(`creatorUserId=${cfg.userIds[0]}`)).toEqual(all);
    expect(await list(`creatorUserId=${ana}`)).toEqual([]);
    expect(await list(`sectorId=${cfg.sectorId}`)).toEqual(all);
    expect(await list(`assigneeUserId=${ana}`)).toEqual(['first']);
    expect(await list(`assigneeUserId=${luis}&status=waiting_customer`)).toEqual(['second']);
    expect(await list(`assigneeUserId=${luis}&status=resolved`)).toEqual([]);
    expect(await list('status=open')).toEqual(['with a file', 'third']);
    expect(await list('status=open&slaState=on_time')).toEqual(['with a file', 'third']);
    expect(await list('slaState=breached')).toEqual(['first']);
    expect(await list('slaState=at_risk')).toEqual(['second']);
    // Without the mailbox, the other filters still find them (the whole database is shared by the test files).
    expect(subjects(await api.as('admin', `/tickets?assigneeUserId=${luis}`))).toEqual(['second']);
  });

  it('applies a saved filter, the parameters given overriding its values', async () => {
    const saved = await api.as('agent', {
      method: 'POST',
      url: '/ticket-filters',
      payload: { name: `Open in my mailbox${uniqueSuffix()}`, filters: { mailboxId: cfg.mailboxId, status: 'open' } },
    });
    expect(saved.statusCode, saved.body).toBe(201);
    const id = saved.json().id;
    expect(subjects(await api.as('agent', `/tickets?filterId=${id}`))).toEqual(['with a file', 'third']);
    expect(subjects(await api.as('agent', `/tickets?filterId=${id}&limit=1`))).toEqual(['with a file']);
    expect(subjects(await api.as('agent', `/tickets?filterId=${id}&status=waiting_customer`))).toEqual(['second']);
    // Another user's personal filter is not theirs to use.
    const res = await api.as('backoffice', `/tickets?filterId=${id}`);
    expect(res.statusCode).toBe(400);
    expect(res.json().errors).toEqual([{ field: 'querystring.filterId', message: `there is no ticket filter with id ${id} that you can use` }]);
  });

  it('refuses a saved filter that no longer fits the list, naming filterId', async () => {
    const [filter] = await sql<{ id: number }[]>`
      INSERT INTO ticket_filter (owner_user_id, name, filters) VALUES (${api.userIds.agent}, ${`Stale${uniqueSuffix()}`}, ${sql.json({ status: 'archived' })})
      RETURNING id`;
    const res = await api.as('agent', `/tickets?filterId=${filter!.id}`);
    expect(res.statusCode).toBe(400);
    expect(res.json().errors).toEqual([{ field: 'querystring.filterId', message: `the ticket filter ${filter!.id} no longer fits the list's filters: change it` }]);
    // It is still listed as stored, so its owner can see and change it.
    const listed = await api.as('agent', `/ticket-filters?limit=200`);
    expect(listed.statusCode).toBe(200);
    expect(listed.json().items).toContainEqual(expect.objectContaining({ id: filter!.id, filters: { status: 'archived' } }));
  });

  it('answers bad input with a problem+json naming the field', async () => {
    const res = await api.as('admin', '/tickets?limit=0&status=nonsense');
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    const body = res.json();
    expect(body.errors.map((e: { field: string }) => e.field).sort()).toEqual(['querystring.limit', 'querystring.status']);
    expect(body.detail).toMatch(/querystring\.limit/);
  });

  it('reads ids strictly', async () => {
    for (const q of ['occurrenceId=0x10', 'assigneeUserId=1e3', 'sectorId=-1', 'mailboxId=1&mailboxId=2', 'filterId=abc', 'before=1.5', 'creatorUserId=99999999999999999999']) {
      const res = await api.as('admin', `/tickets?${q}`);
      expect(res.statusCode, q).toBe(400);
      expect(res.json().errors[0].field, q).toBe(`querystring.${q.split('=')[0]}`);
    }
  });
});

describe('GET /tickets/:protocol', () => {
  it('returns the ticket with its customer, names, messages, attachments, steps, timeline and SLA', async () => {
    const res = await api.as('backoffice', `/tickets/${withFile.protocol}`);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    const ticket = res.json();
    // The document PostgreSQL builds is exactly the documented schema: nothing more, nothing less.
    expect(ticketDetail.parse(ticket)).toEqual(ticket);
    const [email] = await sql<{ receivedAt: string; fromAddress: string }[]>`SELECT received_at, from_address FROM inbound_email WHERE id = ${withFile.emailId}`;
    const [customer] = await sql<{ id: number; code: string | null; name: string; email: string }[]>`
      SELECT c.id, c.code, c.name, c.email FROM customer c JOIN ticket t ON t.customer_id = c.id WHERE t.protocol = ${withFile.protocol}`;
    const [att] = await sql<{ id: number }[]>`SELECT id FROM email_attachment WHERE email_id = ${withFile.emailId}`;
    expect(ticket).toEqual({
      protocol: withFile.protocol,
      status: 'open',
      subject: 'with a file',
      description: 'See the file.',
      followsUp: null,
      followedUpBy: [],
      channel: 'email',
      customer,
      mailbox: { id: cfg.mailboxId, name: expect.any(String) },
      creator: { id: cfg.userIds[0], name: 'João' },
      occurrenceType: { id: cfg.occurrenceTypeId, name: 'Question' },
      occurrence: { id: cfg.occurrenceId, name: 'General question' },
      sector: { id: cfg.sectorId, name: expect.any(String) },
      assignee: null,
      sla: { dueAt: expect.stringMatching(/Z$/), state: 'on_time' },
      createdAt: expect.stringMatching(/Z$/),
      updatedAt: expect.stringMatching(/Z$/),
      messages: [
        {
          id: withFile.emailId,
          from: { address: email!.fromAddress, name: 'Filer' },
          to: ['support@mailtrack.test', 'other@mailtrack.test'],
          subject: 'with a file',
          sentAt: '2026-06-02T10:00:00.000Z',
          receivedAt: email!.receivedAt,
          text: 'See the file.',
        },
      ],
      attachments: [
        {
          id: att!.id,
          emailId: withFile.emailId,
          filename: 'résumé "final"\r\nX-Evil: 1;\\.txt',
          contentType: 'application/pdf',
          size: attachment.length,
          sha256: createHash('sha256').update(attachment).digest('hex'),
          inline: false,
          url: `/tickets/${withFile.protocol}/attachments/${att!.id}`,
        },
      ],
      steps: [],
      alerts: [],
      timeline: [{ kind: 'created', actor: 'system:email', at: ticket.createdAt, data: { emailId: withFile.emailId } }],
    });
    // The SLA is the occurrence's 4 hours from opening.
    expect(Date.parse(ticket.sla.dueAt) - Date.parse(ticket.createdAt)).toBe(4 * 3_600_000);
  });

  it('says 404 with a problem+json for an unknown protocol', async () => {
    const res = await api.as('admin', '/tickets/1999000001');
    expect(res.statusCode).toBe(404);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.json()).toMatchObject({ status: 404, detail: 'There is no ticket with protocol 1999000001.' });
  });

  it('says 400 for something that is not a protocol', async () => {
    const res = await api.as('admin', '/tickets/abc');
    expect(res.statusCode).toBe(400);
    expect(res.json().detail).toMatch(/a protocol is 10 to 20 digits/);
  });
});

describe('GET /tickets/:protocol/attachments/:id', () => {
  it('downloads the bytes with a header a hostile file name cannot break', async () => {
    const { attachments } = (await api.as('agent', `/tickets/${withFile.protocol}`)).json();
    const res = await api.as('agent', attachments[0].url);
    expect(res.statusCode).toBe(200);
    expect(res.rawPayload.equals(attachment)).toBe(true);
    expect(res.headers['content-type']).toBe('application/pdf');
    expect(res.headers['content-length']).toBe(String(attachment.length));
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    const disposition = res.headers['content-disposition'] as string;
    expect(disposition).toBe(`attachment; filename="r_sum_ _final_X-Evil: 1;_.txt"; filename*=UTF-8''r%C3%A9sum%C3%A9%20%22final%22X-Evil%3A%201%3B_.txt`);
    expect(disposition).not.toMatch(/[\r\n]/);
    expect(Object.keys(res.headers)).not.toContain('x-evil');
  });

  it('says 404 for an attachment of another ticket, and for one that does not exist', async () => {
    const { attachments } = (await api.as('agent', `/tickets/${withFile.protocol}`)).json();
    const other = await api.as('agent', `/tickets/${protocols[0]}/attachments/${attachments[0].id}`);
    expect(other.statusCode).toBe(404);
    expect(other.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(other.json().detail).toBe(`Ticket ${protocols[0]} has no attachment with id ${attachments[0].id}.`);
    expect((await api.as('agent', `/tickets/${withFile.protocol}/attachments/999999999`)).statusCode).toBe(404);
  });
});

describe('the API', () => {
  it('publishes its OpenAPI document', async () => {
    const res = await api.as('admin', '/docs/json');
    expect(res.statusCode, res.body).toBe(200);
    const doc = res.json();
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/tickets', '/tickets/{protocol}', '/tickets/{protocol}/attachments/{id}', '/emails', '/health']));
  });

  it('answers a request it cannot read with a problem+json, not a 5xx', async () => {
    const res = await api.as('admin', { method: 'POST', url: '/tickets', headers: { 'content-type': 'application/json' }, payload: '{not json' });
    expect(res.statusCode).toBeLessThan(500);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  });

  it('answers a known path with the wrong method with 405 and the allowed methods', async () => {
    const res = await api.as('admin', { method: 'DELETE', url: `/tickets/${protocols[0]}` });
    expect(res.statusCode).toBe(405);
    expect(res.headers.allow).toMatch(/GET/);
    expect(res.json().detail).toMatch(/answers .*GET.*, not DELETE/);
  });

  it('answers unknown routes with a problem+json', async () => {
    const res = await api.as('admin', '/nope');
    expect(res.statusCode).toBe(404);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  });
});
