import type postgres from 'postgres';
import type { Solution, SolutionCreate, SolutionListQuery, SolutionStepInput, SolutionUpdate } from '../schemas/solutions.js';
import { inTransaction, type Queryable } from './client.js';
import { containing, defined, toPage, where, type Page } from './crud.js';

/** A solution row with its steps in flow order: the row is the entity. */
const select = (sql: Queryable) => sql`
  SELECT s.id, s.occurrence_id, s.name, s.flow,
         COALESCE((SELECT json_agg(json_build_object('position', st.position, 'name', st.name, 'sectorId', st.sector_id,
                                                     'slaValue', st.sla_value, 'slaUnit', st.sla_unit) ORDER BY st.position)
                     FROM solution_step st WHERE st.solution_id = s.id), '[]') AS steps,
         s.created_at
    FROM solution s`;

/** The steps of a solution, numbered 1..n in the order given. */
async function writeSteps(tx: postgres.TransactionSql, solutionId: number, steps: SolutionStepInput[]): Promise<void> {
  const rows = steps.map((s, i) => ({ solutionId, position: i + 1, name: s.name, sectorId: s.sectorId, slaValue: s.slaValue ?? null, slaUnit: s.slaUnit ?? null }));
  await tx`INSERT INTO solution_step ${tx(rows, 'solutionId', 'position', 'name', 'sectorId', 'slaValue', 'slaUnit')}`;
}

/** Solutions and their ordered steps (SPEC §3): a solution and its steps are written in one transaction. */
export const solutions = {
  async list(sql: Queryable, q: SolutionListQuery): Promise<Page<Solution>> {
    const conditions = [
      q.occurrenceId !== undefined && sql`s.occurrence_id = ${q.occurrenceId}`,
      q.flow !== undefined && sql`s.flow = ${q.flow}`,
      q.name !== undefined && sql`s.name ILIKE ${containing(q.name)}`,
      q.after !== undefined && sql`s.id > ${q.after}`,
    ];
    const rows = await sql<Solution[]>`${select(sql)} WHERE ${where(sql, conditions)} ORDER BY s.id LIMIT ${q.limit + 1}`;
    return toPage(rows, q.limit);
  },

  async get(sql: Queryable, id: number): Promise<Solution | undefined> {
    const [row] = await sql<Solution[]>`${select(sql)} WHERE s.id = ${id}`;
    return row;
  },

  create(sql: Queryable, input: SolutionCreate): Promise<Solution> {
    return inTransaction(sql, async (tx) => {
      const [row] = await tx<{ id: number }[]>`
        INSERT INTO solution ${tx({ occurrenceId: input.occurrenceId, name: input.name, flow: input.flow })} RETURNING id`;
      await writeSteps(tx, row!.id, input.steps);
      return (await solutions.get(tx, row!.id))!;
    });
  },

  /** Changes the fields given; `steps`, when given, replaces the whole list. */
  update(sql: Queryable, id: number, patch: SolutionUpdate): Promise<Solution | undefined> {
    const { steps, occurrenceId: _fixed, ...fields } = patch;
    const values = defined(fields);
    return inTransaction(sql, async (tx) => {
      // The row is locked either way, so two replacements of the steps never interleave.
      const [row] =
        Object.keys(values).length > 0
          ? await tx`UPDATE solution SET ${tx(values)} WHERE id = ${id} RETURNING id`
          : await tx`SELECT id FROM solution WHERE id = ${id} FOR UPDATE`;
      if (!row) return undefined;
      if (steps) {
        await tx`DELETE FROM solution_step WHERE solution_id = ${id}`;
        await writeSteps(tx, id, steps);
      }
      return solutions.get(tx, id);
    });
  },

  /** Its steps go with it; a solution a mailbox names raises the database's 23503. */
  async remove(sql: Queryable, id: number): Promise<boolean> {
    const rows = await sql`DELETE FROM solution WHERE id = ${id} RETURNING id`;
    return rows.length > 0;
  },
};
