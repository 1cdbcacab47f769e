import { allHandlersFinished, condition, continueAsNew, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import { assignUpdate, poolChangedSignal, poolViewQuery, type AssignAnswer, type AssignRequest } from '../contracts/assignment.js';
import { pickAssignee, withOneMoreTicket, type PoolMember, type PoolRef } from '../domain/distribution.js';

/** What one run hands to the next (plain JSON). */
export interface AssignerState {
  /** The pool as last loaded from the database, with the decisions since counted in. */
  members: PoolMember[] | null;
  /** Recent answers by ticket: a retried request gets the first answer, across runs too. */
  answers: AssignAnswer[];
  /** Answers not yet written to the database. */
  pending: AssignAnswer[];
  /** Tickets that found nobody to take them, oldest first. */
  waiting: AssignRequest[];
}

export interface AssignerInput {
  pool: PoolRef;
  state?: AssignerState;
  /** Requests answered before continue-as-new (tests force it low); the server allows 2,000 updates a run. */
  requestsPerRun?: number;
}

const ANSWERS_KEPT = 2_000;
const REQUESTS_PER_RUN = 1_000;
const WRITE_BATCH = 200;

const act = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

/**
 * `assigner:<pool>` (SPEC §5): the one place where a pool's tickets get their assignee. It
 * decides one request at a time from its own running counts, so no two tickets see the same
 * stale load; it writes its decisions to the database itself (in batches, behind the answers)
 * and reloads the pool from the database when told the pool changed, after writing what it
 * decided, so its counts and the database's agree.
 */
export async function assignPool(input: AssignerInput): Promise<never> {
  const state: AssignerState = input.state ?? { members: null, answers: [], pending: [], waiting: [] };
  let reload = state.members === null;
  let loading = false;
  let decisions = 0;
  let handled = 0;

  setHandler(poolViewQuery, () => ({ pool: input.pool, members: state.members, waiting: state.waiting, decisionsThisRun: decisions, pendingWrites: state.pending.length }));
  setHandler(poolChangedSignal, () => {
    reload = true;
  });

  const decide = (req: AssignRequest): AssignAnswer => {
    const decision = pickAssignee(state.members ?? []);
    const answer: AssignAnswer = { ...decision, ticketId: req.ticketId, protocol: req.protocol, waiting: decision.userId === null };
    if (decision.userId !== null) state.members = withOneMoreTicket(state.members ?? [], decision.userId);
    decisions++;
    state.pending.push(answer);
    return answer;
  };
  /** The latest answer per ticket (a waiting ticket's answer is replaced once it is assigned). */
  const remember = (answer: AssignAnswer) => {
    const at = state.answers.findIndex((a) => a.ticketId === answer.ticketId);
    if (at >= 0) state.answers.splice(at, 1);
    state.answers.push(answer);
    if (state.answers.length > ANSWERS_KEPT) state.answers.splice(0, state.answers.length - ANSWERS_KEPT);
  };

  setHandler(
    assignUpdate,
    async (req) => {
      handled++;
      await condition(() => !reload && !loading);
      // Everything from here on is synchronous: no other request runs in between.
      const before = state.answers.find((a) => a.ticketId === req.ticketId);
      if (before) return before;
      const answer = decide(req);
      if (answer.waiting) state.waiting.push(req);
      remember(answer);
      return answer;
    },
    {
      validator: (req) => {
        if (!Number.isSafeInteger(req?.ticketId) || req.ticketId < 1) throw new Error('ticketId must be a positive whole number');
      },
    },
  );

  for (;;) {
    const limit = input.requestsPerRun ?? REQUESTS_PER_RUN;
    await condition(() => reload || state.pending.length > 0 || handled >= limit || workflowInfo().continueAsNewSuggested);
    if (state.pending.length > 0) {
      // What was decided reaches the database before anything is reloaded from it.
      const batch = state.pending.slice(0, WRITE_BATCH);
      await act.recordAssignments(batch);
      // Only what was written: more decisions may have joined the queue meanwhile.
      state.pending.splice(0, batch.length);
      continue;
    }
    if (reload) {
      loading = true;
      reload = false;
      state.members = await act.loadPool(input.pool);
      loading = false;
      // Waiting tickets first, oldest first, now that someone may take them.
      const waiting = state.waiting.splice(0);
      for (const req of waiting) {
        const answer = decide(req);
        if (answer.waiting) {
          // Still nobody: it keeps its place, and its waiting was recorded the first time.
          state.pending.pop();
          decisions--;
          state.waiting.push(req);
        } else remember(answer);
      }
      continue;
    }
    // Continue-as-new: answer what was asked, write what was decided, hand the state on.
    await condition(allHandlersFinished);
    if (state.pending.length > 0) continue;
    return continueAsNew<typeof assignPool>({ pool: input.pool, state, requestsPerRun: input.requestsPerRun });
  }
}
