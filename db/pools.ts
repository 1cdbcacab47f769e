import type { PoolMember, PoolRef } from '../domain/distribution.js';
import { OPEN_TICKET_STATUSES } from '../domain/distribution.js';
import type { Queryable } from './client.js';

/**
 * A distribution pool (SPEC §5) as the database has it: the members of a solution group or the
 * users of a sector, each with its registration order, flags and open tickets (not resolved,
 * closed or cancelled, across every channel).
 */
export async function loadPool(sql: Queryable, pool: PoolRef): Promise<PoolMember[]> {
  const members =
    pool.kind === 'group'
      ? sql`SELECT user_id FROM solution_group_member WHERE solution_group_id = ${pool.id}`
      : sql`SELECT user_id FROM user_sector WHERE sector_id = ${pool.id}`;
  return sql<PoolMember[]>`
    SELECT u.id AS user_id, u.name, u.registration_order, u.active, u.available,
           (SELECT count(*)::int FROM ticket t WHERE t.assignee_user_id = u.id AND t.status IN ${sql([...OPEN_TICKET_STATUSES])}) AS open_tickets
      FROM app_user u
     WHERE u.id IN (${members})
     ORDER BY u.registration_order`;
}

/**
 * Every pool a user is in (SPEC §5): each solution group they are a member of and each sector
 * they belong to, groups first, each in id order. A change to a user (or to one of their
 * tickets) changes the counts of all of these pools; read it before and after a change to a
 * user and tell the union, so a pool the user left hears of it too.
 */
export async function poolsOfUser(sql: Queryable, userId: number): Promise<PoolRef[]> {
  const rows = await sql<{ kind: 'group' | 'sector'; id: number }[]>`
    SELECT 'group' AS kind, solution_group_id AS id FROM solution_group_member WHERE user_id = ${userId}
    UNION ALL
    SELECT 'sector' AS kind, sector_id AS id FROM user_sector WHERE user_id = ${userId}
    ORDER BY kind, id`;
  return rows.map((r) => ({ kind: r.kind, id: r.id }));
}
