import { WorkflowNotFoundError } from '@temporalio/common';
import { beforeAll, describe, expect, it } from 'vitest';
import { ticketWorkflowId } from '../../contracts/workflow-ids.js';
import type { Sql } from '../../db/client.js';
import { formatProtocol } from '../../domain/protocol.js';
import type { TicketStatus } from '../../domain/ticket-status.js';
import { useTestApi, type TestApi } from '../harness/api.js';
import { uniqueSuffix } from '../harness/fixtures.js';
import { checkCase, hostileBodies } from '../harness/hostile-bodies.js';
import { useE2E } from '../harness/e2e.js';
import { insertTicket, lifecycleConfig, send, type LifecycleConfig } from '../harness/lifecycle.js';
import { ticketDetail, type TicketDetail } from '../../schemas/tickets.js';

/**
 * The ticket action routes. First up to the point where they ask the ticket's workflow: what
 * they refuse on their own (no such ticket, an ended ticket, a body that does not fit, a name
 * that does not exist, a role that may not) never reaches Temporal: no worker listens on that
 * API's task queue, so a request that did reach it would hang until its deadline, not answer.
 * Then through the real workflow (`useE2E`: a worker on the API's task queue).
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

describe('ticket actions through the ticket\'s workflow', () => {
  const rig = useE2E('ticketactions');
  let cfg: LifecycleConfig;
  let agentLogin: string;
  beforeAll(async () => {
    // A long SLA: no alert fires while these tests run.
    cfg = await lifecycleConfig(rig.api, { slaMinutes: 600, thresholds: [50, 100] });
    agentLogin = (await rig.sql<{ login: string }[]>`SELECT login FROM app_user WHERE id = ${rig.api.userIds.agent}`)[0]!.login;
  });
  const act = (who: Who, method: 'POST' | 'PATCH', url: string, payload: object) => rig.api.as(who, { method, url, payload });
  /** The timeline's events done by people (the workflow adds its own, e.g. `sla_planned` when it starts, at its own pace). */
  const byUsers = (t: TicketDetail) => t.timeline.filter((e) => e.actor.startsWith('user:'));
  const detail = async (protocol: string) => ticketDetail.parse((await rig.api.as('agent', `/tickets/${protocol}`)).json());
  /** The answer of an action that applied: the ticket as GET shows it. */
  const applied = async (res: Awaited<ReturnType<typeof act>>) => {
    expect(res.statusCode, res.body).toBe(200);
    const body = ticketDetail.parse(res.json());
    return body;
  };

  it('walks a ticket through waiting, reopening, resolving and closing; refuses what SPEC §8 does not allow, with the reason, leaving no trace', { timeout: 60_000 }, async () => {
    const t = await insertTicket(rig.sql, cfg, { assigneeUserId: rig.api.userIds.agent });
    const url = `/tickets/${t.protocol}/status`;

    // The workflow is not running yet: the first action starts it.
    const waiting = await applied(await act('agent', 'POST', url, { status: 'waiting_customer', note: 'asked for the logs' }));
    expect(waiting.status).toBe('waiting_customer');
    expect(byUsers(waiting).at(-1)).toMatchObject({ kind: 'status_changed', actor: `user:${agentLogin}`, data: { from: 'open', to: 'waiting_customer', note: 'asked for the logs' } });
    expect((await rig.client.workflow.getHandle(ticketWorkflowId(t.protocol)).describe()).status.name).toBe('RUNNING');

    const refused = await act('agent', 'POST', url, { status: 'closed' });
    expect([refused.statusCode, refused.headers['content-type']]).toEqual([409, expect.stringMatching(/^application\/problem\+json/)]);
    expect(refused.json().detail).toBe('a waiting customer ticket can only become open or resolved or cancelled, not closed');
    expect((await act('admin', 'POST', url, { status: 'waiting_customer' })).json().detail).toBe('the ticket is already waiting_customer');
    expect(byUsers(await detail(t.protocol))).toEqual(byUsers(waiting));

    expect((await applied(await act('admin', 'POST', url, { status: 'open' }))).status).toBe('open');
    const resolved = await applied(await act('agent', 'POST', url, { status: 'resolved', note: 'reset the password' }));
    expect(resolved.status).toBe('resolved');
    const cancel = await act('agent', 'POST', url, { status: 'cancelled' });
    expect([cancel.statusCode, cancel.json().detail]).toEqual([409, 'a resolved ticket can only become open or closed, not cancelled']);
    const closedTicket = await applied(await act('agent', 'POST', url, { status: 'closed' }));
    expect(closedTicket.status).toBe('closed');
    expect(byUsers(closedTicket).filter((e) => e.kind === 'status_changed').map((e) => [e.data.from, e.data.to])).toEqual([
      ['open', 'waiting_customer'],
      ['waiting_customer', 'open'],
      ['open', 'resolved'],
      ['resolved', 'closed'],
    ]);
    // A closed ticket's workflow ends; the API refuses from then on without asking Temporal.
    await rig.client.workflow.getHandle(ticketWorkflowId(t.protocol)).result();
    const after = await act('agent', 'POST', url, { status: 'open' });
    expect([after.statusCode, after.json().detail]).toEqual([409, `Ticket ${t.protocol} is closed; nothing can change it. A new e-mail from the customer opens a new ticket.`]);
  });

  it('starts the workflow of a ticket that has none and answers with the workflow\'s refusal from its handler', async () => {
    const t = await insertTicket(rig.sql, cfg);
    await rig.sql`UPDATE ticket SET status = 'resolved' WHERE id = ${t.ticketId}`;
    // The update arrives before the workflow has read the ticket: the handler refuses it once it has.
    const res = await act('agent', 'POST', `/tickets/${t.protocol}/status`, { status: 'waiting_customer' });
    expect([res.statusCode, res.json().detail]).toEqual([409, 'a resolved ticket can only become open or closed, not waiting_customer']);
    expect(byUsers(await detail(t.protocol))).toEqual([]);
  });

  it('never starts a workflow for a closed ticket', async () => {
    const t = await insertTicket(rig.sql, cfg);
    await rig.sql`UPDATE ticket SET status = 'closed' WHERE id = ${t.ticketId}`;
    expect((await act('agent', 'POST', `/tickets/${t.protocol}/status`, { status: 'open' })).statusCode).toBe(409);
    await expect(rig.client.workflow.getHandle(ticketWorkflowId(t.protocol)).describe()).rejects.toBeInstanceOf(WorkflowNotFoundError);
  });

  it('keeps any note as sent', { timeout: 60_000 }, async () => {
    const t = await insertTicket(rig.sql, cfg);
    const cases = hostileBodies({ status: 'waiting_customer', note: 'x' }, { required: [] }).filter((c) => c.field === 'body.note' && c.expect === 'fine');
    expect(cases.length).toBeGreaterThan(0);
    let status = 'open';
    for (const c of cases) {
      status = status === 'open' ? 'waiting_customer' : 'open';
      const body = await applied(await act('agent', 'POST', `/tickets/${t.protocol}/status`, { status, note: c.body.note }));
      expect(byUsers(body).at(-1)?.data.note, c.name).toBe(c.body.note);
    }
  });

  it('reassigns by hand, audited, and refuses the same assignee again', async () => {
    const t = await insertTicket(rig.sql, cfg, { assigneeUserId: rig.api.userIds.agent });
    const other = await send(rig.api, 'POST', '/users', { login: `other${uniqueSuffix()}`, name: 'Other Agent', role: 'agent', sectorIds: [cfg.sectorId] });
    const url = `/tickets/${t.protocol}/assignee`;
    const body = await applied(await act('agent', 'POST', url, { userId: other.id, note: 'on holiday' }));
    expect(body.assignee).toEqual({ id: other.id, name: 'Other Agent' });
    expect(byUsers(body).at(-1)).toMatchObject({ kind: 'reassigned', actor: `user:${agentLogin}`, data: { from: rig.api.userIds.agent, to: other.id, note: 'on holiday' } });
    const again = await act('admin', 'POST', url, { userId: other.id });
    expect([again.statusCode, again.json().detail]).toEqual([409, `the ticket is already assigned to user ${other.id}`]);
  });

  it('reclassifies to another sector and occurrence, planning the SLA again', async () => {
    const t = await insertTicket(rig.sql, cfg);
    const longer = await send(rig.api, 'POST', '/occurrences', { occurrenceTypeId: cfg.occurrenceTypeId, name: `Slow ${uniqueSuffix()}`, slaValue: 2, slaUnit: 'days' });
    const before = await detail(t.protocol);
    const body = await applied(await act('agent', 'PATCH', `/tickets/${t.protocol}`, { sectorId: cfg.otherSectorId, occurrenceId: longer.id, note: 'billing question' }));
    expect([body.sector?.id, body.occurrence?.id]).toEqual([cfg.otherSectorId, longer.id]);
    expect(byUsers(body).map((e) => e.kind)).toEqual(['reclassified', 'sla_replanned']);
    expect(byUsers(body)[0]?.data).toMatchObject({ sectorId: cfg.otherSectorId, occurrenceId: longer.id, note: 'billing question' });
    // 2 days of the 24x7 calendar from its creation, where 600 minutes were before.
    expect(new Date(body.sla.dueAt!).getTime()).toBe(new Date(before.createdAt).getTime() + 2 * 86_400_000);
  });
});
