import type { SolutionGroup, SolutionGroupCreate, SolutionGroupListQuery, SolutionGroupUpdate } from '../schemas/solution-groups.js';
import { inTransaction, type Queryable } from './client.js';
import { containing, defined, toPage, where, type Page } from './crud.js';

/**
 * Solution groups with their members (solution_group_member, written in the same
 * transaction and read back as `memberIds`, so a row is the entity).
 */

const SELECT = (sql: Queryable) => sql`
  SELECT g.id, g.name,
         COALESCE((SELECT array_agg(m.user_id ORDER BY m.user_id) FROM solution_group_member m WHERE m.solution_group_id = g.id), '{}') AS member_ids,
         g.created_at
    FROM solution_group g`;

async function writeMembers(tx: Queryable, groupId: number, memberIds: number[] | undefined, replace: boolean): Promise<void> {
  if (memberIds === undefined) return;
  if (replace) await tx`DELETE FROM solution_group_member WHERE solution_group_id = ${groupId}`;
  if (memberIds.length === 0) return;
  await tx`
    INSERT INTO solution_group_member (solution_group_id, user_id)
    SELECT ${groupId}, unnest(${tx.array(memberIds)}::bigint[])
    ON CONFLICT DO NOTHING`;
}

export const solutionGroups = {
  async list(sql: Queryable, q: SolutionGroupListQuery): Promise<Page<SolutionGroup>> {
    const rows = await sql<SolutionGroup[]>`
      ${SELECT(sql)}
       WHERE ${where(sql, [
         q.name !== undefined && sql`g.name ILIKE ${containing(q.name)}`,
         q.memberId !== undefined && sql`EXISTS (SELECT 1 FROM solution_group_member m WHERE m.solution_group_id = g.id AND m.user_id = ${q.memberId})`,
         q.after !== undefined && sql`g.id > ${q.after}`,
       ])}
       ORDER BY g.id LIMIT ${q.limit + 1}`;
    return toPage(rows, q.limit);
  },

  async get(sql: Queryable, id: number): Promise<SolutionGroup | undefined> {
    const [row] = await sql<SolutionGroup[]>`${SELECT(sql)} WHERE g.id = ${id}`;
    return row;
  },

  async create(sql: Queryable, input: SolutionGroupCreate): Promise<SolutionGroup> {
    const { memberIds, ...columns } = defined(input);
    return inTransaction(sql, async (tx) => {
      const [row] = await tx<{ id: number }[]>`INSERT INTO solution_group ${tx(columns as Record<string, unknown>)} RETURNING id`;
      await writeMembers(tx, row!.id, memberIds, false);
      return (await solutionGroups.get(tx, row!.id))!;
    });
  },

  /** `memberIds` replaces the whole list. */
  async update(sql: Queryable, id: number, patch: SolutionGroupUpdate): Promise<SolutionGroup | undefined> {
    const { memberIds, ...columns } = defined(patch);
    return inTransaction(sql, async (tx) => {
      const [row] = Object.keys(columns).length
        ? await tx`UPDATE solution_group SET ${tx(columns as Record<string, unknown>)} WHERE id = ${id} RETURNING id`
        : await tx`SELECT id FROM solution_group WHERE id = ${id} FOR UPDATE`;
      if (!row) return undefined;
      await writeMembers(tx, id, memberIds, true);
      return solutionGroups.get(tx, id);
    });
  },

  /** False when there was nothing to delete; a group an occurrence (type) names raises the database's 23503. Members go with it. */
  async remove(sql: Queryable, id: number): Promise<boolean> {
    const rows = await sql`DELETE FROM solution_group WHERE id = ${id} RETURNING id`;
    return rows.length > 0;
  },
};
