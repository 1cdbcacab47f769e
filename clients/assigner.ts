import { WithStartWorkflowOperation, type Client } from '@temporalio/client';
import { ASSIGNER_WORKFLOW, assignUpdate, poolChangedSignal, type AssignAnswer, type AssignRequest } from '../contracts/assignment.js';
import { assignerWorkflowId } from '../contracts/workflow-ids.js';
import type { Queryable } from '../db/client.js';
import { poolsOfUser } from '../db/pools.js';
import { ticketAssignee } from '../db/tickets.js';
import { poolKey, type PoolRef } from '../domain/distribution.js';
import type { AssignerInput } from '../workflows/assigner.js';

/**
 * The server admits at most this many updates in flight (accepted, not yet completed) per
 * workflow execution (`history.maxInFlightUpdates`, 10 by default, also on Temporal Cloud).
 * Past it an update is refused with RESOURCE_EXHAUSTED, and the SDK retries it after 1 s, then
 * 1.7 s, ... up to 10 times: 1,000 requests fired at once into one workflow end, after a
 * minute, with about nine in ten failed (bench/assign.ts --naive), where keeping exactly this
 * many in flight serves them all at the engine's pace.
 */
export const MAX_IN_FLIGHT_UPDATES = 10;

interface Gate {
  running: number;
  queue: (() => void)[];
}
const gates = new Map<string, Gate>();

/**
 * Runs `send` (an update to `workflowId`) once fewer than `limit` of this process's updates to
 * that workflow are in flight; the others wait their turn in the order they came (oldest
 * ticket first). Per process: several processes asking the same pool at once can still go
 * past the server's limit, and those updates take the SDK's retries.
 */
export async function withUpdateSlot<T>(workflowId: string, send: () => Promise<T>, limit = MAX_IN_FLIGHT_UPDATES): Promise<T> {
  const gate = gates.get(workflowId) ?? { running: 0, queue: [] };
  gates.set(workflowId, gate);
  if (gate.running < limit) gate.running++;
  else await new Promise<void>((resolve) => gate.queue.push(resolve));
  try {
    return await send();
  } finally {
    const next = gate.queue.shift();
    // The slot passes to the next in line; the last one out removes the gate.
    if (next) next();
    else if (--gate.running === 0) gates.delete(workflowId);
  }
}

/**
 * Asks the pool's assignment workflow for an assignee, starting it when it is not running
 * (update-with-start), and waits for the answer. The update id is the ticket's, so a retried
 * request is answered once (and the workflow answers a ticket it has seen with its first answer).
 * At most `MAX_IN_FLIGHT_UPDATES` requests of this process are in flight per pool.
 */
export async function requestAssignment(opts: { client: Client; taskQueue: string; pool: PoolRef; request: AssignRequest; requestsPerRun?: number }): Promise<AssignAnswer> {
  const input: AssignerInput = { pool: opts.pool, ...(opts.requestsPerRun ? { requestsPerRun: opts.requestsPerRun } : {}) };
  const workflowId = assignerWorkflowId(poolKey(opts.pool));
  return withUpdateSlot(workflowId, () =>
    opts.client.workflow.executeUpdateWithStart(assignUpdate, {
      args: [opts.request],
      updateId: `assign-ticket-${opts.request.ticketId}`,
      startWorkflowOperation: new WithStartWorkflowOperation(ASSIGNER_WORKFLOW, {
        workflowId,
        taskQueue: opts.taskQueue,
        args: [input],
        workflowIdConflictPolicy: 'USE_EXISTING',
        staticSummary: `Assigns the tickets of pool ${poolKey(opts.pool)}, one at a time`,
      }),
    }),
  );
}

/** Tells a pool's assignment workflow to reload the pool; nothing to do when it is not running. */
export async function poolChanged(client: Client, pool: PoolRef, why: string): Promise<void> {
  try {
    await client.workflow.getHandle(assignerWorkflowId(poolKey(pool))).signal(poolChangedSignal, { why });
  } catch (err) {
    if ((err as Error).name !== 'WorkflowNotFoundError') throw err;
  }
}

/** How long telling the pools of a change may take before it counts as failed (Temporal down). */
const TELL_POOLS_MS = 2_000;

/** Raised by `poolsChanged` when some pools could not be told (Temporal did not answer in time). */
export class PoolsNotTold extends Error {
  constructor(
    readonly pools: PoolRef[],
    readonly causes: unknown[],
  ) {
    super(`could not tell the assignment workflows of ${pools.map(poolKey).join(', ')} that their pool changed: ${causes.map((c) => (c as Error)?.message ?? String(c)).join('; ')}`);
    this.name = 'PoolsNotTold';
  }
}

/** The pools once each (by key), in the order first seen. */
export function distinctPools(pools: readonly PoolRef[]): PoolRef[] {
  const seen = new Map<string, PoolRef>();
  for (const p of pools) if (!seen.has(poolKey(p))) seen.set(poolKey(p), p);
  return [...seen.values()];
}

/**
 * `poolChanged` for each pool (once each, at the same time), within a deadline: the change is
 * already saved, so a Temporal that does not answer must not hold the caller for long. Throws
 * `PoolsNotTold` naming the pools that were not told; the others were.
 */
export async function poolsChanged(client: Client, pools: readonly PoolRef[], why: string, timeoutMs = TELL_POOLS_MS): Promise<void> {
  const distinct = distinctPools(pools);
  const results = await client.withDeadline(Date.now() + timeoutMs, () => Promise.allSettled(distinct.map((p) => poolChanged(client, p, why))));
  const failed = distinct.filter((_, i) => results[i]!.status === 'rejected');
  if (failed.length) throw new PoolsNotTold(failed, results.flatMap((r) => (r.status === 'rejected' ? [r.reason] : [])));
}

/**
 * A ticket's load changed (resolved, closed, cancelled, reopened, reassigned): tells every pool
 * its assignee is in, since the assignee's open tickets count in each (SPEC §5). Call it after
 * the change is saved. For a reassignment, also name the former assignee, whose pools lost the
 * ticket. Nothing to tell for a ticket without an assignee (and none former).
 */
export async function ticketLoadChanged(client: Client, sql: Queryable, ticketId: number, why: string, formerAssigneeId?: number | null): Promise<void> {
  const users = [await ticketAssignee(sql, ticketId), formerAssigneeId].filter((u): u is number => typeof u === 'number');
  const pools = (await Promise.all([...new Set(users)].map((u) => poolsOfUser(sql, u)))).flat();
  await poolsChanged(client, pools, why);
}
