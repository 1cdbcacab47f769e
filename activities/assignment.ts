import { getClient } from '@temporalio/activity';
import { WorkflowNotFoundError } from '@temporalio/common';
import type { AssignAnswer, AssignRequest } from '../contracts/assignment.js';
import { assignedSignal } from '../contracts/ticket.js';
import { ticketWorkflowId } from '../contracts/workflow-ids.js';
import type { Sql } from '../db/client.js';
import { loadPool } from '../db/pools.js';
import { userLogins } from '../db/users.js';
import { recordAssignments, recordedAssignment } from '../db/tickets.js';
import type { Assignment, PoolMember, PoolRef } from '../domain/distribution.js';

export function createAssignmentActivities(deps: { sql: Sql }) {
  const { sql } = deps;
  return {
    /** The pool's members and their open tickets, as the database has them now. */
    async loadPool(pool: PoolRef): Promise<PoolMember[]> {
      return loadPool(sql, pool);
    },

    /**
     * Writes a batch of the assignment workflow's decisions (idempotent), then tells the
     * tickets' workflows who took them (a ticket whose workflow has not started yet reads its
     * assignee when it starts).
     */
    async recordAssignments(answers: AssignAnswer[]): Promise<void> {
      await recordAssignments(
        sql,
        answers.map(({ ticketId, protocol: _p, waiting: _w, userId, reason, ...detail }) => ({ ticketId, userId, reason, detail })),
      );
      const assigned = answers.filter((a) => a.userId !== null);
      if (assigned.length === 0) return;
      const logins = new Map((await userLogins(sql, assigned.map((a) => a.userId!))).map((u) => [u.id, u.login]));
      const client = getClient();
      await Promise.all(
        assigned.map((a) =>
          client.workflow
            .getHandle(ticketWorkflowId(a.protocol))
            .signal(assignedSignal, { userId: a.userId!, login: logins.get(a.userId!) ?? String(a.userId) })
            .catch((err) => {
              if (!(err instanceof WorkflowNotFoundError)) throw err;
            }),
        ),
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
