import { beforeAll, describe, expect, it } from 'vitest';
import { createKey } from '../../db/api-keys.js';
import type { Sql } from '../../db/client.js';
import { users } from '../../db/users.js';
import { formatProtocol } from '../../domain/protocol.js';
import type { TicketStatus } from '../../domain/ticket-status.js';
import { activeStepPage } from '../../schemas/ticket-actions.js';
import { useTestApi, type TestApi } from '../harness/api.js';
import { uniqueSuffix } from '../harness/fixtures.js';
import { checkCase, hostileBodies } from '../harness/hostile-bodies.js';

/**
 * BackOffice's queue (GET /steps) over step rows written by SQL, and what the step actions
 * refuse before they ask the ticket's workflow (no worker listens on this API's task queue:
 * test/e2e/ticket-actions.test.ts drives the workflow).
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
