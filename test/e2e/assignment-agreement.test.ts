import { Writable } from 'node:stream';
import { isDeepStrictEqual } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { describe, expect, it } from 'vitest';
import { buildApp } from '../../api/app.js';
import { requestAssignment, ticketLoadChanged } from '../../clients/assigner.js';
import { poolViewQuery, type AssignAnswer, type PoolView } from '../../contracts/assignment.js';
import { assignerWorkflowId } from '../../contracts/workflow-ids.js';
import { createKey } from '../../db/api-keys.js';
import { loadPool } from '../../db/pools.js';
import { assignInTurn, pickAssignee, poolKey, type Decision, type PoolMember, type PoolRef } from '../../domain/distribution.js';
import { freePort } from '../../stack/free-port.js';
import { useE2E } from '../harness/e2e.js';
import { eventually, testSecrets, uniqueSuffix } from '../harness/fixtures.js';

/**
 * SPEC §5: the assignment workflow's counts agree with the database after every change the
 * API makes (and, through `ticketLoadChanged`, the ticket workflow to come): after each change
 * the next pick is the one `pickAssignee(loadPool(…))` makes from the database, and the
 * workflow's view of its pool is `loadPool`'s. Each scenario is built so that the view from
 * before the change would pick someone else, so a pool that was not told fails it.
 */

const e2e = useE2E('agree');

async function call(method: 'POST' | 'PATCH' | 'DELETE', url: string, payload?: object, status = method === 'POST' ? 201 : method === 'PATCH' ? 200 : 204) {
  const res = await e2e.api.as('admin', { method, url, ...(payload ? { payload } : {}) });
  expect(res.statusCode, res.body).toBe(status);
  return res.statusCode === 204 ? undefined : (res.json() as { id: number });
}

/** Users created through the API in this order (their registration order), each with `open` open tickets. */
async function people(list: { name: string; open?: number; sectorIds?: number[]; active?: boolean }[], customerId: number): Promise<Record<string, number>> {
  const sfx = uniqueSuffix();
  const ids: Record<string, number> = {};
  for (const p of list) {
    const body = { login: `${p.name.toLowerCase()}${sfx}`, name: p.name, role: 'agent', ...(p.sectorIds ? { sectorIds: p.sectorIds } : {}), ...(p.active === false ? { active: false } : {}) };
    ids[p.name] = (await call('POST', '/users', body))!.id;
  }
  for (const p of list) for (let i = 0; i < (p.open ?? 0); i++) await ticket(customerId, ids[p.name]!);
  return ids;
}

async function customer(): Promise<number> {
  const sfx = uniqueSuffix();
  const region = (await call('POST', '/regions', { name: `Region${sfx}` }))!.id;
  return (await call('POST', '/customers', { name: `Customer${sfx}`, regionId: region }))!.id;
}

async function group(memberIds: number[]): Promise<PoolRef> {
  return { kind: 'group', id: (await call('POST', '/solution-groups', { name: `Pool${uniqueSuffix()}`, memberIds }))!.id };
}

/** A ticket as the e-mail path creates it (written directly; assignment is what is tested). */
async function ticket(customerId: number, assignee: number | null = null): Promise<{ id: number; protocol: string }> {
  const [row] = await e2e.sql<{ id: number; protocol: string }[]>`
    INSERT INTO ticket (protocol, subject, description, customer_id, channel, assignee_user_id)
    VALUES ('1998' || lpad(nextval('protocol_sequence')::text, 8, '0'), 'Agreement test', '-', ${customerId}, 'api', ${assignee})
    RETURNING id, protocol`;
  return row!;
}

const ask = (ref: PoolRef, t: { id: number; protocol: string }) =>
  requestAssignment({ client: e2e.client, taskQueue: e2e.taskQueue, pool: ref, request: { ticketId: t.id, protocol: t.protocol } });

const handle = (ref: PoolRef) => e2e.client.workflow.getHandle(assignerWorkflowId(poolKey(ref)));
const view = (ref: PoolRef): Promise<PoolView> => handle(ref).query(poolViewQuery);
const plain = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

/**
 * Waits until the workflow has written every decision and its view of the pool is the
 * database's (it reloads right after being told), and returns that view.
 */
async function agreeing(ref: PoolRef): Promise<PoolView> {
  let last: { view?: PoolView; db?: PoolMember[] } = {};
  try {
    return await eventually(async () => {
      const [v, db] = await Promise.all([view(ref), loadPool(e2e.sql, ref)]);
      last = { view: v, db };
      return v.pendingWrites === 0 && isDeepStrictEqual(plain(v.members), plain(db)) ? v : undefined;
    }, 15_000, `the workflow of ${poolKey(ref)} agreeing with the database`);
  } catch (err) {
    // The diff says how they disagree.
    expect(plain(last.view?.members), (err as Error).message).toEqual(plain(last.db));
    throw err;
  }
}

const decisionOf = ({ ticketId: _t, protocol: _p, waiting: _w, ...decision }: AssignAnswer): Decision => decision;

/**
 * The heart of each scenario: `stale` is the workflow's view from before the change. The next
 * pick must be the database's, which the stale view would not have made.
 */
async function nextPickFollowsDatabase(ref: PoolRef, customerId: number, stale: PoolView): Promise<AssignAnswer> {
  const expected = pickAssignee(await loadPool(e2e.sql, ref));
  expect(pickAssignee(stale.members!).userId, 'the scenario distinguishes a told pool from a stale one').not.toBe(expected.userId);
  const answer = await ask(ref, await ticket(customerId));
  expect(decisionOf(answer)).toEqual(expected);
  expect(answer.waiting).toBe(expected.userId === null);
  await agreeing(ref);
  return answer;
}

/** The `why` of every poolChanged signal in the workflow's history (these tests stay in its first run). */
async function signalsReceived(ref: PoolRef): Promise<string[]> {
  const history = await handle(ref).fetchHistory();
  return (history.events ?? []).flatMap((e) => {
    const data = e.workflowExecutionSignaledEventAttributes?.input?.payloads?.[0]?.data;
    return data ? [(JSON.parse(Buffer.from(data).toString()) as { why: string }).why] : [];
  });
}

async function openTicketOf(userId: number): Promise<number> {
  const [row] = await e2e.sql<{ id: number }[]>`SELECT id FROM ticket WHERE assignee_user_id = ${userId} AND status = 'open' ORDER BY id LIMIT 1`;
  return row!.id;
}

describe('the assignment workflow agrees with the database after every change (SPEC §5)', () => {
  it('a member paused through the API is skipped by the next pick; the signal says who and by whom', async () => {
    const c = await customer();
    const ids = await people([{ name: 'Ana', open: 0 }, { name: 'Bruno', open: 2 }, { name: 'Carla', open: 3 }], c);
    const ref = await group(Object.values(ids));
    expect((await ask(ref, await ticket(c))).userId).toBe(ids.Ana);
    const stale = await agreeing(ref);

    await call('PATCH', `/users/${ids.Ana}`, { available: false });
    const next = await nextPickFollowsDatabase(ref, c, stale);
    expect(next.userId).toBe(ids.Bruno);
    expect(next.userId !== null && next.skipped).toEqual([{ userId: ids.Ana, why: 'paused' }]);
    expect(await signalsReceived(ref)).toEqual([`user ${ids.Ana} paused by admin (user ${e2e.api.userIds.admin}, admin)`]);
  });

  it('when every member is paused the pause is ignored, by the database\'s counts', async () => {
    const c = await customer();
    const ids = await people([{ name: 'Ana', open: 0 }, { name: 'Bruno', open: 1 }], c);
    const ref = await group(Object.values(ids));
    expect((await ask(ref, await ticket(c))).userId).toBe(ids.Ana);
    let stale = await agreeing(ref); // Ana 1, Bruno 1: Ana next
    await call('PATCH', `/users/${ids.Ana}`, { available: false });
    expect((await nextPickFollowsDatabase(ref, c, stale)).userId).toBe(ids.Bruno);
    stale = await agreeing(ref); // Ana paused, Bruno 2: Bruno next

    await call('PATCH', `/users/${ids.Bruno}`, { available: false });
    const next = await nextPickFollowsDatabase(ref, c, stale);
    expect(next).toMatchObject({ userId: ids.Ana, pauseIgnored: true, reason: expect.stringMatching(/pause was ignored/) });
  });

  it('a deactivated member gets nothing more', async () => {
    const c = await customer();
    const ids = await people([{ name: 'Ana', open: 0 }, { name: 'Bruno', open: 2 }], c);
    const ref = await group(Object.values(ids));
    expect((await ask(ref, await ticket(c))).userId).toBe(ids.Ana);
    const stale = await agreeing(ref);

    await call('PATCH', `/users/${ids.Ana}`, { active: false });
    const next = await nextPickFollowsDatabase(ref, c, stale);
    expect(next).toMatchObject({ userId: ids.Bruno, skipped: [{ userId: ids.Ana, why: 'inactive' }] });
  });

  it('a member removed from the group is out of the pool', async () => {
    const c = await customer();
    const ids = await people([{ name: 'Ana', open: 0 }, { name: 'Bruno', open: 2 }], c);
    const ref = await group(Object.values(ids));
    expect((await ask(ref, await ticket(c))).userId).toBe(ids.Ana);
    const stale = await agreeing(ref);

    await call('PATCH', `/solution-groups/${ref.id}`, { memberIds: [ids.Bruno] });
    expect((await nextPickFollowsDatabase(ref, c, stale)).userId).toBe(ids.Bruno);
    expect((await view(ref)).members!.map((m) => m.userId)).toEqual([ids.Bruno]);
    expect(await signalsReceived(ref)).toEqual([expect.stringMatching(new RegExp(`^solution group ${ref.id} members set to \\[${ids.Bruno}\\] by admin`))]);
  });

  it('a member added to the group takes the next tickets, having the fewest', async () => {
    const c = await customer();
    const ids = await people([{ name: 'Ana', open: 3 }, { name: 'Bruno', open: 3 }], c);
    const ref = await group(Object.values(ids));
    expect((await ask(ref, await ticket(c))).userId).toBe(ids.Ana);
    const stale = await agreeing(ref);

    const { Carla } = await people([{ name: 'Carla', open: 0 }], c);
    await call('PATCH', `/solution-groups/${ref.id}`, { memberIds: [ids.Ana, ids.Bruno, Carla] });
    const expected = assignInTurn(await loadPool(e2e.sql, ref), 4).picks.map((p) => p.userId);
    expect(expected).toEqual([Carla, Carla, Carla, ids.Bruno]);
    expect((await nextPickFollowsDatabase(ref, c, stale)).userId).toBe(Carla);
    for (const who of expected.slice(1)) expect((await ask(ref, await ticket(c))).userId).toBe(who);
    await agreeing(ref);
  });

  it('a deleted member (DELETE /users) leaves the pool', async () => {
    const c = await customer();
    const ids = await people([{ name: 'Bruno', open: 0 }, { name: 'Ana', open: 0 }], c);
    const ref = await group(Object.values(ids));
    expect((await ask(ref, await ticket(c))).userId).toBe(ids.Bruno);
    const stale = await agreeing(ref);

    await call('DELETE', `/users/${ids.Ana}`);
    expect((await nextPickFollowsDatabase(ref, c, stale)).userId).toBe(ids.Bruno);
  });

  it('a deleted group\'s workflow finds its pool empty: the next ticket waits', async () => {
    const c = await customer();
    const ids = await people([{ name: 'Ana', open: 0 }], c);
    const ref = await group(Object.values(ids));
    expect((await ask(ref, await ticket(c))).userId).toBe(ids.Ana);
    const stale = await agreeing(ref);

    await call('DELETE', `/solution-groups/${ref.id}`);
    const next = await nextPickFollowsDatabase(ref, c, stale);
    expect(next).toMatchObject({ userId: null, waiting: true, reason: 'the pool has no members' });
  });

  it('a user\'s sectors changed (PATCH, and POST of a new user) move them out of and into the sector\'s pool', async () => {
    const c = await customer();
    const sector = (await call('POST', '/sectors', { name: `Sector${uniqueSuffix()}` }))!.id;
    const ref: PoolRef = { kind: 'sector', id: sector };
    const ids = await people([{ name: 'Ana', open: 0, sectorIds: [sector] }, { name: 'Bruno', open: 2, sectorIds: [sector] }], c);
    expect((await ask(ref, await ticket(c))).userId).toBe(ids.Ana);

    // Ana leaves the sector: Bruno (2) is picked, not Ana (1).
    let stale = await agreeing(ref);
    await call('PATCH', `/users/${ids.Ana}`, { sectorIds: [] });
    expect((await nextPickFollowsDatabase(ref, c, stale)).userId).toBe(ids.Bruno);

    // Carla, in no sector, joins it: she has the fewest.
    const { Carla } = await people([{ name: 'Carla', open: 0 }], c);
    stale = await agreeing(ref);
    await call('PATCH', `/users/${Carla}`, { sectorIds: [sector] });
    expect((await nextPickFollowsDatabase(ref, c, stale)).userId).toBe(Carla);

    // Ana comes back (1 open): she and Carla (1) tie, and Ana registered first.
    stale = await agreeing(ref);
    await call('PATCH', `/users/${ids.Ana}`, { sectorIds: [sector] });
    expect((await nextPickFollowsDatabase(ref, c, stale)).userId).toBe(ids.Ana);

    // A new user created in the sector starts with none.
    stale = await agreeing(ref);
    const { Davi } = await people([{ name: 'Davi', open: 0, sectorIds: [sector] }], c);
    expect((await nextPickFollowsDatabase(ref, c, stale)).userId).toBe(Davi);
  });

  for (const status of ['resolved', 'closed', 'cancelled'] as const) {
    it(`a ticket ${status} (SQL + ticketLoadChanged) lowers its assignee's count, and the next pick follows`, async () => {
      const c = await customer();
      const ids = await people([{ name: 'Ana', open: 2 }, { name: 'Bruno', open: 1 }], c);
      const ref = await group(Object.values(ids));
      expect((await ask(ref, await ticket(c))).userId).toBe(ids.Bruno);
      const stale = await agreeing(ref); // Ana 2, Bruno 2: Ana next

      const t = await openTicketOf(ids.Bruno!);
      await e2e.sql`UPDATE ticket SET status = ${status}, updated_at = now() WHERE id = ${t}`;
      await ticketLoadChanged(e2e.client, e2e.sql, t, `ticket ${t} ${status} by the test`);
      expect((await nextPickFollowsDatabase(ref, c, stale)).userId).toBe(ids.Bruno);
      expect(await signalsReceived(ref)).toEqual([`ticket ${t} ${status} by the test`]);
    });
  }

  it('a manual reassignment (SQL + ticketLoadChanged naming the former assignee) moves the load in both pools', async () => {
    const c = await customer();
    const ids = await people([{ name: 'Ana', open: 2 }, { name: 'Bruno', open: 2 }, { name: 'Carla', open: 2 }, { name: 'Davi', open: 2 }], c);
    const first = await group([ids.Ana!, ids.Bruno!]);
    const second = await group([ids.Carla!, ids.Davi!]);
    expect((await ask(first, await ticket(c))).userId).toBe(ids.Ana);
    expect((await ask(second, await ticket(c))).userId).toBe(ids.Carla);
    // Stale: Bruno next in the first pool, Davi in the second.
    const [staleFirst, staleSecond] = [await agreeing(first), await agreeing(second)];

    const t = await openTicketOf(ids.Ana!);
    await e2e.sql`UPDATE ticket SET assignee_user_id = ${ids.Davi!}, updated_at = now() WHERE id = ${t}`;
    await ticketLoadChanged(e2e.client, e2e.sql, t, `ticket ${t} reassigned from ${ids.Ana} to ${ids.Davi} by the test`, ids.Ana);
    // Ana 2 and Bruno 2: Ana registered first. Carla 3 and Davi 3: Carla registered first.
    expect((await nextPickFollowsDatabase(first, c, staleFirst)).userId).toBe(ids.Ana);
    expect((await nextPickFollowsDatabase(second, c, staleSecond)).userId).toBe(ids.Carla);
  });

  it('an empty pool leaves tickets waiting with a timeline event; a member reactivated through the API takes them at once, oldest first', async () => {
    const c = await customer();
    const ids = await people([{ name: 'Ana', active: false }, { name: 'Bruno', active: false }], c);
    const ref = await group(Object.values(ids));
    const waiting = [await ticket(c), await ticket(c), await ticket(c)];
    for (const t of waiting) {
      expect(await ask(ref, t)).toMatchObject({ ticketId: t.id, userId: null, waiting: true, reason: 'no active member in the pool' });
    }
    expect((await agreeing(ref)).waiting.map((r) => r.ticketId)).toEqual(waiting.map((t) => t.id));
    const events = await e2e.sql<{ ticketId: number; data: { reason: string } }[]>`
      SELECT ticket_id, data FROM ticket_event WHERE kind = 'assignment_waiting' AND ticket_id IN ${e2e.sql(waiting.map((t) => t.id))} ORDER BY ticket_id`;
    expect(events).toEqual(waiting.map((t) => ({ ticketId: t.id, data: expect.objectContaining({ reason: 'no active member in the pool' }) })));

    // What the database will say once Bruno is back (read before: the workflow writes its picks right after).
    const back = (await loadPool(e2e.sql, ref)).map((m) => (m.userId === ids.Bruno ? { ...m, active: true } : m));
    const expected = assignInTurn(back, 3).picks;
    await call('PATCH', `/users/${ids.Bruno}`, { active: true });
    // No new request: the reload hands the waiting tickets out, oldest first, as the database's counts say.
    const assigned = await eventually(async () => {
      const rows = await e2e.sql<{ id: number; ticketId: number; data: { userId: number; reason: string } }[]>`
        SELECT id, ticket_id, data FROM ticket_event WHERE kind = 'assigned' AND ticket_id IN ${e2e.sql(waiting.map((t) => t.id))} ORDER BY id`;
      return rows.length === 3 ? rows : undefined;
    }, 15_000, 'the waiting tickets assigned');
    expect(assigned.map((e) => e.ticketId)).toEqual(waiting.map((t) => t.id));
    expect(assigned.map((e) => ({ userId: e.data.userId, reason: e.data.reason }))).toEqual(expected.map((d) => ({ userId: d.userId, reason: d.reason })));
    expect(assigned.map((e) => e.data.reason)).toEqual([/0 open tickets/, /1 open ticket\)/, /2 open tickets/].map((r) => expect.stringMatching(r)));
    const rows = await e2e.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM ticket WHERE id IN ${e2e.sql(waiting.map((t) => t.id))} AND assignee_user_id = ${ids.Bruno!}`;
    expect(rows[0]!.n).toBe(3);
    expect((await agreeing(ref)).waiting).toEqual([]);
  });

  it('a waiting ticket closed before anyone could take it is not assigned later, and the counts still agree', async () => {
    const c = await customer();
    const ids = await people([{ name: 'Ana', active: false }], c);
    const ref = await group(Object.values(ids));
    const [gone, kept] = [await ticket(c), await ticket(c)];
    for (const t of [gone, kept]) expect(await ask(ref, t)).toMatchObject({ userId: null, waiting: true });
    await e2e.sql`UPDATE ticket SET status = 'cancelled' WHERE id = ${gone.id}`;
    await call('PATCH', `/users/${ids.Ana}`, { active: true });
    await eventually(async () => ((await e2e.sql`SELECT 1 FROM ticket WHERE id = ${kept.id} AND assignee_user_id IS NOT NULL`).length ? true : undefined), 15_000, 'the open waiting ticket assigned');
    const [row] = await e2e.sql<{ assigneeUserId: number | null }[]>`SELECT assignee_user_id FROM ticket WHERE id = ${gone.id}`;
    expect(row!.assigneeUserId).toBeNull();
    const settled = await agreeing(ref);
    expect(settled.members!.find((m) => m.userId === ids.Ana)!.openTickets).toBe(1);
  });

  it('a change is saved and answered when Temporal cannot be reached; one line is logged', async () => {
    const c = await customer();
    const ids = await people([{ name: 'Ana', open: 0 }, { name: 'Bruno', open: 0 }], c);
    const ref = await group(Object.values(ids));
    const lines: string[] = [];
    const stream = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(...chunk.toString().split('\n').filter(Boolean));
        done();
      },
    });
    const connection = Connection.lazy({ address: `127.0.0.1:${await freePort()}`, connectTimeout: 500 });
    const app = await buildApp(
      { sql: e2e.sql, temporal: { client: new Client({ connection }), taskQueue: 'none', mailboxIdleSeconds: 30 }, secrets: testSecrets },
      { logger: { level: 'warn', stream } },
    );
    try {
      const { key } = await createKey(e2e.sql, e2e.api.userIds.admin, `agreement${uniqueSuffix()}`);
      const started = Date.now();
      const res = await app.inject({ method: 'PATCH', url: `/users/${ids.Ana}`, payload: { available: false }, headers: { authorization: `Bearer ${key}` } });
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json()).toMatchObject({ id: ids.Ana, available: false });
      expect(Date.now() - started).toBeLessThan(5_000);
      const [row] = await e2e.sql<{ available: boolean }[]>`SELECT available FROM app_user WHERE id = ${ids.Ana!}`;
      expect(row!.available).toBe(false);
      const told = lines.filter((l) => l.includes('not told'));
      expect(told).toHaveLength(1);
      expect(JSON.parse(told[0]!)).toMatchObject({ level: 40, why: `user ${ids.Ana} paused by admin (user ${e2e.api.userIds.admin}, admin)`, msg: expect.stringContaining(poolKey(ref)) });
    } finally {
      await app.close();
      await connection.close();
    }
    // The workflow was never told, but it loads the pool when it starts.
    expect((await ask(ref, await ticket(c))).userId).toBe(ids.Bruno);
  });
});
