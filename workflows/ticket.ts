import {
  allHandlersFinished,
  ApplicationFailure,
  condition,
  continueAsNew,
  log,
  ParentClosePolicy,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setCurrentDetails,
  setHandler,
  startChild,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { Activities } from '../activities/index.js';
import type { StepColumns, StepSnapshot, TicketColumns, TicketEvent, TicketSnapshot } from '../activities/lifecycle.js';
import { ACTION_REJECTED, TICKET_LOADING } from '../contracts/failures.js';
import { Assignee, Protocol, SectorId, SlaState, TicketStatus as TicketStatusKey } from '../contracts/search-attributes.js';
import {
  actorName,
  assignedSignal,
  changeStatusUpdate,
  completeStepUpdate,
  moveStepUpdate,
  reassignUpdate,
  reclassifyUpdate,
  replyReceivedSignal,
  slaSourcesChangedSignal,
  switchFlowUpdate,
  ticketViewQuery,
  type Actor,
  type StepView,
  type TicketInput,
  type TicketView,
} from '../contracts/ticket.js';
import { alertWorkflowId } from '../contracts/workflow-ids.js';
import { autoCloseAt } from '../domain/auto-close.js';
import { isOpenStatus } from '../domain/distribution.js';
import { clockDueAt, clockState, markFired, nextThreshold, pauseClock, replanClock, resumeClock, startClock, type SlaClock, type SlaPlan } from '../domain/sla-clock.js';
import { FINAL_STATUSES, slaClockRuns, transitionProblem, type TicketStatus } from '../domain/ticket-status.js';

const retry = { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' } as const;
const remote = proxyActivities<Activities>({ startToCloseTimeout: '1 minute', retry });
/**
 * The ticket's reads and writes are short database calls, keyed so that running one twice does
 * no harm: as local activities they run inside the workflow task that asks for them (a marker in
 * the history instead of a task round trip through the server), which is what lets one worker
 * hold thousands of open tickets whose timers fire together (bench/sla.ts).
 */
const local = proxyLocalActivities<Activities>({ startToCloseTimeout: '1 minute', retry });
/** Runs from before it (stored histories) keep their remote activities and every search attribute on every write. */
export const LOCAL_ACTIVITIES_PATCH = 'ticket-local-activities';
/** Runs from before it write a threshold's firing and the ticket's change for it in two activities. */
export const ONE_WRITE_PER_ALERT_PATCH = 'ticket-one-write-per-alert';
/** Runs from before it leave a resolved ticket resolved until someone closes it. */
export const AUTO_CLOSE_PATCH = 'ticket-auto-close';

interface StepState extends Omit<StepSnapshot, 'plan'> {
  plan: SlaPlan | null;
  clock: SlaClock | null;
}

/** What a run hands to the next (plain JSON). */
export interface TicketState extends Pick<TicketSnapshot, 'ticketId' | 'protocol' | 'status' | 'assigneeUserId' | 'assigneeLogin' | 'sectorId' | 'createdAt' | 'hasAlternative'> {
  clock: SlaClock | null;
  steps: StepState[];
  /** Alert keys that fired (`sla:50`, `step:12:100`, `pool_empty`). */
  firedKeys: string[];
  /** Numbers this chain of runs' changes, for their idempotency keys. */
  seq: number;
  /** When the ticket was resolved, while it is (runs that close resolved tickets by themselves). */
  resolvedAt?: string | null;
  /** Its mailbox's `closeResolvedAfterHours` as last read (null: never). */
  closeResolvedAfterHours?: number | null;
}

/** Events a run takes before it hands on (the server suggests 4,096 at most). */
const EVENTS_PER_RUN = 2_000;

const reject = (message: string) => ApplicationFailure.create({ type: ACTION_REJECTED, message, nonRetryable: true });

/**
 * Validators run before the ticket is loaded only in the workflow's first moments (its handlers
 * are registered before it reads the ticket, as updates must be): such an update is refused,
 * leaving no trace, and the sender asks again (clients/ticket.ts).
 */
function validate(st: TicketState | undefined, problem: (st: TicketState) => string | undefined): void {
  if (!st) throw ApplicationFailure.create({ type: TICKET_LOADING, message: 'the ticket is still loading; ask again in a moment', nonRetryable: true });
  rejectIf(problem(st));
}

const now = () => new Date(Date.now());

/** The fired thresholds of one scope, from the alert keys (`sla:50` → 50 for scope `sla`). */
function firedIn(keys: readonly string[], scope: string): number[] {
  return keys.filter((k) => k.startsWith(`${scope}:`)).map((k) => Number(k.slice(scope.length + 1)));
}

/** Where a clock stood when the workflow last wrote it. */
interface SavedClock {
  slaUsedMs: number;
  slaRunningSince: string | null;
}

/**
 * A clock from its plan, counting from `since` (the ticket's creation, the step's activation).
 * Restored as last written when it was (pauses included); else started at `since` and, when
 * the clock does not run now, paused at `pausedAt`.
 */
function clockFrom(plan: SlaPlan | null, since: string | null, fired: number[], pausedAt: Date | null, saved?: SavedClock): SlaClock | null {
  if (!plan || !since) return null;
  const clock = startClock(plan, new Date(since), fired);
  if (saved && (saved.slaUsedMs > 0 || saved.slaRunningSince !== null)) {
    const restored = { ...clock, consumedMs: saved.slaUsedMs, runningSince: saved.slaRunningSince };
    return pausedAt ? pauseClock(restored, pausedAt) : restored.runningSince === null ? resumeClock(restored, now()) : restored;
  }
  return pausedAt ? pauseClock(clock, pausedAt) : clock;
}

function initialState(t: TicketSnapshot, autoClose: boolean): TicketState {
  const pausedAt = slaClockRuns(t.status) ? null : new Date(t.slaPausedAt ?? t.createdAt);
  return {
    ticketId: t.ticketId,
    protocol: t.protocol,
    status: t.status,
    assigneeUserId: t.assigneeUserId,
    assigneeLogin: t.assigneeLogin,
    sectorId: t.sectorId,
    createdAt: t.createdAt,
    clock: clockFrom(t.plan, t.createdAt, firedIn(t.firedKeys, 'sla'), pausedAt, t),
    steps: t.steps.map((st) => stepState(st, t.firedKeys, pausedAt)),
    hasAlternative: t.hasAlternative,
    firedKeys: t.firedKeys,
    seq: 0,
    ...(autoClose ? { resolvedAt: t.resolvedAt ?? null, closeResolvedAfterHours: t.closeResolvedAfterHours ?? null } : {}),
  };
}

function stepState(st: StepSnapshot, firedKeys: readonly string[], pausedAt: Date | null): StepState {
  const clock = st.status === 'active' ? clockFrom(st.plan, st.activatedAt, firedIn(firedKeys, `step:${st.id}`), pausedAt, st) : null;
  return { ...st, clock };
}

function stepView(st: StepState): StepView {
  const due = st.clock ? clockDueAt(st.clock) : null;
  return {
    id: st.id,
    position: st.position,
    flow: st.flow,
    name: st.name,
    sectorId: st.sectorId,
    status: st.status,
    sla: st.clock ? { dueAt: due?.toISOString() ?? null, state: clockState(st.clock) } : null,
  };
}

function view(s: TicketState): TicketView {
  const due = s.clock ? clockDueAt(s.clock) : null;
  return {
    protocol: s.protocol,
    status: s.status,
    assigneeUserId: s.assigneeUserId,
    sectorId: s.sectorId,
    sla: s.clock ? { dueAt: due?.toISOString() ?? null, state: clockState(s.clock), paused: s.clock.runningSince === null } : null,
    steps: s.steps.map(stepView),
  };
}

/** The ticket's SLA columns as its clock stands. */
function slaColumns(s: TicketState): TicketColumns {
  if (!s.clock) return {};
  const due = clockDueAt(s.clock);
  return {
    slaDueAt: due?.toISOString() ?? null,
    slaState: clockState(s.clock),
    slaUsedMs: s.clock.consumedMs,
    slaRunningSince: s.clock.runningSince,
  };
}

function stepSlaColumns(st: StepState): Partial<StepColumns> {
  if (!st.clock) return {};
  return { slaDueAt: clockDueAt(st.clock)?.toISOString() ?? null, slaState: clockState(st.clock), slaUsedMs: st.clock.consumedMs, slaRunningSince: st.clock.runningSince };
}

const activeStep = (s: TicketState) => s.steps.find((st) => st.status === 'active');

/** Why `actor` may not act on a step (SPEC §7: its sector's BackOffice staff, or admins). */
function sectorProblem(actor: Actor, step: StepState): string | undefined {
  if (actor.role === 'admin' || actor.role === 'system' || actor.sectorIds.includes(step.sectorId)) return undefined;
  return `you are not in sector «${step.sectorName}» (id ${step.sectorId}), where step ${step.id} «${step.name}» is`;
}

/**
 * A ticket's life (SPEC §6–§8): `ticket:<protocol>` owns its status, SLA clocks and steps from
 * creation until it is closed or cancelled. Every change arrives as an update (refused by its
 * validator, leaving no trace, when it does not apply) or a signal, is applied to the state,
 * then written to the database with its timeline event before the update answers. Alerts fire
 * from durable timers at their instants; their delivery runs in workflows of their own, so a
 * failing channel never holds the ticket.
 */
export async function ticketLifecycle(input: TicketInput): Promise<TicketView> {
  const light = patched(LOCAL_ACTIVITIES_PATCH);
  const act = light ? local : remote;
  const oneWritePerAlert = patched(ONE_WRITE_PER_ALERT_PATCH);
  const autoClose = patched(AUTO_CLOSE_PATCH);
  let s = input.state as TicketState | undefined;
  /** Bumped by every change that may move a timer. */
  let changes = 0;
  let tail: Promise<unknown> = Promise.resolve();
  /** Changes run one at a time, in the order they arrived. */
  const serially = <T>(fn: (state: TicketState) => Promise<T>): Promise<T> => {
    const run = tail.then(async () => {
      await condition(() => s !== undefined);
      return fn(s!);
    });
    tail = run.catch(() => undefined);
    return run;
  };
  const key = (st: TicketState) => `${workflowInfo().firstExecutionRunId}:${++st.seq}`;

  async function save(st: TicketState, change: { ticket?: TicketColumns; steps?: StepColumns[]; event: TicketEvent; loadChanged?: { formerAssigneeId: number | null } }, at: Date, changeKey = key(st)) {
    const saved = await act.saveTicketChange({ ticketId: st.ticketId, key: changeKey, at: at.toISOString(), ...change });
    st.assigneeLogin = saved.assigneeLogin;
    // The mailbox's setting as it stands when the ticket is resolved is the one that applies.
    if (autoClose && change.ticket?.status === 'resolved') st.closeResolvedAfterHours = saved.closeResolvedAfterHours ?? null;
    changes++;
    publish(st);
  }

  /** The search attributes as last upserted in this run (a light run upserts only what changed). */
  const published = new Map<string, string>();
  function publish(st: TicketState) {
    const attributes = [
      ...(light ? [{ key: Protocol, value: st.protocol }] : []),
      { key: TicketStatusKey, value: st.status },
      ...(st.clock ? [{ key: SlaState, value: clockState(st.clock) }] : []),
      ...(st.assigneeLogin ? [{ key: Assignee, value: st.assigneeLogin }] : []),
      ...(st.sectorId !== null ? [{ key: SectorId, value: String(st.sectorId) }] : []),
    ];
    const changed = light ? attributes.filter((a) => published.get(a.key.name) !== a.value) : attributes;
    if (changed.length > 0) upsertSearchAttributes(changed);
    for (const a of changed) published.set(a.key.name, a.value);
    const v = view(st);
    setCurrentDetails(
      [
        `**${st.status}**${st.assigneeLogin ? `, assigned to ${st.assigneeLogin}` : ', not assigned'}`,
        v.sla ? `SLA ${v.sla.state}${v.sla.paused ? ' (clock paused)' : v.sla.dueAt ? `, due ${v.sla.dueAt}` : ''}` : 'no SLA',
        ...v.steps.filter((x) => x.status === 'active').map((x) => `Step ${x.position} «${x.name}» active in sector ${x.sectorId}`),
      ].join('\n\n'),
    );
  }

  // ---- status ------------------------------------------------------------------------------

  async function changeStatus(st: TicketState, to: TicketStatus, actor: string, data: Record<string, unknown>) {
    const at = now();
    const from = st.status;
    st.status = to;
    if (autoClose) st.resolvedAt = to === 'resolved' ? at.toISOString() : null;
    const runs = slaClockRuns(to);
    const moveClock = (c: SlaClock | null) => (c ? (runs ? resumeClock(c, at) : pauseClock(c, at)) : null);
    st.clock = moveClock(st.clock);
    // Resolving or cancelling ends the steps still to do; waiting for the customer pauses them.
    const ending = to === 'resolved' || FINAL_STATUSES.includes(to);
    const steps: StepColumns[] = [];
    for (const step of st.steps) {
      if (ending && (step.status === 'active' || step.status === 'pending')) {
        step.status = 'cancelled';
        step.clock = step.clock ? pauseClock(step.clock, at) : null;
        steps.push({ id: step.id, status: 'cancelled', finishedAt: at.toISOString(), finishedBy: actor });
      } else if (step.status === 'active' && step.clock) {
        step.clock = moveClock(step.clock);
        steps.push({ id: step.id, ...stepSlaColumns(step) });
      }
    }
    const ticket: TicketColumns = {
      status: to,
      ...slaColumns(st),
      // Since when the clock stands still (shown; the clock itself restarts from slaUsedMs).
      ...(st.clock && slaClockRuns(from) !== runs ? { slaPausedAt: runs ? null : at.toISOString() } : {}),
      ...(to === 'resolved' ? { resolvedAt: at.toISOString() } : from === 'resolved' ? { resolvedAt: null } : {}),
      ...(to === 'closed' ? { closedAt: at.toISOString() } : {}),
    };
    const loadChanged = isOpenStatus(from) !== isOpenStatus(to) ? { formerAssigneeId: null } : undefined;
    await save(st, { ticket, steps, event: { kind: 'status_changed', actor, data: { from, to, ...data } }, loadChanged }, at);
  }

  setHandler(
    changeStatusUpdate,
    (c) =>
      serially(async (st) => {
        const problem = transitionProblem(st.status, c.status);
        if (problem) throw reject(problem);
        await changeStatus(st, c.status, actorName(c.actor), { note: c.note ?? null });
        return view(st);
      }),
    { validator: (c) => validate(s, (st) => transitionProblem(st.status, c.status)) },
  );

  setHandler(replyReceivedSignal, ({ emailId }) => {
    inBackground(serially(async (st) => {
      // SPEC §8: a reply reopens a resolved ticket, and a customer's answer ends the wait for it.
      if (st.status === 'resolved' || st.status === 'waiting_customer') await changeStatus(st, 'open', 'system:email', { emailId, reason: 'the customer replied' });
    }));
  });

  // ---- assignment --------------------------------------------------------------------------

  const reassignProblem = (st: TicketState, userId: number) =>
    !isOpenStatus(st.status) ? `a ${st.status} ticket cannot be reassigned; reopen it first` : st.assigneeUserId === userId ? `the ticket is already assigned to user ${userId}` : undefined;

  setHandler(
    reassignUpdate,
    (r) =>
      serially(async (st) => {
        rejectIf(reassignProblem(st, r.userId));
        const former = st.assigneeUserId;
        st.assigneeUserId = r.userId;
        const at = now();
        await save(st, { ticket: { assigneeUserId: r.userId }, event: { kind: 'reassigned', actor: actorName(r.actor), data: { from: former, to: r.userId, note: r.note ?? null } }, loadChanged: { formerAssigneeId: former } }, at);
        return view(st);
      }),
    { validator: (r) => validate(s, (st) => reassignProblem(st, r.userId)) },
  );

  setHandler(assignedSignal, ({ userId, login }) => {
    inBackground(serially(async (st) => {
      if (st.assigneeUserId !== null) return;
      st.assigneeUserId = userId;
      st.assigneeLogin = login;
      publish(st);
    }));
  });

  // ---- SLA sources -------------------------------------------------------------------------

  /** The SLA sources changed (occurrence, sector, contract, calendar, alert): every running clock is planned again. */
  async function replan(st: TicketState, actor: string, why: string) {
    const plan = await act.planTicketSla({ ticketId: st.ticketId });
    const stepPlans = await Promise.all(
      st.steps.filter((x) => x.status === 'active').map(async (x) => ({ step: x, ...(await act.planStepSla({ ticketId: st.ticketId, stepId: x.id, sectorId: x.sectorId })) })),
    );
    const at = now();
    const paused = slaClockRuns(st.status) ? null : at;
    if (!plan) st.clock = null;
    else if (st.clock) st.clock = replanClock(st.clock, plan, at);
    else st.clock = clockFrom(plan, st.createdAt, firedIn(st.firedKeys, 'sla'), paused);
    for (const { step, plan: stepPlan } of stepPlans) {
      step.plan = stepPlan;
      if (!stepPlan) step.clock = null;
      else if (step.clock) step.clock = replanClock(step.clock, stepPlan, at);
      else step.clock = clockFrom(stepPlan, step.activatedAt, firedIn(st.firedKeys, `step:${step.id}`), paused);
    }
    await save(
      st,
      {
        ticket: plan ? slaColumns(st) : { slaDueAt: null, slaState: 'on_time', slaPausedAt: null },
        steps: stepPlans.map(({ step }) => ({ id: step.id, ...(step.clock ? stepSlaColumns(step) : { slaDueAt: null }) })),
        event: { kind: 'sla_replanned', actor, data: { why, dueAt: view(st).sla?.dueAt ?? null } },
      },
      at,
    );
  }

  const reclassifyProblem = (st: TicketState) => (FINAL_STATUSES.includes(st.status) ? `the ticket is ${st.status}` : undefined);

  setHandler(
    reclassifyUpdate,
    (r) =>
      serially(async (st) => {
        rejectIf(reclassifyProblem(st));
        const at = now();
        const ticket: TicketColumns = { ...(r.occurrenceId !== undefined ? { occurrenceId: r.occurrenceId } : {}), ...(r.sectorId !== undefined ? { sectorId: r.sectorId } : {}) };
        if (r.sectorId !== undefined) st.sectorId = r.sectorId;
        await save(st, { ticket, event: { kind: 'reclassified', actor: actorName(r.actor), data: { occurrenceId: r.occurrenceId ?? null, sectorId: r.sectorId ?? null, note: r.note ?? null } } }, at);
        await replan(st, actorName(r.actor), 'the ticket was reclassified');
        return view(st);
      }),
    { validator: (_r) => validate(s, reclassifyProblem) },
  );

  setHandler(slaSourcesChangedSignal, ({ why }) => {
    inBackground(serially(async (st) => {
      if (!FINAL_STATUSES.includes(st.status)) await replan(st, 'system:sla', why);
    }));
  });

  // ---- steps (SPEC §7) ---------------------------------------------------------------------

  const stepProblem = (st: TicketState, stepId: number, actor: Actor): string | undefined => {
    if (!isOpenStatus(st.status)) return `the ticket is ${st.status}; its steps cannot change`;
    const step = st.steps.find((x) => x.id === stepId);
    if (!step) return `ticket ${st.protocol} has no step ${stepId}`;
    if (step.status !== 'active') return `step ${stepId} «${step.name}» is ${step.status}, not the active step`;
    return sectorProblem(actor, step);
  };

  setHandler(
    completeStepUpdate,
    (c) =>
      serially(async (st) => {
        rejectIf(stepProblem(st, c.stepId, c.actor));
        const at = now();
        const actor = actorName(c.actor);
        const step = st.steps.find((x) => x.id === c.stepId)!;
        step.status = 'completed';
        step.clock = step.clock ? pauseClock(step.clock, at) : null;
        const next = st.steps.find((x) => x.status === 'pending');
        const steps: StepColumns[] = [{ id: step.id, status: 'completed', finishedAt: at.toISOString(), finishedBy: actor, note: c.note ?? null }];
        if (next) {
          next.status = 'active';
          next.activatedAt = at.toISOString();
          next.clock = clockFrom(next.plan, next.activatedAt, firedIn(st.firedKeys, `step:${next.id}`), slaClockRuns(st.status) ? null : at);
          steps.push({ id: next.id, status: 'active', activatedAt: next.activatedAt, ...stepSlaColumns(next) });
        }
        await save(st, { steps, event: { kind: 'step_completed', actor, data: { stepId: step.id, step: step.name, note: c.note ?? null, next: next ? { stepId: next.id, step: next.name } : null } } }, at);
        // SPEC §7: completing the last step resolves the ticket.
        if (!next) await changeStatus(st, 'resolved', actor, { reason: `the last step «${step.name}» was completed` });
        return view(st);
      }),
    { validator: (c) => validate(s, (st) => stepProblem(st, c.stepId, c.actor)) },
  );

  const moveProblem = (st: TicketState, stepId: number, sectorId: number, actor: Actor) =>
    stepProblem(st, stepId, actor) ?? (st.steps.find((x) => x.id === stepId)!.sectorId === sectorId ? `step ${stepId} is already in sector ${sectorId}` : undefined);

  setHandler(
    moveStepUpdate,
    (m) =>
      serially(async (st) => {
        rejectIf(moveProblem(st, m.stepId, m.sectorId, m.actor));
        const step = st.steps.find((x) => x.id === m.stepId)!;
        const from = step.sectorId;
        const { plan, sectorName } = await act.planStepSla({ ticketId: st.ticketId, stepId: step.id, sectorId: m.sectorId });
        const at = now();
        step.sectorId = m.sectorId;
        step.sectorName = sectorName;
        step.plan = plan;
        if (step.clock && plan) step.clock = replanClock(step.clock, plan, at);
        await save(st, { steps: [{ id: step.id, sectorId: m.sectorId, ...stepSlaColumns(step) }], event: { kind: 'step_moved', actor: actorName(m.actor), data: { stepId: step.id, step: step.name, fromSectorId: from, toSectorId: m.sectorId, note: m.note ?? null } } }, at);
        return view(st);
      }),
    { validator: (m) => validate(s, (st) => moveProblem(st, m.stepId, m.sectorId, m.actor)) },
  );

  const switchProblem = (st: TicketState, actor: Actor): string | undefined => {
    if (!isOpenStatus(st.status)) return `the ticket is ${st.status}; its steps cannot change`;
    if (st.steps.some((x) => x.flow === 'alternative')) return 'the ticket already runs its alternative flow';
    if (!st.hasAlternative) return 'the ticket\'s occurrence has no alternative solution to switch to';
    const active = activeStep(st);
    if (!active) return 'the ticket has no active step';
    return sectorProblem(actor, active);
  };

  setHandler(
    switchFlowUpdate,
    (f) =>
      serially(async (st) => {
        rejectIf(switchProblem(st, f.actor));
        const at = now();
        const actor = actorName(f.actor);
        const cancel = st.steps.filter((x) => x.status === 'active' || x.status === 'pending').map((x) => ({ id: x.id, status: 'cancelled' as const, finishedAt: at.toISOString(), finishedBy: actor }));
        const snapshots = await act.switchToAlternative({ ticketId: st.ticketId, key: key(st), at: at.toISOString(), actor, note: f.note, cancel });
        st.steps = snapshots.map((x) => stepState(x, st.firedKeys, slaClockRuns(st.status) ? null : at));
        const timed = st.steps.filter((x) => x.status === 'active' && x.clock);
        if (timed.length > 0) await save(st, { steps: timed.map((x) => ({ id: x.id, ...stepSlaColumns(x) })), event: { kind: 'step_sla_planned', actor: 'system:sla', data: { steps: timed.map(stepView) } } }, at);
        changes++;
        publish(st);
        return view(st);
      }),
    { validator: (f) => validate(s, (st) => switchProblem(st, f.actor)) },
  );

  setHandler(ticketViewQuery, () => {
    if (!s) throw new Error('the ticket is still loading');
    return view(s);
  });

  // ---- alerts (SPEC §6) --------------------------------------------------------------------

  async function fire(st: TicketState, alertKey: string, kind: 'sla' | 'step_sla' | 'pool_empty', threshold: number | null, stepId: number | null, dueAt: Date) {
    const firing = await act.recordAlertFiring({ ticketId: st.ticketId, key: alertKey, kind, threshold, stepId, dueAt: dueAt.toISOString() });
    await deliver(firing);
    st.firedKeys.push(alertKey);
    return firing.firingId;
  }

  /** A threshold's firing and the ticket's change for it, written together; the event names the firing. */
  async function fireWithChange(
    st: TicketState,
    firing: { key: string; kind: 'sla' | 'step_sla'; threshold: number; stepId: number | null; dueAt: Date },
    change: { ticket?: TicketColumns; steps?: StepColumns[]; event: TicketEvent },
    at: Date,
  ) {
    const fired = await act.fireTicketAlert({
      firing: { ticketId: st.ticketId, key: firing.key, kind: firing.kind, threshold: firing.threshold, stepId: firing.stepId, dueAt: firing.dueAt.toISOString() },
      change: { ticketId: st.ticketId, key: `fire:${firing.key}`, at: at.toISOString(), ...change },
    });
    await deliver(fired);
    st.firedKeys.push(firing.key);
    changes++;
    publish(st);
  }

  /** Delivery runs in a workflow of its own (workflows/alert-delivery.ts): the ticket never waits on a channel. */
  async function deliver(firing: { firingId: number; channels: string[] }) {
    if (firing.channels.length > 0) {
      try {
        await startChild('deliverAlert', {
          workflowId: alertWorkflowId(firing.firingId),
          args: [{ firingId: firing.firingId, channels: firing.channels }],
          parentClosePolicy: ParentClosePolicy.ABANDON,
        });
      } catch (err) {
        if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      }
    }
  }

  async function fireThreshold(st: TicketState, scope: 'ticket' | number, percent: number, dueAt: Date) {
    const at = now();
    const step = scope === 'ticket' ? undefined : st.steps.find((x) => x.id === scope)!;
    const alertKey = step ? `step:${step.id}:${percent}` : `sla:${percent}`;
    const kind = step ? 'step_sla' : 'sla';
    /** Marks the threshold fired on its clock; the change that writes the clock with its timeline event. */
    const marked = (): { ticket?: TicketColumns; steps?: StepColumns[]; event: TicketEvent } => {
      const data = { threshold: percent, dueAt: dueAt.toISOString() };
      if (!step) {
        st.clock = markFired(st.clock!, percent);
        return { ticket: slaColumns(st), event: { kind: 'sla_alert', actor: 'system:sla', data } };
      }
      step.clock = markFired(step.clock!, percent);
      return { steps: [{ id: step.id, ...stepSlaColumns(step) }], event: { kind: 'step_sla_alert', actor: 'system:sla', data: { stepId: step.id, step: step.name, ...data } } };
    };
    if (oneWritePerAlert) {
      await fireWithChange(st, { key: alertKey, kind, threshold: percent, stepId: step?.id ?? null, dueAt }, marked(), at);
    } else {
      const firingId = await fire(st, alertKey, kind, percent, step?.id ?? null, dueAt);
      const change = marked();
      await save(st, { ...change, event: { ...change.event, data: { ...change.event.data, firingId } } }, at, `fire:${alertKey}`);
    }
  }

  /** The first threshold to fire among the ticket's clock and its active steps' clocks. */
  function nextAlert(st: TicketState): { scope: 'ticket' | number; percent: number; at: Date } | null {
    const candidates = [
      ...(st.clock ? [{ scope: 'ticket' as const, next: nextThreshold(st.clock) }] : []),
      ...st.steps.filter((x) => x.status === 'active' && x.clock).map((x) => ({ scope: x.id, next: nextThreshold(x.clock!) })),
    ].flatMap((c) => (c.next ? [{ scope: c.scope, ...c.next }] : []));
    return candidates.sort((a, b) => a.at.getTime() - b.at.getTime())[0] ?? null;
  }

  // ---- the run -----------------------------------------------------------------------------

  if (!s) {
    const snapshot = await act.loadTicket({ protocol: input.protocol });
    const loaded = initialState(snapshot, autoClose);
    s = loaded;
    if (!light) upsertSearchAttributes([{ key: Protocol, value: loaded.protocol }]);
    publish(loaded);
    // The creation path wrote a first estimate (the plan's calendar or contract may differ), and
    // the step-start no due time for the first step: written once per ticket.
    const planned = view(loaded).sla;
    const timed = loaded.steps.filter((x) => x.status === 'active' && x.clock);
    if ((planned && (planned.dueAt !== snapshot.slaDueAt || planned.state !== snapshot.slaState)) || timed.length > 0) {
      await serially((st) =>
        save(st, { ticket: slaColumns(st), steps: timed.map((x) => ({ id: x.id, ...stepSlaColumns(x) })), event: { kind: 'sla_planned', actor: 'system:sla', data: { sla: planned, steps: timed.map(stepView) } } }, now(), 'sla:planned'),
      );
    }
    if (input.unassignedReason && !loaded.firedKeys.includes('pool_empty') && isOpenStatus(loaded.status)) {
      // SPEC §5 with §6: nobody in the pool could take the ticket; its sector hears of it.
      await serially((st) => fire(st, 'pool_empty', 'pool_empty', null, null, now()));
    }
  }
  const state = s;

  while (!FINAL_STATUSES.includes(state.status)) {
    if (workflowInfo().historyLength > (input.eventsPerRun ?? EVENTS_PER_RUN) || workflowInfo().continueAsNewSuggested) {
      await tail;
      await condition(allHandlersFinished);
      await continueAsNew<typeof ticketLifecycle>({ protocol: state.protocol, state, ...(input.eventsPerRun ? { eventsPerRun: input.eventsPerRun } : {}) });
    }
    const seen = changes;
    const next = nextAlert(state);
    // A resolved ticket closes by itself at its instant (its clocks stand still, so no alert comes first).
    const due = autoClose ? autoCloseAt(state.status, state.resolvedAt, state.closeResolvedAfterHours) : null;
    const closing = due && (!next || due.getTime() <= next.at.getTime()) ? due : null;
    const wakeAt = closing ?? next?.at;
    const wait = wakeAt ? wakeAt.getTime() - Date.now() : undefined;
    if (wait === undefined) {
      await condition(() => changes !== seen || FINAL_STATUSES.includes(state.status));
    } else if (wait > 0) {
      await condition(() => changes !== seen || FINAL_STATUSES.includes(state.status), wait);
    } else if (closing) {
      await serially(async (st) => {
        const still = autoCloseAt(st.status, st.resolvedAt, st.closeResolvedAfterHours);
        if (still && still.getTime() <= Date.now()) {
          await changeStatus(st, 'closed', 'system:auto-close', { reason: `resolved for ${st.closeResolvedAfterHours} hours without a reply` });
        }
      });
    } else {
      // Due (a timer fires no earlier than its instant): fire it unless a change moved it meanwhile.
      await serially(async (st) => {
        const still = nextAlert(st);
        if (still && still.scope === next!.scope && still.percent === next!.percent && still.at.getTime() <= Date.now()) {
          await fireThreshold(st, still.scope, still.percent, still.at);
        }
      });
    }
  }
  await tail;
  await condition(allHandlersFinished);
  return view(state);
}

/** A signal's change runs after the ones before it; a failure is logged, the signal cannot answer. */
function inBackground(change: Promise<unknown>): void {
  change.catch((err: unknown) => log.warn('a change the ticket was told of could not be applied', { error: String(err) }));
}

function rejectIf(problem: string | undefined): void {
  if (problem) throw reject(problem);
}
