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
