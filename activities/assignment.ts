import type { AssignAnswer, AssignRequest } from '../contracts/assignment.js';
import type { Sql } from '../db/client.js';
import { loadPool } from '../db/pools.js';
import { recordAssignments, recordedAssignment } from '../db/tickets.js';
import type { Assignment, PoolMember, PoolRef } from '../domain/distribution.js';

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

    /**
     * The answer given to a ticket in an earlier run of the pool's workflow, as its timeline
     * recorded it (that run wrote every decision before it continued as new): a retried request
     * gets it again instead of a second decision.
     */
    async answerGiven(given: AssignRequest & { userId: number | null }): Promise<AssignAnswer> {
      const { ticketId, protocol, userId } = given;
      const data = (await recordedAssignment(sql, ticketId, userId)) as Partial<Assignment> | undefined;
      const reason = data?.reason ?? 'decided before; its explanation was not recorded (the ticket had an assignee already)';
      const skipped = data?.skipped ?? [];
      if (userId === null) return { userId, reason, skipped, ticketId, protocol, waiting: true };
      return { userId, reason, candidates: data?.candidates ?? [], skipped, pauseIgnored: data?.pauseIgnored ?? false, ticketId, protocol, waiting: false };
    },
  };
}
