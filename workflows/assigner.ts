import { allHandlersFinished, condition, continueAsNew, patched, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import { assignUpdate, poolChangedSignal, poolViewQuery, type AssignAnswer, type AssignRequest } from '../contracts/assignment.js';
import { pickAssignee, withOneMoreTicket, type PoolMember, type PoolRef } from '../domain/distribution.js';

/** What one run hands to the next (plain JSON). */
export interface AssignerState {
  /** The pool as last loaded from the database, with the decisions since counted in. */
  members: PoolMember[] | null;
  /**
   * Answers in full, by ticket. A run hands on none (see `answered`); a run that an earlier
   * version of this code continued hands on its recent answers here, and they count as this
   * run's.
   */
  answers: AssignAnswer[];
  /**
   * The tickets answered in earlier runs, oldest first, as [ticket id, user id or null while it
   * waits]: a retried request gets its first answer, read back from the ticket's timeline (every
   * decision is written before a run continues as new). A few bytes a ticket, where a full
   * answer lists every candidate: a thousand of them for a pool of 50 passed the 2 MB a payload
   * may have, and the continue-as-new failed.
   */
  answered?: [number, number | null][];
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
/** Histories before this replay without the reload that follows handing out waiting tickets. */
const RELOAD_AFTER_WAITING = 'reload-after-waiting';
const WRITE_BATCH = 200;
/** An activity's input stays well under the 2 MB a payload may have, whatever the pool's size. */
const WRITE_BATCH_CHARS = 512 * 1024;

/** The first pending answers, up to WRITE_BATCH of them and WRITE_BATCH_CHARS of JSON (at least one). */
function nextBatch(pending: AssignAnswer[]): AssignAnswer[] {
  let chars = 0;
  let n = 0;
  while (n < pending.length && n < WRITE_BATCH) {
    chars += JSON.stringify(pending[n]).length;
    if (n > 0 && chars > WRITE_BATCH_CHARS) break;
    n++;
  }
  return pending.slice(0, n);
}

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
  /** This run's answers by ticket, the latest last. */
  const answers = new Map(state.answers.map((a) => [a.ticketId, a]));
  /** Earlier runs' answers by ticket (see AssignerState.answered). */
  const earlier = new Map(state.answered ?? []);
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
    answers.delete(answer.ticketId);
    answers.set(answer.ticketId, answer);
    if (answers.size > ANSWERS_KEPT) answers.delete(answers.keys().next().value!);
  };
  /** What the next run gets: every answer as [ticket, user], the latest ANSWERS_KEPT. */
  const handOn = (): AssignerState => {
    const all = new Map(earlier);
    for (const a of answers.values()) {
      all.delete(a.ticketId);
      all.set(a.ticketId, a.userId);
    }
    return { members: state.members, answers: [], answered: [...all].slice(-ANSWERS_KEPT), pending: state.pending, waiting: state.waiting };
  };

  setHandler(
    assignUpdate,
    async (req) => {
      handled++;
      if (reload || loading) await condition(() => !reload && !loading);
      // From here to the decision nothing awaits: no other request runs in between.
      const before = answers.get(req.ticketId);
      if (before) return before;
      // Answered in an earlier run: the first answer again, from the ticket's timeline.
      if (earlier.has(req.ticketId)) return act.answerGiven({ ...req, userId: earlier.get(req.ticketId) ?? null });
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
      const batch = nextBatch(state.pending);
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
      let handedOut = 0;
      for (const req of waiting) {
        const answer = decide(req);
        if (answer.waiting) {
          // Still nobody: it keeps its place, and its waiting was recorded the first time.
          state.pending.pop();
          decisions--;
          state.waiting.push(req);
        } else {
          remember(answer);
          handedOut++;
        }
      }
      // A waiting ticket may have been closed meanwhile (then it is not assigned): once these
      // are written, the counts come from the database again.
      if (handedOut > 0 && patched(RELOAD_AFTER_WAITING)) reload = true;
      continue;
    }
    // Continue-as-new: answer what was asked, write what was decided, hand the state on.
    await condition(allHandlersFinished);
    if (state.pending.length > 0) continue;
    return continueAsNew<typeof assignPool>({ pool: input.pool, state: handOn(), requestsPerRun: input.requestsPerRun });
  }
}
