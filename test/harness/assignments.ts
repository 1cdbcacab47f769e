import { expect } from 'vitest';
import type { AssignAnswer } from '../../contracts/assignment.js';
import type { Sql } from '../../db/client.js';
import { eventually } from './fixtures.js';

/**
 * A burst's answers, checked: everyone got someone, the members' shares differ by at most one,
 * and the database ends with exactly the assignee each answer named and one `assigned` event
 * per ticket (the workflow writes behind its answers, so this waits for it).
 */
export async function expectBalancedAndRecorded(sql: Sql, memberIds: number[], answers: AssignAnswer[], timeoutMs = 30_000): Promise<void> {
  expect(answers.every((a) => a.userId !== null)).toBe(true);
  expect(new Set(answers.map((a) => a.ticketId)).size).toBe(answers.length);
  const handed = memberIds.map((id) => answers.filter((a) => a.userId === id).length);
  expect(Math.max(...handed) - Math.min(...handed)).toBeLessThanOrEqual(1);
  const ids = answers.map((a) => a.ticketId);
  await eventually(async () => {
    const [row] = await sql<{ n: number }[]>`SELECT count(*)::int AS n FROM ticket WHERE id IN ${sql(ids)} AND assignee_user_id IS NOT NULL`;
    return row!.n === ids.length ? true : undefined;
  }, timeoutMs, `the ${ids.length} assignments in the database`);
  const rows = await sql<{ id: number; assigneeUserId: number; events: number }[]>`
    SELECT t.id, t.assignee_user_id, (SELECT count(*)::int FROM ticket_event e WHERE e.ticket_id = t.id AND e.kind = 'assigned') AS events
      FROM ticket t WHERE t.id IN ${sql(ids)}`;
  for (const r of rows) {
    expect(r.assigneeUserId).toBe(answers.find((a) => a.ticketId === r.id)!.userId);
    expect(r.events).toBe(1);
  }
}
