import { getClient } from '@temporalio/activity';
import { ticketLoadChanged } from '../clients/assigner.js';
import { recordAlertFiring, type NewAlertFiring, type RecordedFiring } from '../db/alert-firings.js';
import { getUserLogin } from '../db/users.js';
import type { Sql } from '../db/client.js';
import {
  addSolutionSteps,
  alertThresholds,
  alternativeSolution,
  applyTicketChange,
  CLOSE_RESOLVED_AFTER_HOURS,
  loadLifecycleTicket,
  occurrenceTypeOf,
  slaSources,
  solutionToStart,
  ticketSteps,
  type CalendarRow,
  type LifecycleTicket,
  type StepColumns,
  type StepRow,
  type TicketChange,
} from '../db/ticket-lifecycle.js';
import type { SlaPlan } from '../domain/sla-clock.js';
import { effectiveSla, slaDurationMs, type ConfiguredSla } from '../domain/sla.js';
import type { ServiceCalendar } from '../domain/service-time.js';
import { unprocessable } from './failures.js';

export type { StepColumns, TicketColumns, TicketEvent } from '../db/ticket-lifecycle.js';

/** A step as the ticket's workflow holds it, with its SLA plan (null: the step has no SLA). */
export type StepSnapshot = Omit<StepRow, 'sla' | 'calendar' | 'slaState'> & { plan: SlaPlan | null };

/** What a write of the ticket's workflow learns back: its assignee's login, and its mailbox's auto-closing (absent in histories from before it). */
export interface SavedTicketChange {
  applied: boolean;
  assigneeLogin: string | null;
  closeResolvedAfterHours?: number | null;
}

/** A ticket as its workflow starts from it, with its SLA plan (null: its occurrence has none). */
export type TicketSnapshot = Omit<LifecycleTicket, 'steps'> & { plan: SlaPlan | null; steps: StepSnapshot[] };

function serviceCalendar(c: CalendarRow): ServiceCalendar {
  return { timeZone: c.timeZone, weeklyHours: c.weeklyHours, holidays: c.holidays.map((h) => h.date) };
}

function plan(sla: ConfiguredSla | null, calendar: CalendarRow, thresholds: number[]): SlaPlan | null {
  return sla ? { budgetMs: slaDurationMs(sla.value, sla.unit), calendar: serviceCalendar(calendar), thresholds } : null;
}

function stepSnapshots(rows: StepRow[], thresholds: number[]): StepSnapshot[] {
  return rows.map(({ sla, calendar, slaState: _state, ...s }) => ({ ...s, plan: plan(sla, calendar, thresholds) }));
}

/** The reads and writes of a ticket's workflow (workflows/ticket.ts). */
export function createLifecycleActivities(deps: { sql: Sql; now?: () => Date }) {
  const { sql } = deps;
  const now = deps.now ?? (() => new Date());

  /** The ticket's SLA plan as of now (SPEC §6); null when its occurrence has no SLA. */
  async function ticketPlan(ticketId: number): Promise<SlaPlan | null> {
    const s = await slaSources(sql, ticketId, now());
    if (!s) throw unprocessable(`there is no ticket ${ticketId}`);
    return plan(effectiveSla(s.occurrenceSla, s.contractSlas), s.calendar, s.alertThresholds);
  }

  return {
    async loadTicket(input: { protocol: string }): Promise<TicketSnapshot> {
      const t = await loadLifecycleTicket(sql, input.protocol);
      if (!t) throw unprocessable(`there is no ticket ${input.protocol}`);
      const thresholds = await alertThresholds(sql, t.ticketId);
      return { ...t, plan: await ticketPlan(t.ticketId), steps: stepSnapshots(t.steps, thresholds) };
    },

    planTicketSla: (input: { ticketId: number }): Promise<SlaPlan | null> => ticketPlan(input.ticketId),

    /** The SLA plan of a step in a sector (a moved step runs on its new sector's calendar), and the sector's name. */
    async planStepSla(input: { ticketId: number; stepId: number; sectorId: number }): Promise<{ plan: SlaPlan | null; sectorName: string }> {
      const steps = await ticketSteps(sql, input.ticketId);
      const step = steps.find((s) => s.id === input.stepId);
      if (!step) throw unprocessable(`ticket ${input.ticketId} has no step ${input.stepId}`);
      const [moved] = await sql<{ name: string; calendar: CalendarRow }[]>`
        SELECT s.name, json_build_object('timeZone', c.time_zone, 'weeklyHours', c.weekly_hours, 'holidays', c.holidays) AS calendar
          FROM sector s JOIN calendar c ON c.id = COALESCE(s.calendar_id, (SELECT id FROM calendar WHERE is_default))
         WHERE s.id = ${input.sectorId}`;
      if (!moved) throw unprocessable(`there is no sector ${input.sectorId}`);
      return { plan: plan(step.sla, moved.calendar, await alertThresholds(sql, input.ticketId)), sectorName: moved.name };
    },

    /**
     * Writes a change of the ticket's workflow with its timeline event, once per key; then, when
     * the change moved the ticket in or out of its assignee's open load, tells the assignee's
     * pools (and the former assignee's) so their next decision counts it (SPEC §5).
     */
    async saveTicketChange(input: TicketChange & { loadChanged?: { formerAssigneeId: number | null } }): Promise<SavedTicketChange> {
      const { loadChanged, ...change } = input;
      if (change.ticket?.occurrenceId !== undefined) {
        change.ticket.occurrenceTypeId = (await occurrenceTypeOf(sql, change.ticket.occurrenceId)) ?? undefined;
      }
      const applied = await applyTicketChange(sql, change);
      if (loadChanged) await ticketLoadChanged(getClient(), sql, change.ticketId, change.event.kind, loadChanged.formerAssigneeId);
      const [row] = await sql<{ assigneeUserId: number | null; closeResolvedAfterHours: number | null }[]>`
        SELECT t.assignee_user_id, ${CLOSE_RESOLVED_AFTER_HOURS(sql)} AS close_resolved_after_hours FROM ticket t WHERE t.id = ${change.ticketId}`;
      return {
        applied,
        assigneeLogin: row?.assigneeUserId ? ((await getUserLogin(sql, row.assigneeUserId)) ?? null) : null,
        closeResolvedAfterHours: row?.closeResolvedAfterHours ?? null,
      };
    },

    /**
     * A threshold fired: its firing (recipients, deliveries) and the ticket's change for it (the
     * clock, the SLA state, the timeline event naming the firing) in one transaction, once per
     * key however often this runs. The ticket's workflow then starts the delivery.
     */
    async fireTicketAlert(input: { firing: NewAlertFiring; change: TicketChange }): Promise<Omit<RecordedFiring, 'created'>> {
      return sql.begin(async (tx) => {
        const fired = await recordAlertFiring(tx, input.firing);
        if (!fired) throw unprocessable(`alert ${input.firing.key}: there is no ticket ${input.firing.ticketId}`);
        const { change } = input;
        await applyTicketChange(tx, { ...change, event: { ...change.event, data: { ...change.event.data, firingId: fired.firingId } } });
        return { firingId: fired.firingId, channels: fired.channels };
      });
    },

    /**
     * SPEC §7 and §4.7: the mailbox's solution starts with the ticket; its steps are created, the
     * first active. Run by the e-mail's workflow once the ticket exists; a second run does nothing.
     */
    async startSolution(input: { protocol: string }): Promise<{ started: boolean; solution: string | null }> {
      const s = await solutionToStart(sql, input.protocol);
      if (!s) return { started: false, solution: null };
      const at = now().toISOString();
      await addSolutionSteps(sql, {
        ticketId: s.ticketId,
        key: 'solution:main',
        at,
        solutionId: s.solutionId,
        flow: 'main',
        event: { kind: 'solution_started', actor: 'system:email', data: { solutionId: s.solutionId, solution: s.name, flow: 'main' } },
      });
      return { started: true, solution: s.name };
    },

    /** SPEC §7: the remaining steps are cancelled and the occurrence's alternative solution starts at its first step. */
    async switchToAlternative(input: { ticketId: number; key: string; at: string; actor: string; note?: string; cancel: StepColumns[] }): Promise<StepSnapshot[]> {
      const alt = await alternativeSolution(sql, input.ticketId);
      if (!alt) throw unprocessable(`the occurrence of ticket ${input.ticketId} has no alternative solution`);
      await addSolutionSteps(sql, {
        ticketId: input.ticketId,
        key: input.key,
        at: input.at,
        solutionId: alt.solutionId,
        flow: 'alternative',
        steps: input.cancel,
        event: { kind: 'flow_switched', actor: input.actor, data: { solutionId: alt.solutionId, solution: alt.name, note: input.note ?? null } },
      });
      return stepSnapshots(await ticketSteps(sql, input.ticketId), await alertThresholds(sql, input.ticketId));
    },
  };
}
