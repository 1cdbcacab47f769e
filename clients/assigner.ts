import { WithStartWorkflowOperation, type Client } from '@temporalio/client';
import { ASSIGNER_WORKFLOW, assignUpdate, poolChangedSignal, type AssignAnswer, type AssignRequest } from '../contracts/assignment.js';
import { assignerWorkflowId } from '../contracts/workflow-ids.js';
import { poolKey, type PoolRef } from '../domain/distribution.js';
import type { AssignerInput } from '../workflows/assigner.js';

/**
 * Asks the pool's assignment workflow for an assignee, starting it when it is not running
 * (update-with-start), and waits for the answer. The update id is the ticket's, so a retried
 * request is answered once (and the workflow answers a ticket it has seen with its first answer).
 */
export async function requestAssignment(opts: { client: Client; taskQueue: string; pool: PoolRef; request: AssignRequest; requestsPerRun?: number }): Promise<AssignAnswer> {
  const input: AssignerInput = { pool: opts.pool, ...(opts.requestsPerRun ? { requestsPerRun: opts.requestsPerRun } : {}) };
  return opts.client.workflow.executeUpdateWithStart(assignUpdate, {
    args: [opts.request],
    updateId: `assign-ticket-${opts.request.ticketId}`,
    startWorkflowOperation: new WithStartWorkflowOperation(ASSIGNER_WORKFLOW, {
      workflowId: assignerWorkflowId(poolKey(opts.pool)),
      taskQueue: opts.taskQueue,
      args: [input],
      workflowIdConflictPolicy: 'USE_EXISTING',
      staticSummary: `Assigns the tickets of pool ${poolKey(opts.pool)}, one at a time`,
    }),
  });
}

/** Tells a pool's assignment workflow to reload the pool; nothing to do when it is not running. */
export async function poolChanged(client: Client, pool: PoolRef, why: string): Promise<void> {
  try {
    await client.workflow.getHandle(assignerWorkflowId(poolKey(pool))).signal(poolChangedSignal, { why });
  } catch (err) {
    if ((err as Error).name !== 'WorkflowNotFoundError') throw err;
  }
}
