import { beforeAll, describe, expect, it } from 'vitest';
import { createActivities } from '../../activities/index.js';
import type { Sql } from '../../db/client.js';
import { convertPreTicket } from '../../db/pre-tickets.js';
import type { PreTicket } from '../../schemas/pre-tickets.js';
import { useTestApi, type TestApi } from '../harness/api.js';
import { appendMail, rawMail, seedConfig, testSecrets, uniqueSuffix } from '../harness/fixtures.js';

/**
 * Triage through the API (SPEC §4.5) on PostgreSQL and Dovecot: listing and filtering
 * pre-tickets, discarding them, and every refusal of a conversion. A conversion that succeeds
 * runs a workflow: test/e2e/triage.test.ts shows it with a worker.
 */
let sql: Sql;
let api: TestApi;
useTestApi((s, a) => ([sql, api] = [s, a]));
let cfg: Awaited<ReturnType<typeof seedConfig>>;
let act: ReturnType<typeof createActivities>;
const sfx = uniqueSuffix();
let ids: { ana: number; bruno: number; carla: number; ticketed: number };
let before: string;
let between: string;

/** An e-mail read from the mailbox and parsed, ending with `outcome` as the e-mail's workflow would record it. */
async function preTicketFrom(from: string, subject: string, outcome: 'pre_ticket' | 'ignored' = 'pre_ticket'): Promise<number> {
  const { emailId } = await act.receiveEmail({ mailboxId: cfg.mailboxId, ...(await appendMail(cfg.imap, rawMail({ from, subject, body: `Body of ${subject}` }))) });
  await act.parseEmail(emailId);
  await act.recordEmailOutcome({ emailId, outcome, reason: outcome === 'pre_ticket' ? 'automatic conversion is off for this mailbox' : 'test' });
  return emailId;
}

const list = async (query: string) => {
  const res = await api.as('agent', `/pre-tickets?mailboxId=${cfg.mailboxId}${query ? `&${query}` : ''}`);
  expect(res.statusCode, res.body).toBe(200);
  return res.json() as { items: PreTicket[]; nextBefore: number | null };
};

beforeAll(async () => {
  cfg = await seedConfig(sql, { autoConvert: false });
  act = createActivities({ sql, secrets: testSecrets });
  before = new Date(Date.now() - 1000).toISOString();
  const ana = await preTicketFrom(`Ana Souza <ana.souza${sfx}@customer.example>`, 'Order late');
  const bruno = await preTicketFrom(`bruno${sfx}@customer.example`, 'Invoice');
  await new Promise((r) => setTimeout(r, 20));
  between = new Date().toISOString();
  await new Promise((r) => setTimeout(r, 20));
  const carla = await preTicketFrom(`Carla <carla${sfx}@other.example>`, 'Password');
  const ticketed = await preTicketFrom(`dora${sfx}@customer.example`, 'Converted already');
  await preTicketFrom(`auto${sfx}@customer.example`, 'Not a pre-ticket', 'ignored');
  ids = { ana, bruno, carla, ticketed };
});

describe('GET /pre-tickets', () => {
  it('lists the pending pre-tickets of the mailbox, newest first, with what triage needs', async () => {
    const { items, nextBefore } = await list('');
    expect(items.map((p) => p.emailId)).toEqual([ids.ticketed, ids.carla, ids.bruno, ids.ana]);
    expect(nextBefore).toBeNull();
    expect(items[3]).toMatchObject({
      mailbox: { id: cfg.mailboxId },
      subject: 'Order late',
      fromAddress: `ana.souza${sfx}@customer.example`,
      fromName: 'Ana Souza',
      excerpt: 'Body of Order late',
      attachments: 0,
      reason: 'automatic conversion is off for this mailbox',
      status: 'pending',
      converted: null,
      discarded: null,
    });
    const email = (await api.as('agent', `/emails/${ids.ana}`)).json();
    expect(email).toMatchObject({ outcome: 'pre_ticket', protocol: null, triage: { status: 'pending', discardReason: null, by: null, at: null, url: `/pre-tickets/${ids.ana}` } });
  });

  it('filters by sender (address or name, any case) and by when it was received, and pages', async () => {
    expect((await list(`sender=${encodeURIComponent('OTHER.example')}`)).items.map((p) => p.emailId)).toEqual([ids.carla]);
    expect((await list('sender=souza')).items.map((p) => p.emailId)).toEqual([ids.ana]);
    expect((await list(`receivedFrom=${encodeURIComponent(between)}`)).items.map((p) => p.emailId)).toEqual([ids.ticketed, ids.carla]);
    expect((await list(`receivedFrom=${encodeURIComponent(before)}&receivedTo=${encodeURIComponent(between)}`)).items.map((p) => p.emailId)).toEqual([ids.bruno, ids.ana]);
    const first = await list('limit=3');
    expect(first.items).toHaveLength(3);
    expect(first.nextBefore).toBe(ids.bruno);
    expect((await list(`limit=3&before=${first.nextBefore}`)).items.map((p) => p.emailId)).toEqual([ids.ana]);
  });

  it('refuses bad filters with a problem naming the parameter, and BackOffice staff', async () => {
    const res = await api.as('agent', '/pre-tickets?receivedFrom=yesterday&status=open');
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(res.body).toMatch(/receivedFrom/);
    expect(res.body).toMatch(/status/);
    expect((await api.as('backoffice', '/pre-tickets')).statusCode).toBe(403);
  });

  it('is a 404 for an e-mail that is not a pre-ticket', async () => {
    const { items } = await (async () => (await api.as('admin', `/emails?mailboxId=${cfg.mailboxId}&outcome=ignored`)).json() as { items: { id: number }[] })();
    const res = await api.as('agent', `/pre-tickets/${items[0]!.id}`);
    expect(res.statusCode).toBe(404);
    expect(res.json()).toMatchObject({ status: 404, detail: expect.stringMatching(/no pre-ticket/) });
  });
});

describe('POST /pre-tickets/:emailId/discard', () => {
  it('needs a reason, keeps it with who and when, and takes a pre-ticket out of the pending ones once', async () => {
    const empty = await api.as('agent', { method: 'POST', url: `/pre-tickets/${ids.bruno}/discard`, payload: { reason: '  ' } });
    expect(empty.statusCode).toBe(400);
    expect(empty.json().errors).toEqual([expect.objectContaining({ field: expect.stringMatching(/reason/) })]);

    const res = await api.as('agent', { method: 'POST', url: `/pre-tickets/${ids.bruno}/discard`, payload: { reason: 'Spam' } });
    expect(res.statusCode, res.body).toBe(200);
    const discarded = res.json() as PreTicket;
    expect(discarded).toMatchObject({ emailId: ids.bruno, status: 'discarded', converted: null, discarded: { reason: 'Spam', by: expect.stringMatching(/^agent/) } });
    expect((await list('')).items.map((p) => p.emailId)).not.toContain(ids.bruno);
    expect((await list('status=discarded')).items.map((p) => p.emailId)).toEqual([ids.bruno]);
    const email = (await api.as('backoffice', `/emails/${ids.bruno}`)).json();
    expect(email.triage).toEqual({ status: 'discarded', discardReason: 'Spam', by: discarded.discarded!.by, at: discarded.discarded!.at, url: `/pre-tickets/${ids.bruno}` });

    const again = await api.as('admin', { method: 'POST', url: `/pre-tickets/${ids.bruno}/discard`, payload: { reason: 'Spam again' } });
    expect(again.statusCode).toBe(409);
    expect(again.json().detail).toMatch(/discarded by agent.*Spam/);
    const convert = await api.as('admin', { method: 'POST', url: `/pre-tickets/${ids.bruno}/convert`, payload: { occurrenceTypeId: cfg.occurrenceTypeId, occurrenceId: cfg.occurrenceId } });
    expect(convert.statusCode).toBe(409);
  });
});

describe('converting a pre-ticket', () => {
  it('refuses a classification that does not hold together, naming the field', async () => {
    const type = await api.as('admin', { method: 'POST', url: '/occurrence-types', payload: { name: `Other${sfx}` } });
    expect(type.statusCode, type.body).toBe(201);
    const other = await api.as('admin', { method: 'POST', url: '/occurrences', payload: { occurrenceTypeId: type.json().id, name: `Other${sfx}`, slaValue: 1, slaUnit: 'days' } });
    expect(other.statusCode, other.body).toBe(201);
    const convert = (payload: object) => api.as('agent', { method: 'POST', url: `/pre-tickets/${ids.carla}/convert`, payload });
    const cases: [object, string][] = [
      [{ occurrenceTypeId: cfg.occurrenceTypeId, occurrenceId: other.json().id }, 'body.occurrenceId'],
      [{ occurrenceTypeId: 999_999_999, occurrenceId: cfg.occurrenceId }, 'body.occurrenceTypeId'],
      [{ occurrenceTypeId: cfg.occurrenceTypeId, occurrenceId: cfg.occurrenceId, solutionId: 999_999_999 }, 'body.solutionId'],
      [{ occurrenceTypeId: cfg.occurrenceTypeId }, 'occurrenceId'],
    ];
    for (const [payload, field] of cases) {
      const res = await convert(payload);
      expect(res.statusCode, `${JSON.stringify(payload)}: ${res.body}`).toBe(400);
      expect(res.json().errors.map((e: { field: string }) => e.field).join(' ')).toContain(field);
    }
    expect((await api.as('backoffice', { method: 'POST', url: `/pre-tickets/${ids.carla}/convert`, payload: { occurrenceTypeId: cfg.occurrenceTypeId, occurrenceId: cfg.occurrenceId } })).statusCode).toBe(403);
    expect((await api.as('agent', { method: 'POST', url: '/pre-tickets/999999999/convert', payload: { occurrenceTypeId: cfg.occurrenceTypeId, occurrenceId: cfg.occurrenceId } })).statusCode).toBe(404);
    // Nothing was converted.
    expect((await api.as('agent', `/pre-tickets/${ids.carla}`)).json()).toMatchObject({ status: 'pending' });
  });

  it('converts once in the database however many conversions race, and then refuses a discard naming the ticket', async () => {
    const request = (n: number) => ({
      emailId: ids.ticketed,
      requestId: `request-${n}`,
      actor: { userId: api.userIds.agent, login: `agent-${n}`, sectorIds: [] },
      occurrenceTypeId: cfg.occurrenceTypeId,
      occurrenceId: cfg.occurrenceId,
      solutionId: null,
    });
    const results = await Promise.all([1, 2, 3, 4].map((n) => convertPreTicket(sql, request(n), new Date())));
    const protocols = new Set(results.map((r) => (r.kind === 'converted' ? r.protocol : r.kind)));
    expect(protocols.size).toBe(1);
    const winners = new Set(results.map((r) => (r.kind === 'converted' ? r.requestId : null)));
    expect(winners.size).toBe(1);
    const [protocol] = [...protocols];
    const [tickets] = await sql<{ n: number }[]>`SELECT count(*)::int AS n FROM ticket WHERE source_email_id = ${ids.ticketed}`;
    expect(tickets!.n).toBe(1);

    const shown = (await api.as('agent', `/pre-tickets/${ids.ticketed}`)).json() as PreTicket;
    expect(shown).toMatchObject({ status: 'converted', converted: { protocol, by: expect.stringMatching(/^agent-\d$/) }, discarded: null });
    const email = (await api.as('agent', `/emails/${ids.ticketed}`)).json();
    expect(email).toMatchObject({ outcome: 'pre_ticket', protocol, triage: { status: 'converted', discardReason: null, by: shown.converted!.by, at: shown.converted!.at } });
    const discard = await api.as('agent', { method: 'POST', url: `/pre-tickets/${ids.ticketed}/discard`, payload: { reason: 'Too late' } });
    expect(discard.statusCode).toBe(409);
    expect(discard.json().detail).toContain(`ticket ${protocol}`);
    const convert = await api.as('agent', { method: 'POST', url: `/pre-tickets/${ids.ticketed}/convert`, payload: { occurrenceTypeId: cfg.occurrenceTypeId, occurrenceId: cfg.occurrenceId } });
    expect(convert.statusCode).toBe(409);
    expect(convert.json().detail).toContain(`ticket ${protocol}`);
    expect((await list('status=converted')).items.map((p) => p.emailId)).toEqual([ids.ticketed]);
  });
});
