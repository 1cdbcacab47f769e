import type { AssignAnswer } from '../contracts/assignment.js';
import type { Sql } from '../db/client.js';
import { loadPool } from '../db/pools.js';
import { recordAssignments } from '../db/tickets.js';
import type { PoolMember, PoolRef } from '../domain/distribution.js';

export function createAssignmentActivities(deps: { sql: Sql }) {
  const { sql } = deps;
  return {
    /** The pool's members and their open tickets, as the database has them now. */
    async loadPool(pool: PoolRef): Promise<PoolMember[]> {
      return loadPool(sql, pool);
    },

    /** Writes a batch of the assignment workflow's decisions (idempotent). */
    async recordAssignments(answers: AssignAnswer[]): Promise<void> {
      await recordAssignments(
        sql,
        answers.map(({ ticketId, protocol: _p, waiting: _w, userId, reason, ...detail }) => ({ ticketId, userId, reason, detail })),
      );
    },
  };
}
