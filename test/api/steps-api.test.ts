import { beforeAll, describe, expect, it } from 'vitest';
import { createKey } from '../../db/api-keys.js';
import type { Sql } from '../../db/client.js';
import { users } from '../../db/users.js';
import { formatProtocol } from '../../domain/protocol.js';
import type { TicketStatus } from '../../domain/ticket-status.js';
import { activeStepPage } from '../../schemas/ticket-actions.js';
import { useTestApi, type TestApi } from '../harness/api.js';
import { uniqueSuffix } from '../harness/fixtures.js';
import { useE2E } from '../harness/e2e.js';
import { insertTicket, lifecycleConfig, send, type LifecycleConfig } from '../harness/lifecycle.js';
import { addSolutionSteps } from '../../db/ticket-lifecycle.js';
import { ticketDetail } from '../../schemas/tickets.js';
import { checkCase, hostileBodies } from '../harness/hostile-bodies.js';

/**
 * BackOffice's queue (GET /steps) over step rows written by SQL, and what the step actions
 * refuse before they ask the ticket's workflow (no worker listens on that API's task queue);
 * then a solution driven end to end through the real workflow (`useE2E`).
 */
let sql: Sql;
let api: TestApi;
useTestApi((s, a) => ([sql, api] = [s, a]));
const sfx = uniqueSuffix();
/** Sectors A and B are the BackOffice user's; C is not. */
const sector = { a: 0, b: 0, c: 0 };
let backoffice: string;
let open: string;
let other: string;
let closed: string;
/** Step ids by name. */
const steps: Record<string, number> = {};

async function ticket(status: TicketStatus, subject: string): Promise<{ id: number; protocol: string }> {
  const [seq] = await sql<{ n: number }[]>`SELECT nextval('protocol_sequence') AS n`;
  const protocol = formatProtocol(2099, seq!.n);
  const [customer] = await sql<{ id: number }[]>`INSERT INTO customer (name) VALUES (${`Customer ${subject}`}) RETURNING id`;
  const [row] = await sql<{ id: number }[]>`
    INSERT INTO ticket (protocol, status, subject, description, customer_id, channel, sector_id)
    VALUES (${protocol}, ${status}, ${subject}, 'a test ticket', ${customer!.id}, 'api', ${sector.a}) RETURNING id`;
  return { id: row!.id, protocol };
}

interface StepSpec {
  name: string;
  ticketId: number;
  position: number;
  sectorId: number;
  status: 'pending' | 'active' | 'completed' | 'cancelled';
  activatedAt: string | null;
  sla?: { dueAt: string; state: 'on_time' | 'at_risk' | 'breached' };
}

async function step(s: StepSpec): Promise<void> {
  const [row] = await sql<{ id: number }[]>`
    INSERT INTO ticket_step (ticket_id, position, flow, name, sector_id, status, activated_at, sla_value, sla_unit, sla_due_at, sla_state)
    VALUES (${s.ticketId}, ${s.position}, 'main', ${s.name}, ${s.sectorId}, ${s.status}, ${s.activatedAt},
            ${s.sla ? 4 : null}, ${s.sla ? 'hours' : null}, ${s.sla?.dueAt ?? null}, ${s.sla?.state ?? 'on_time'})
    RETURNING id`;
  steps[s.name] = row!.id;
}

beforeAll(async () => {
  for (const k of ['a', 'b', 'c'] as const) {
    sector[k] = (await sql<{ id: number }[]>`INSERT INTO sector (name) VALUES (${`Queue ${k.toUpperCase()}${sfx}`}) RETURNING id`)[0]!.id;
  }
  const user = await users.create(sql, { login: `bo${sfx}`, name: 'BackOffice AB', role: 'backoffice', sectorIds: [sector.a, sector.b] });
  backoffice = (await createKey(sql, user.id, 'test')).key;

  // Activation instants long past, so other test files' steps (activated now) come after these.
  const t1 = await ticket('open', `first${sfx}`);
  const t2 = await ticket('waiting_customer', `second${sfx}`);
  const t3 = await ticket('open', `third${sfx}`);
  const t4 = await ticket('closed', `closed${sfx}`);
  const t5 = await ticket('open', `fifth${sfx}`);
  [open, other, closed] = [t1.protocol, t2.protocol, t4.protocol];
  await step({ name: 'a1-done', ticketId: t1.id, position: 1, sectorId: sector.a, status: 'completed', activatedAt: '2001-01-01T08:00:00Z' });
  await step({ name: 'a1', ticketId: t1.id, position: 2, sectorId: sector.a, status: 'active', activatedAt: '2001-01-01T10:00:00Z', sla: { dueAt: '2001-01-01T14:00:00Z', state: 'breached' } });
  await step({ name: 'a1-next', ticketId: t1.id, position: 3, sectorId: sector.a, status: 'pending', activatedAt: null });
  await step({ name: 'b2', ticketId: t2.id, position: 1, sectorId: sector.b, status: 'active', activatedAt: '2001-01-01T09:00:00Z' });
  await step({ name: 'c3', ticketId: t3.id, position: 1, sectorId: sector.c, status: 'active', activatedAt: '2001-01-01T09:30:00Z' });
  // Same activation instant as a1: the id breaks the tie.
  await step({ name: 'a3', ticketId: t3.id, position: 2, sectorId: sector.a, status: 'active', activatedAt: '2001-01-01T10:00:00Z' });
  // A closed ticket's step left active: not in the queue, since nothing can act on it.
  await step({ name: 'a4', ticketId: t4.id, position: 1, sectorId: sector.a, status: 'active', activatedAt: '2001-01-01T11:00:00Z' });
  await step({ name: 'a5', ticketId: t5.id, position: 1, sectorId: sector.a, status: 'active', activatedAt: '2001-01-01T12:00:00Z' });
});

type Who = Parameters<TestApi['as']>[0];
const names = (items: { id: number }[]) => items.map((i) => Object.entries(steps).find(([, id]) => id === i.id)?.[0]).filter((n): n is string => n !== undefined);
const queue = async (who: Who, query = '') => {
  const res = await api.as(who, `/steps${query}`);
  expect(res.statusCode, res.body).toBe(200);
  return res.json() as { items: { id: number }[]; nextAfter: number | null };
};

describe('GET /steps', () => {
  it('lists the active steps of my sectors, the one active longest first, with its ticket, sector and SLA', async () => {
    const page = await queue({ key: backoffice }, '?limit=200');
    expect(activeStepPage.parse(page)).toEqual(page);
    expect(names(page.items)).toEqual(['b2', 'a1', 'a3', 'a5']);
    const a1 = page.items.find((i) => i.id === steps.a1);
    expect(a1).toEqual({
      id: steps.a1,
      ticket: { protocol: open, subject: `first${sfx}`, status: 'open' },
      position: 2,
      flow: 'main',
      name: 'a1',
      sector: { id: sector.a, name: `Queue A${sfx}` },
      activatedAt: '2001-01-01T10:00:00.000Z',
      sla: { dueAt: '2001-01-01T14:00:00.000Z', state: 'breached' },
    });
    expect(page.items.find((i) => i.id === steps.b2)).toMatchObject({ ticket: { protocol: other, status: 'waiting_customer' }, sla: null });
  });

  it('shows an admin every sector, and one sector when asked', async () => {
    expect(names((await queue('admin', '?limit=200')).items)).toEqual(['b2', 'c3', 'a1', 'a3', 'a5']);
    expect(names((await queue('admin', `?sectorId=${sector.c}`)).items)).toEqual(['c3']);
    expect(names((await queue({ key: backoffice }, `?sectorId=${sector.a}`)).items)).toEqual(['a1', 'a3', 'a5']);
    expect((await queue('admin', '?sectorId=999999999')).items).toEqual([]);
  });

  it('pages with a keyset cursor in the queue\'s order', async () => {
    const seen: string[] = [];
    let after: number | null = null;
    let pages = 0;
    do {
      const page: { items: { id: number }[]; nextAfter: number | null } = await queue({ key: backoffice }, `?sectorId=${sector.a}&limit=2${after ? `&after=${after}` : ''}`);
      seen.push(...names(page.items));
      after = page.nextAfter;
      pages++;
    } while (after !== null);
    expect([seen, pages]).toEqual([['a1', 'a3', 'a5'], 2]);
    // A finished step still marks its place.
    expect(names((await queue({ key: backoffice }, `?sectorId=${sector.a}&after=${steps['a1-done']}`)).items)).toEqual(['a1', 'a3', 'a5']);
    const bad = await api.as({ key: backoffice }, `/steps?after=${steps['a1-next']}`);
    expect([bad.statusCode, bad.json().errors?.[0]?.field]).toEqual([400, 'querystring.after']);
  });

  it('refuses a BackOffice user a sector not theirs, naming it, and agents the queue', async () => {
    const res = await api.as({ key: backoffice }, `/steps?sectorId=${sector.c}`);
    expect(res.statusCode).toBe(403);
    expect(res.json().errors).toEqual([{ field: 'querystring.sectorId', message: expect.stringContaining(`«Queue C${sfx}» (id ${sector.c})`) }]);
    expect((await api.as('agent', '/steps')).statusCode).toBe(403);
    // The test API's own BackOffice user is in no sector: an empty queue, not an error.
    expect((await queue('backoffice')).items.filter((i) => Object.values(steps).includes(i.id))).toEqual([]);
    const bad = await api.as('admin', '/steps?sectorId=abc&limit=0');
    expect([bad.statusCode, bad.json().errors.map((e: { field: string }) => e.field).sort()]).toEqual([400, ['querystring.limit', 'querystring.sectorId']]);
  });
});

describe('step actions before the workflow', () => {
  const post = (who: Who, url: string, payload: object) => api.as(who, { method: 'POST', url, payload });

  it('answers 404 for no such ticket, and for a step of another ticket', async () => {
    expect((await post({ key: backoffice }, `/tickets/2099999999999/steps/${steps.a1}/complete`, {})).statusCode).toBe(404);
    expect((await post({ key: backoffice }, '/tickets/2099999999999/alternative-flow', {})).statusCode).toBe(404);
    const foreign = await post({ key: backoffice }, `/tickets/${open}/steps/${steps.b2}/complete`, { note: 'wrong ticket' });
    expect([foreign.statusCode, foreign.json().detail]).toEqual([404, `Ticket ${open} has no step ${steps.b2}.`]);
    const move = await post('admin', `/tickets/${open}/steps/${steps.b2}/sector`, { sectorId: sector.b });
    expect(move.statusCode).toBe(404);
  });

  it('refuses every step action on a closed ticket at once', async () => {
    for (const [url, payload] of [
      [`/tickets/${closed}/steps/${steps.a4}/complete`, {}],
      [`/tickets/${closed}/steps/${steps.a4}/sector`, { sectorId: sector.b }],
      [`/tickets/${closed}/alternative-flow`, { note: 'try' }],
    ] as const) {
      const res = await post({ key: backoffice }, url, payload);
      expect([res.statusCode, res.json().detail], url).toEqual([409, `Ticket ${closed} is closed; nothing can change it. A new e-mail from the customer opens a new ticket.`]);
    }
  });

  it('refuses a move to a sector that does not exist, and bodies that do not fit, naming the field', async () => {
    const none = await post({ key: backoffice }, `/tickets/${open}/steps/${steps.a1}/sector`, { sectorId: 999_999_999 });
    expect([none.statusCode, none.json().errors]).toEqual([400, [{ field: 'body.sectorId', message: 'there is no sector with id 999999999' }]]);
    const missing = await post({ key: backoffice }, `/tickets/${open}/steps/${steps.a1}/sector`, {});
    expect([missing.statusCode, missing.json().errors]).toEqual([400, [{ field: 'body.sectorId', message: 'is required' }]]);
    const note = await post({ key: backoffice }, `/tickets/${open}/steps/${steps.a1}/complete`, { note: 7 });
    expect([note.statusCode, note.json().errors?.[0]?.field]).toEqual([400, 'body.note']);
    const stepId = await post({ key: backoffice }, `/tickets/${open}/steps/0x1/complete`, {});
    expect([stepId.statusCode, stepId.json().errors?.[0]?.field]).toEqual([400, 'params.stepId']);
  });

  it('refuses hostile bodies with a 400 naming the field, before anything is sent', async () => {
    const bodies = [
      [`/tickets/${open}/steps/${steps.a1}/complete`, hostileBodies({ note: 'done' }, { required: [] })],
      [`/tickets/${open}/steps/${steps.a1}/sector`, hostileBodies({ sectorId: sector.b, note: 'theirs' }, { required: ['sectorId'], ids: ['sectorId'] })],
      [`/tickets/${open}/alternative-flow`, hostileBodies({ note: 'plan B' }, { required: [] })],
    ] as const;
    for (const [url, cases] of bodies) {
      // A body that passes would go on to the ticket's workflow (test/e2e/ticket-actions.test.ts sends those).
      for (const c of cases.filter((c) => c.expect !== 'fine')) checkCase(await post({ key: backoffice }, url, c.body), c);
    }
  });

  it('lets only BackOffice staff and admins act on steps', async () => {
    for (const [url, payload] of [
      [`/tickets/${open}/steps/${steps.a1}/complete`, {}],
      [`/tickets/${open}/steps/${steps.a1}/sector`, { sectorId: sector.b }],
      [`/tickets/${open}/alternative-flow`, {}],
    ] as const) {
      const res = await post('agent', url, payload);
      expect([res.statusCode, res.json().detail], url).toEqual([403, expect.stringMatching(/needs the role admin or backoffice/)]);
    }
  });
});

describe('a solution driven through the API with BackOffice keys (SPEC §7)', () => {
  const rig = useE2E('steps');
  let cfg: LifecycleConfig;
  let mainSolution: number;
  beforeAll(async () => {
    // A long SLA: no alert fires while this runs.
    cfg = await lifecycleConfig(rig.api, { slaMinutes: 600, thresholds: [50, 100] });
    const [A, B] = [cfg.sectorId, cfg.otherSectorId];
    mainSolution = (
      await send(rig.api, 'POST', '/solutions', {
        occurrenceId: cfg.occurrenceId,
        name: 'Unlock',
        flow: 'main',
        steps: [{ name: 'Triage', sectorId: A, slaValue: 300, slaUnit: 'minutes' }, { name: 'Fix', sectorId: A }, { name: 'Bill', sectorId: B }],
      })
    ).id;
    await send(rig.api, 'POST', '/solutions', { occurrenceId: cfg.occurrenceId, name: 'Refund', flow: 'alternative', steps: [{ name: 'Refund', sectorId: B }, { name: 'Confirm', sectorId: A }] });
  });
  /** The timeline's events done by people (the workflow adds its own, e.g. `sla_planned` when it starts, at its own pace). */
  const byUsers = (json: unknown) => ticketDetail.parse(json).timeline.filter((e) => e.actor.startsWith('user:'));
  const bo = () => ({ key: cfg.backoffice.key });
  const billing = () => ({ key: cfg.otherBackoffice.key });
  const post = (who: Who, url: string, payload: object = {}) => rig.api.as(who, { method: 'POST', url, payload });
  const stepRows = (ticketId: number) =>
    rig.sql<{ id: number; name: string; flow: string; status: string; sectorId: number; finishedBy: string | null; note: string | null }[]>`
      SELECT id, name, flow, status, sector_id, finished_by, note FROM ticket_step WHERE ticket_id = ${ticketId} ORDER BY position`;
  const idOf = async (ticketId: number, name: string) => (await stepRows(ticketId)).find((r) => r.name === name)!.id;
  const queued = async (who: Who, sectorId: number, protocol: string) =>
    ((await rig.api.as(who, `/steps?sectorId=${sectorId}&limit=200`)).json().items as { ticket: { protocol: string }; name: string }[]).filter((i) => i.ticket.protocol === protocol).map((i) => i.name);

  it('completes, moves, switches to the alternative flow and finishes: the ticket is resolved and every action is on its timeline', { timeout: 90_000 }, async () => {
    const t = await insertTicket(rig.sql, cfg);
    // What the e-mail's workflow does once the ticket exists (activities/lifecycle.ts startSolution).
    await addSolutionSteps(rig.sql, {
      ticketId: t.ticketId,
      key: 'solution:main',
      at: new Date().toISOString(),
      solutionId: mainSolution,
      flow: 'main',
      event: { kind: 'solution_started', actor: 'system:test', data: { solutionId: mainSolution } },
    });
    const [triage, fix, bill] = await Promise.all(['Triage', 'Fix', 'Bill'].map((n) => idOf(t.ticketId, n)));
    const base = `/tickets/${t.protocol}`;
    expect(await queued(bo(), cfg.sectorId, t.protocol)).toEqual(['Triage']);

    // Refusals, with the workflow's reasons.
    const foreign = await post(billing(), `${base}/steps/${triage}/complete`);
    expect([foreign.statusCode, foreign.json().detail]).toEqual([409, expect.stringMatching(new RegExp(`^you are not in sector «Support .*» \\(id ${cfg.sectorId}\\), where step ${triage} «Triage» is$`))]);
    const notActive = await post(bo(), `${base}/steps/${fix}/complete`);
    expect([notActive.statusCode, notActive.json().detail]).toEqual([409, `step ${fix} «Fix» is pending, not the active step`]);

    // Complete Triage: Fix becomes active in sector A.
    const done = await post(bo(), `${base}/steps/${triage}/complete`, { note: 'password reset link sent' });
    expect(done.statusCode, done.body).toBe(200);
    expect(byUsers(done.json()).at(-1)).toMatchObject({ kind: 'step_completed', data: { stepId: triage, note: 'password reset link sent', next: { stepId: fix } } });
    expect(await queued(bo(), cfg.sectorId, t.protocol)).toEqual(['Fix']);

    // Move Fix to sector B: it leaves A's queue for B's.
    const moved = await post(bo(), `${base}/steps/${fix}/sector`, { sectorId: cfg.otherSectorId, note: 'needs billing' });
    expect(moved.statusCode, moved.body).toBe(200);
    expect(byUsers(moved.json()).at(-1)).toMatchObject({ kind: 'step_moved', data: { stepId: fix, fromSectorId: cfg.sectorId, toSectorId: cfg.otherSectorId, note: 'needs billing' } });
    expect([await queued(bo(), cfg.sectorId, t.protocol), await queued(billing(), cfg.otherSectorId, t.protocol)]).toEqual([[], ['Fix']]);
    const again = await post(billing(), `${base}/steps/${fix}/sector`, { sectorId: cfg.otherSectorId });
    expect([again.statusCode, again.json().detail]).toEqual([409, `step ${fix} is already in sector ${cfg.otherSectorId}`]);

    // Switch to the alternative flow: only someone in the active step's sector (now B) may.
    const notMine = await post(bo(), `${base}/alternative-flow`);
    expect([notMine.statusCode, notMine.json().detail]).toEqual([409, expect.stringMatching(new RegExp(`^you are not in sector «Billing .*» \\(id ${cfg.otherSectorId}\\), where step ${fix} «Fix» is$`))]);
    const switched = await post(billing(), `${base}/alternative-flow`, { note: 'customer wants a refund' });
    expect(switched.statusCode, switched.body).toBe(200);
    expect(byUsers(switched.json()).at(-1)).toMatchObject({ kind: 'flow_switched', data: { note: 'customer wants a refund' } });
    expect((await stepRows(t.ticketId)).map((r) => [r.name, r.flow, r.status])).toEqual([
      ['Triage', 'main', 'completed'],
      ['Fix', 'main', 'cancelled'],
      ['Bill', 'main', 'cancelled'],
      ['Refund', 'alternative', 'active'],
      ['Confirm', 'alternative', 'pending'],
    ]);
    const twice = await post(billing(), `${base}/alternative-flow`);
    expect([twice.statusCode, twice.json().detail]).toEqual([409, 'the ticket already runs its alternative flow']);
    const oldStep = await post(billing(), `${base}/steps/${bill}/complete`);
    expect([oldStep.statusCode, oldStep.json().detail]).toEqual([409, `step ${bill} «Bill» is cancelled, not the active step`]);

    // Finish: Refund (B), then Confirm (A) by an admin; the last step resolves the ticket.
    const [refund, confirm] = await Promise.all(['Refund', 'Confirm'].map((n) => idOf(t.ticketId, n)));
    expect((await post(billing(), `${base}/steps/${refund}/complete`)).statusCode).toBe(200);
    const last = await post('admin', `${base}/steps/${confirm}/complete`, { note: 'refunded' });
    expect(last.statusCode, last.body).toBe(200);
    const resolved = ticketDetail.parse(last.json());
    expect(resolved.status).toBe('resolved');
    const login = async (id: number) => (await rig.sql<{ login: string }[]>`SELECT login FROM app_user WHERE id = ${id}`)[0]!.login;
    const [boLogin, billLogin] = [await login(cfg.backoffice.id), await login(cfg.otherBackoffice.id)];
    expect(resolved.timeline.slice(0, 2).map((e) => e.kind)).toEqual(['created', 'solution_started']);
    expect(byUsers(resolved).map((e) => [e.kind, e.actor])).toEqual(
      [
        ['step_completed', boLogin],
        ['step_moved', boLogin],
        ['flow_switched', billLogin],
        ['step_completed', billLogin],
        ['step_completed', 'admin'],
        ['status_changed', 'admin'],
      ].map(([kind, l]) => [kind, `user:${l}`]),
    );
    expect((await stepRows(t.ticketId)).filter((r) => r.status === 'completed').map((r) => [r.name, r.note])).toEqual([
      ['Triage', 'password reset link sent'],
      ['Refund', null],
      ['Confirm', 'refunded'],
    ]);
    expect(await queued('admin', cfg.otherSectorId, t.protocol)).toEqual([]);
    const afterwards = await post('admin', `${base}/steps/${confirm}/complete`);
    expect([afterwards.statusCode, afterwards.json().detail]).toEqual([409, 'the ticket is resolved; its steps cannot change']);
  });
});
