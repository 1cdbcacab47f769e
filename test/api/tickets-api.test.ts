import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActivities } from '../../activities/index.js';
import type { Sql } from '../../db/client.js';
import { testApi, type TestApi } from '../harness/api.js';
import { appendMail, rawMail, seedConfig, testSql } from '../harness/fixtures.js';

let sql: Sql;
let api: TestApi;
let mailboxId: number;
const protocols: string[] = [];

beforeAll(async () => {
  sql = testSql();
  api = await testApi(sql);
  const cfg = await seedConfig(sql);
  mailboxId = cfg.mailboxId;
  const act = createActivities({ sql });
  // Three tickets through the real activities, oldest first.
  for (const subject of ['first', 'second', 'third']) {
    const ref = { mailboxId, ...(await appendMail(cfg.imap, rawMail({ subject, from: `${subject}@api.example` }))) };
    const { emailId } = await act.receiveEmail(ref);
    await act.parseEmail(emailId);
    const { customerId } = await act.resolveCustomer(emailId);
    protocols.push((await act.openTicketFromEmail({ emailId, customerId })).protocol);
  }
});
afterAll(async () => {
  await api.close();
  await sql.end();
});

describe('GET /tickets', () => {
  it('pages newest first with a keyset cursor', async () => {
    const page1 = (await api.as('admin', `/tickets?mailboxId=${mailboxId}&limit=2`)).json();
    expect(page1.items.map((t: { subject: string }) => t.subject)).toEqual(['third', 'second']);
    expect(page1.nextBefore).toEqual(expect.any(Number));
    const page2 = (await api.as('admin', `/tickets?mailboxId=${mailboxId}&limit=2&before=${page1.nextBefore}`)).json();
    expect(page2.items.map((t: { subject: string }) => t.subject)).toEqual(['first']);
    expect(page2.nextBefore).toBeNull();
  });

  it('filters by status and SLA state', async () => {
    const open = (await api.as('admin', `/tickets?mailboxId=${mailboxId}&status=open&slaState=on_time`)).json();
    expect(open.items).toHaveLength(3);
    const resolved = (await api.as('admin', `/tickets?mailboxId=${mailboxId}&status=resolved`)).json();
    expect(resolved.items).toHaveLength(0);
    const breached = (await api.as('admin', `/tickets?mailboxId=${mailboxId}&slaState=breached`)).json();
    expect(breached.items).toHaveLength(0);
  });

  it('answers bad input with a problem+json naming the field', async () => {
    const res = await api.as('admin', '/tickets?limit=0&status=nonsense');
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    const body = res.json();
    expect(body.errors.map((e: { field: string }) => e.field).sort()).toEqual(['querystring.limit', 'querystring.status']);
    expect(body.detail).toMatch(/querystring\.limit/);
  });
});

describe('GET /tickets/:protocol', () => {
  it('returns the ticket', async () => {
    const res = await api.as('admin', `/tickets/${protocols[0]}`);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ protocol: protocols[0], subject: 'first', customer: { name: 'first', email: 'first@api.example' } });
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
    expect(res.json().detail).toMatch(/a protocol is 10 or more digits/);
  });
});

describe('the API', () => {
  it('publishes its OpenAPI document', async () => {
    const doc = (await api.as('admin', '/docs/json')).json();
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/tickets', '/tickets/{protocol}', '/emails', '/health']));
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
