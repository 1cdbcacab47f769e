import { beforeAll, describe, expect, it } from 'vitest';
import type { Sql } from '../../db/client.js';
import { formatProtocol } from '../../domain/protocol.js';
import type { TicketStatus } from '../../domain/ticket-status.js';
import { useTestApi, type TestApi } from '../harness/api.js';
import { uniqueSuffix } from '../harness/fixtures.js';
import { checkCase, hostileBodies } from '../harness/hostile-bodies.js';

/**
 * The ticket action routes up to the point where they ask the ticket's workflow: what they
 * refuse on their own (no such ticket, an ended ticket, a body that does not fit, a name that
 * does not exist, a role that may not) never reaches Temporal: no worker listens on this API's
 * task queue, so a request that did reach it would hang until its deadline, not answer.
 * test/e2e/ticket-actions.test.ts drives the workflow itself.
 */
let sql: Sql;
let api: TestApi;
useTestApi((s, a) => ([sql, api] = [s, a]));
const sfx = uniqueSuffix();
let sectorId: number;
let open: string;
let closed: string;
let cancelled: string;
let inactiveUserId: number;
let occurrenceId: number;

/** A ticket written straight into the database, in the given status. */
async function ticket(sql: Sql, status: TicketStatus, subject: string, sector: number): Promise<string> {
  const [seq] = await sql<{ n: number }[]>`SELECT nextval('protocol_sequence') AS n`;
  const protocol = formatProtocol(2099, seq!.n);
  const [customer] = await sql<{ id: number }[]>`INSERT INTO customer (name) VALUES (${`Customer ${subject}`}) RETURNING id`;
  await sql`
    INSERT INTO ticket (protocol, status, subject, description, customer_id, channel, sector_id)
    VALUES (${protocol}, ${status}, ${subject}, 'a test ticket', ${customer!.id}, 'api', ${sector})`;
  return protocol;
}

beforeAll(async () => {
  sectorId = (await sql<{ id: number }[]>`INSERT INTO sector (name) VALUES (${`Actions${sfx}`}) RETURNING id`)[0]!.id;
  [open, closed, cancelled] = await Promise.all([ticket(sql, 'open', `open${sfx}`, sectorId), ticket(sql, 'closed', `closed${sfx}`, sectorId), ticket(sql, 'cancelled', `cancelled${sfx}`, sectorId)]);
  const [type] = await sql<{ id: number }[]>`INSERT INTO occurrence_type (name) VALUES (${`Type${sfx}`}) RETURNING id`;
  occurrenceId = (await sql<{ id: number }[]>`
    INSERT INTO occurrence (occurrence_type_id, name, sla_value, sla_unit) VALUES (${type!.id}, ${`Occurrence${sfx}`}, 4, 'hours') RETURNING id`)[0]!.id;
  inactiveUserId = (await sql<{ id: number }[]>`INSERT INTO app_user (login, name, role, active) VALUES (${`gone${sfx}`}, 'Gone', 'agent', false) RETURNING id`)[0]!.id;
});

type Who = Parameters<TestApi['as']>[0];
const post = (who: Who, url: string, payload: object) => api.as(who, { method: 'POST', url, payload });
const patch = (who: Who, url: string, payload: object) => api.as(who, { method: 'PATCH', url, payload });
const fields = (res: { json(): { errors?: { field: string }[] } }) => res.json().errors?.map((e) => e.field);

/** Every ticket action of agents and admins, with a body that passes validation. */
const ACTIONS = (protocol: string) =>
  [
    ['POST', `/tickets/${protocol}/status`, { status: 'resolved', note: 'done' }],
    ['POST', `/tickets/${protocol}/assignee`, { userId: 1 }],
    ['PATCH', `/tickets/${protocol}`, { sectorId: 1 }],
  ] as const;

describe('ticket actions before the workflow', () => {
  it('answers 404 for a ticket that does not exist', async () => {
    for (const [method, url, payload] of ACTIONS('2099999999999')) {
      const res = await api.as('agent', { method, url, payload });
      expect(res.statusCode, `${method} ${url}`).toBe(404);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.json().detail).toBe('There is no ticket with protocol 2099999999999.');
    }
  });

  it('refuses any change to a closed or cancelled ticket at once, saying why, and changes nothing', async () => {
    for (const [protocol, status] of [[closed, 'closed'], [cancelled, 'cancelled']] as const) {
      for (const [method, url, payload] of ACTIONS(protocol)) {
        const started = Date.now();
        const res = await api.as('admin', { method, url, payload });
        expect(res.statusCode, `${method} ${url}`).toBe(409);
        expect(res.json().detail).toBe(`Ticket ${protocol} is ${status}; nothing can change it. A new e-mail from the customer opens a new ticket.`);
        expect(Date.now() - started).toBeLessThan(2_000);
      }
      const after = (await api.as('agent', `/tickets/${protocol}`)).json();
      expect([after.status, after.timeline]).toEqual([status, []]);
    }
  });

  it('refuses a status that does not exist, a long note and an unknown field, naming each', async () => {
    const bad = await post('agent', `/tickets/${open}/status`, { status: 'done' });
    expect([bad.statusCode, fields(bad)]).toEqual([400, ['body.status']]);
    expect(bad.json().detail).toMatch(/open.*waiting_customer.*resolved.*closed.*cancelled/);
    const missing = await post('agent', `/tickets/${open}/status`, {});
    expect([missing.statusCode, missing.json().errors]).toEqual([400, [{ field: 'body.status', message: 'is required' }]]);
    const long = await post('agent', `/tickets/${open}/status`, { status: 'resolved', note: 'x'.repeat(2001) });
    expect([long.statusCode, fields(long)]).toEqual([400, ['body.note']]);
    const unknown = await post('agent', `/tickets/${open}/status`, { status: 'resolved', reason: 'typo' });
    expect([unknown.statusCode, fields(unknown)]).toEqual([400, ['body.reason']]);
    const protocol = await post('agent', '/tickets/12ab/status', { status: 'resolved' });
    expect([protocol.statusCode, fields(protocol)]).toEqual([400, ['params.protocol']]);
  });

  it('refuses a reassignment to a user that does not exist or is deactivated, naming body.userId', async () => {
    const none = await post('agent', `/tickets/${open}/assignee`, { userId: 999_999_999 });
    expect([none.statusCode, fields(none)]).toEqual([400, ['body.userId']]);
    expect(none.json().detail).toBe('body.userId: there is no user with id 999999999');
    const gone = await post('agent', `/tickets/${open}/assignee`, { userId: inactiveUserId });
    expect([gone.statusCode, fields(gone)]).toEqual([400, ['body.userId']]);
    expect(gone.json().detail).toMatch(/deactivated/);
    const notAnId = await post('agent', `/tickets/${open}/assignee`, { userId: 'ana' });
    expect([notAnId.statusCode, fields(notAnId)]).toEqual([400, ['body.userId']]);
  });

  it('refuses a reclassification without ids or with ids that do not exist, naming the field', async () => {
    const empty = await patch('agent', `/tickets/${open}`, { note: 'nothing' });
    expect(empty.statusCode).toBe(400);
    expect(empty.json().detail).toMatch(/occurrenceId, sectorId or both/);
    const occurrence = await patch('agent', `/tickets/${open}`, { occurrenceId: 999_999_999 });
    expect([occurrence.statusCode, fields(occurrence)]).toEqual([400, ['body.occurrenceId']]);
    const sector = await patch('agent', `/tickets/${open}`, { sectorId: 999_999_999 });
    expect([sector.statusCode, fields(sector)]).toEqual([400, ['body.sectorId']]);
  });

  it('refuses hostile bodies with a 400 naming the field, before anything is sent', async () => {
    const bodies = [
      [`/tickets/${open}/status`, 'POST', hostileBodies({ status: 'resolved', note: 'done' }, { required: ['status'] })],
      [`/tickets/${open}/assignee`, 'POST', hostileBodies({ userId: api.userIds.agent, note: 'yours' }, { required: ['userId'], ids: ['userId'] })],
      [`/tickets/${open}`, 'PATCH', hostileBodies({ occurrenceId, sectorId, note: 'moved' }, { required: [], ids: ['occurrenceId', 'sectorId'] })],
    ] as const;
    for (const [url, method, cases] of bodies) {
      // A body that passes would go on to the ticket's workflow (test/e2e/ticket-actions.test.ts sends those).
      for (const c of cases.filter((c) => c.expect !== 'fine')) checkCase(await api.as('agent', { method, url, payload: c.body }), { ...c, expect: 'refused' });
    }
  });

  it('lets only agents and admins act on tickets', async () => {
    for (const [method, url, payload] of ACTIONS(open)) {
      const res = await api.as('backoffice', { method, url, payload });
      expect(res.statusCode, `${method} ${url}`).toBe(403);
      expect(res.json().detail).toMatch(/needs the role admin or agent/);
      expect((await api.as('none', { method, url, payload })).statusCode).toBe(401);
    }
  });

  it('documents each action with its body, the ticket it answers and the 409 and 503 it may give', async () => {
    const doc = (await api.as('none', '/docs/json')).json();
    for (const [path, method] of [['/tickets/{protocol}/status', 'post'], ['/tickets/{protocol}/assignee', 'post'], ['/tickets/{protocol}', 'patch']] as const) {
      const op = doc.paths[path][method];
      expect(op.requestBody, `${method} ${path}`).toBeDefined();
      expect(Object.keys(op.responses)).toEqual(expect.arrayContaining(['200', '400', '403', '404', '409', '503']));
      expect(op.description).toMatch(/409/);
    }
  });
});
