import { describe, expect, it } from 'vitest';
import { requestAssignment } from '../../clients/assigner.js';
import { poolViewQuery, type AssignAnswer } from '../../contracts/assignment.js';
import { assignerWorkflowId } from '../../contracts/workflow-ids.js';
import { poolKey, type PoolRef } from '../../domain/distribution.js';
import { expectBalancedAndRecorded } from '../harness/assignments.js';
import { useE2E } from '../harness/e2e.js';
import { eventually, uniqueSuffix } from '../harness/fixtures.js';

const e2e = useE2E('assign');

/** A pool of users created through the API in this order (their registration order), each with `open` open tickets. */
async function pool(people: { name: string; open: number }[]): Promise<{ ref: PoolRef; ids: Record<string, number>; customerId: number }> {
  const sfx = uniqueSuffix();
  const post = async (url: string, payload: object) => {
    const res = await e2e.api.as('admin', { method: 'POST', url, payload });
    expect(res.statusCode, res.body).toBe(201);
    return res.json().id as number;
  };
  const ids: Record<string, number> = {};
  for (const p of people) ids[p.name] = await post('/users', { login: `${p.name.normalize('NFD').replace(/[^a-z]/gi, '').toLowerCase()}${sfx}`, name: p.name, role: 'agent' });
  const group = await post('/solution-groups', { name: `Pool${sfx}`, memberIds: Object.values(ids) });
  const region = await post('/regions', { name: `Region${sfx}` });
  const customerId = await post('/customers', { name: `Customer${sfx}`, regionId: region });
  for (const p of people) for (let i = 0; i < p.open; i++) await ticket(customerId, ids[p.name]!);
  return { ref: { kind: 'group', id: group }, ids, customerId };
}

/** A ticket as the e-mail path creates it (the fixture writes it directly; assignment is what is tested). */
async function ticket(customerId: number, assignee: number | null = null): Promise<{ id: number; protocol: string }> {
  const [row] = await e2e.sql<{ id: number; protocol: string }[]>`
    INSERT INTO ticket (protocol, subject, description, customer_id, channel, assignee_user_id)
    VALUES ('1999' || lpad(nextval('protocol_sequence')::text, 8, '0'), 'Assignment test', '-', ${customerId}, 'api', ${assignee})
    RETURNING id, protocol`;
  return row!;
}

const ask = (ref: PoolRef, t: { id: number; protocol: string }, requestsPerRun?: number) =>
  requestAssignment({ client: e2e.client, taskQueue: e2e.taskQueue, pool: ref, request: { ticketId: t.id, protocol: t.protocol }, requestsPerRun });

async function openCounts(ids: Record<string, number>): Promise<Record<string, number>> {
  const rows = await e2e.sql<{ id: number; n: number }[]>`
    SELECT u.id, (SELECT count(*)::int FROM ticket t WHERE t.assignee_user_id = u.id AND t.status IN ('open', 'waiting_customer')) AS n
      FROM app_user u WHERE u.id IN ${e2e.sql(Object.values(ids))}`;
  return Object.fromEntries(Object.entries(ids).map(([name, id]) => [name, rows.find((r) => r.id === id)!.n]));
}

describe('the assignment workflow (SPEC §5) on a real Temporal server', () => {
  it('hands out the seeds\' example exactly: Luis, João, Luis, João, then Luis', async () => {
    // Registered João first, Ana second, Luis third; open tickets João 3, Ana 5, Luis 2.
    const { ref, ids, customerId } = await pool([
      { name: 'João', open: 3 },
      { name: 'Ana', open: 5 },
      { name: 'Luis', open: 2 },
    ]);
    const name = (a: AssignAnswer) => Object.entries(ids).find(([, id]) => id === a.userId)?.[0];
    const four: string[] = [];
    for (let i = 0; i < 4; i++) four.push(name(await ask(ref, await ticket(customerId)))!);
    expect(four).toEqual(['Luis', 'João', 'Luis', 'João']);
    await eventually(async () => { const c = await openCounts(ids); return c.Luis === 4 && c.João === 5 ? true : undefined; }, 10_000, 'the assignments in the database');
    expect(await openCounts(ids)).toEqual({ João: 5, Ana: 5, Luis: 4 });
    const fifth = await ask(ref, await ticket(customerId));
    expect(name(fifth)).toBe('Luis');
    expect(fifth.reason).toMatch(/Luis/);

    // The workflow's view agrees with the database.
    const view = await e2e.client.workflow.getHandle(assignerWorkflowId(poolKey(ref))).query(poolViewQuery);
    expect(Object.fromEntries(view.members!.map((m) => [name({ userId: m.userId } as AssignAnswer), m.openTickets]))).toEqual({ João: 5, Ana: 5, Luis: 5 });
  });

  it('answers a retried request with its first answer, and records who was chosen and why', async () => {
    const { ref, ids, customerId } = await pool([
      { name: 'Bia', open: 0 },
      { name: 'Caio', open: 0 },
    ]);
    const t = await ticket(customerId);
    const first = await ask(ref, t);
    const again = await ask(ref, t);
    expect(again).toEqual(first);
    expect(first.userId).toBe(ids.Bia);
    const [event] = await eventually(async () => {
      const rows = await e2e.sql<{ kind: string; data: { userId: number; reason: string; candidates: unknown[] } }[]>`SELECT kind, data FROM ticket_event WHERE ticket_id = ${t.id}`;
      return rows.length ? rows : undefined;
    }, 10_000, 'the assignment event');
    expect(event).toMatchObject({ kind: 'assigned', data: { userId: ids.Bia, reason: expect.stringMatching(/Bia/), candidates: expect.any(Array) } });
  });

  it('a pool of 50 continues as new after 700 answers (each lists every candidate), and a request retried after it gets its first answer', { timeout: 120_000 }, async () => {
    // 700 full answers of a 50-member pool are ~2.4 MB: handed on as they were, they passed the
    // 2 MB a payload may have and the continue-as-new failed, over and over.
    const people = Array.from({ length: 50 }, (_, i) => ({ name: `Member${String.fromCharCode(65 + (i % 26))}${String.fromCharCode(65 + Math.floor(i / 26))}`, open: 0 }));
    const { ref, customerId } = await pool(people);
    const tickets = await Promise.all(Array.from({ length: 700 }, () => ticket(customerId)));
    const answers = await Promise.all(tickets.map((t) => ask(ref, t, 700)));
    const handle = e2e.client.workflow.getHandle(assignerWorkflowId(poolKey(ref)));
    await eventually(async () => ((await e2e.client.workflow.count(`WorkflowId = '${handle.workflowId}'`)).count > 1 ? true : undefined), 30_000, 'the continue-as-new');
    const first = answers[0]!;
    expect(first.userId === null ? [] : first.candidates).toHaveLength(50);
    const again = await ask(ref, tickets[0]!, 700);
    expect(again).toEqual(first);
    const [row] = await e2e.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM ticket_event WHERE ticket_id = ${tickets[0]!.id} AND kind = 'assigned'`;
    expect(row!.n).toBe(1);
    // The new run decided nothing for it and counts each of the 700 once.
    const view = await handle.query(poolViewQuery);
    expect(view.decisionsThisRun).toBe(0);
    expect(view.members!.map((m) => m.openTickets)).toEqual(Array.from({ length: 50 }, () => 14));
  });

  for (const [title, requestsPerRun] of [
    ['300 tickets at once into 7 equally loaded agents end balanced, each assigned once, the database agreeing', undefined],
    ['the same across continue-as-new forced in the middle of the burst', 120],
  ] as const) {
    it(title, { timeout: 120_000 }, async () => {
      const people = ['A', 'B', 'C', 'D', 'E', 'F', 'G'].map((name) => ({ name: `Agent${name}`, open: 2 }));
      const { ref, ids, customerId } = await pool(people);
      const tickets = await Promise.all(Array.from({ length: 300 }, () => ticket(customerId)));
      const answers = await Promise.all(tickets.map((t) => ask(ref, t, requestsPerRun)));

      await expectBalancedAndRecorded(e2e.sql, Object.values(ids), answers);
      const counts = Object.values(await openCounts(ids));
      expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
      const handle = e2e.client.workflow.getHandle(assignerWorkflowId(poolKey(ref)));
      const view = await handle.query(poolViewQuery);
      expect(view.members!.map((m) => m.openTickets).sort()).toEqual(counts.sort());
      if (requestsPerRun) {
        const { count } = await e2e.client.workflow.count(`WorkflowId = '${assignerWorkflowId(poolKey(ref))}'`);
        expect(count).toBeGreaterThan(1);
      }
    });
  }
});
