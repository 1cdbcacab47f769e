import type postgres from 'postgres';
import type { Holiday, WeeklyHours } from '../domain/business-calendar.js';
import type { ConfiguredSla, SlaUnit } from '../domain/sla.js';
import type { SlaState, TicketStatus } from '../domain/ticket-status.js';
import type { StepStatus } from '../contracts/ticket.js';
import { inTransaction, type Queryable, type Sql } from './client.js';

/**
 * What a ticket's workflow (workflows/ticket.ts) reads when it starts and writes as it goes
 * (SPEC §6–§8). The workflow owns the ticket's status, SLA and steps; these rows are their
 * projection for the API. Every write carries the workflow's key for it and lands with its
 * timeline event in one transaction, so a retried activity changes nothing twice.
 */

export interface CalendarRow {
  timeZone: string;
  weeklyHours: WeeklyHours;
  holidays: Holiday[];
}


export interface StepRow {
  id: number;
  position: number;
  flow: 'main' | 'alternative';
  name: string;
  sectorId: number;
  sectorName: string;
  status: StepStatus;
  sla: ConfiguredSla | null;
  slaState: SlaState;
  slaUsedMs: number;
  slaRunningSince: string | null;
  activatedAt: string | null;
  calendar: CalendarRow;
}

/** A ticket as its workflow starts from it. */
export interface LifecycleTicket {
  ticketId: number;
  protocol: string;
  status: TicketStatus;
  assigneeUserId: number | null;
  assigneeLogin: string | null;
  sectorId: number | null;
  createdAt: string;
  slaPausedAt: string | null;
  /** The due instant and state as written (by the creation path, or by the workflow before). */
  slaDueAt: string | null;
  slaState: SlaState;
  /** Where the clock stood when the workflow last wrote it (0 and null: never written). */
  slaUsedMs: number;
  slaRunningSince: string | null;
  steps: StepRow[];
  /** Whether the occurrence has an alternative solution to switch to. */
  hasAlternative: boolean;
  /** Keys of the alerts that already fired (a workflow started again must not repeat them). */
  firedKeys: string[];
  /** When it was resolved, while it is; absent from snapshots taken before auto-closing existed. */
  resolvedAt?: string | null;
  /** Its mailbox's `closeResolvedAfterHours` (null: never, or no mailbox); absent as `resolvedAt`. */
  closeResolvedAfterHours?: number | null;
}

/** What the ticket's SLA is computed from (SPEC §6), as of `at`. */
export interface SlaSources {
  occurrenceSla: ConfiguredSla | null;
  /** The SLA packages of the customer's active contracts valid on `at`'s date. */
  contractSlas: ConfiguredSla[];
  calendar: CalendarRow;
  alertThresholds: number[];
}

/** The calendar of a sector, or the default one (SPEC §3). `sectorId` is a SQL expression. */
const CALENDAR_OF = (sql: Queryable, sectorId: postgres.Fragment) => sql`
  (SELECT json_build_object('timeZone', c.time_zone, 'weeklyHours', c.weekly_hours, 'holidays', c.holidays)
     FROM calendar c
    WHERE c.id = COALESCE((SELECT s.calendar_id FROM sector s WHERE s.id = ${sectorId}), (SELECT id FROM calendar WHERE is_default)))`;

/** The `closeResolvedAfterHours` of the mailbox of the ticket `t`; null for a ticket without one. */
export const CLOSE_RESOLVED_AFTER_HOURS = (sql: Queryable) => sql`(SELECT m.close_resolved_after_hours FROM mailbox m WHERE m.id = t.mailbox_id)`;

export async function loadLifecycleTicket(sql: Queryable, protocol: string): Promise<LifecycleTicket | undefined> {
  const [row] = await sql<LifecycleTicket[]>`
    SELECT t.id AS ticket_id, t.protocol, t.status, t.assignee_user_id,
           (SELECT login FROM app_user WHERE id = t.assignee_user_id) AS assignee_login,
           t.sector_id, t.created_at, t.sla_paused_at, t.sla_due_at, t.sla_state, t.sla_used_ms, t.sla_running_since, t.resolved_at,
           ${CLOSE_RESOLVED_AFTER_HOURS(sql)} AS close_resolved_after_hours,
           EXISTS (SELECT 1 FROM solution s WHERE s.occurrence_id = t.occurrence_id AND s.flow = 'alternative') AS has_alternative,
           COALESCE((SELECT array_agg(f.key ORDER BY f.id) FROM alert_firing f WHERE f.ticket_id = t.id), '{}') AS fired_keys
      FROM ticket t WHERE t.protocol = ${protocol}`;
  if (!row) return undefined;
  return { ...row, steps: await ticketSteps(sql, row.ticketId) };
}

export async function ticketSteps(sql: Queryable, ticketId: number): Promise<StepRow[]> {
  const rows = await sql<(Omit<StepRow, 'sla'> & { slaValue: number | null; slaUnit: SlaUnit | null })[]>`
    SELECT st.id, st.position, st.flow, st.name, st.sector_id, (SELECT name FROM sector WHERE id = st.sector_id) AS sector_name, st.status, st.sla_value, st.sla_unit, st.sla_state, st.sla_used_ms, st.sla_running_since, st.activated_at,
           ${CALENDAR_OF(sql, sql`st.sector_id`)} AS calendar
      FROM ticket_step st WHERE st.ticket_id = ${ticketId} ORDER BY st.position`;
  return rows.map(({ slaValue, slaUnit, ...r }) => ({ ...r, sla: slaValue && slaUnit ? { value: slaValue, unit: slaUnit } : null }));
}

export async function slaSources(sql: Queryable, ticketId: number, at: Date): Promise<SlaSources | undefined> {
  const [row] = await sql<{ occurrenceSla: ConfiguredSla | null; contractSlas: ConfiguredSla[]; calendar: CalendarRow; alertThresholds: number[] }[]>`
    SELECT (SELECT json_build_object('value', o.sla_value, 'unit', o.sla_unit) FROM occurrence o WHERE o.id = t.occurrence_id) AS occurrence_sla,
           COALESCE((SELECT json_agg(json_build_object('value', k.sla_value, 'unit', k.sla_unit) ORDER BY k.id)
                       FROM contract k
                      WHERE k.customer_id = t.customer_id AND k.active AND k.sla_value IS NOT NULL
                        AND k.starts_on <= (${at}::timestamptz AT TIME ZONE cal.tz)::date
                        AND (k.ends_on IS NULL OR k.ends_on >= (${at}::timestamptz AT TIME ZONE cal.tz)::date)), '[]') AS contract_slas,
           ${CALENDAR_OF(sql, sql`t.sector_id`)} AS calendar,
           COALESCE((SELECT a.thresholds FROM occurrence o JOIN alert a ON a.id = o.alert_id WHERE o.id = t.occurrence_id), '{}') AS alert_thresholds
      FROM ticket t,
           LATERAL (SELECT c.time_zone AS tz FROM calendar c
                     WHERE c.id = COALESCE((SELECT s.calendar_id FROM sector s WHERE s.id = t.sector_id), (SELECT id FROM calendar WHERE is_default))) cal
     WHERE t.id = ${ticketId}`;
  return row;
}

/** The thresholds of the alert of a ticket's occurrence (step SLAs use the same alert). */
export async function alertThresholds(sql: Queryable, ticketId: number): Promise<number[]> {
  const [row] = await sql<{ thresholds: number[] }[]>`
    SELECT COALESCE(a.thresholds, '{}') AS thresholds FROM ticket t LEFT JOIN occurrence o ON o.id = t.occurrence_id LEFT JOIN alert a ON a.id = o.alert_id
     WHERE t.id = ${ticketId}`;
  return row?.thresholds ?? [];
}

// ---- Writes ------------------------------------------------------------------------------

export interface TicketColumns {
  status?: TicketStatus;
  assigneeUserId?: number | null;
  occurrenceId?: number;
  occurrenceTypeId?: number;
  sectorId?: number;
  slaDueAt?: string | null;
  slaState?: SlaState;
  slaPausedAt?: string | null;
  slaUsedMs?: number;
  slaRunningSince?: string | null;
  resolvedAt?: string | null;
  closedAt?: string | null;
}

export interface StepColumns {
  id: number;
  status?: StepStatus;
  sectorId?: number;
  slaDueAt?: string | null;
  slaState?: SlaState;
  slaUsedMs?: number;
  slaRunningSince?: string | null;
  activatedAt?: string;
  finishedAt?: string;
  finishedBy?: string;
  note?: string | null;
}

export interface TicketEvent {
  kind: string;
  actor: string;
  data: Record<string, unknown>;
}

export interface TicketChange {
  ticketId: number;
  /** The workflow's key for this change: it is written once. */
  key: string;
  at: string;
  ticket?: TicketColumns;
  steps?: StepColumns[];
  event: TicketEvent;
}

/** Applies a change of the ticket's workflow with its event; false when that key was applied before. */
export async function applyTicketChange(sql: Queryable, c: TicketChange): Promise<boolean> {
  return inTransaction(sql, async (tx) => {
    const [event] = await tx<{ id: number }[]>`
      INSERT INTO ticket_event (ticket_id, kind, actor, at, data, key)
      VALUES (${c.ticketId}, ${c.event.kind}, ${c.event.actor}, ${c.at}, ${tx.json(c.event.data as postgres.JSONValue)}, ${c.key})
      ON CONFLICT (ticket_id, key) WHERE key IS NOT NULL DO NOTHING
      RETURNING id`;
    if (!event) return false;
    if (c.ticket && Object.keys(c.ticket).length > 0) {
      await tx`UPDATE ticket SET ${tx({ ...c.ticket, updatedAt: c.at } as Record<string, unknown>)} WHERE id = ${c.ticketId}`;
    }
    for (const { id, ...columns } of c.steps ?? []) {
      if (Object.keys(columns).length > 0) await tx`UPDATE ticket_step SET ${tx(columns as Record<string, unknown>)} WHERE id = ${id} AND ticket_id = ${c.ticketId}`;
    }
    return true;
  });
}

/**
 * Creates the ticket's step instances from a solution (SPEC §7): after the existing ones, the
 * first active, the rest pending; with the change that goes with it (the event, the remaining
 * steps cancelled for a switch). Nothing happens when the key was applied before.
 */
export async function addSolutionSteps(sql: Sql, c: TicketChange & { solutionId: number; flow: 'main' | 'alternative' }): Promise<boolean> {
  return inTransaction(sql, async (tx) => {
    const applied = await applyTicketChange(tx as unknown as Sql, c);
    if (!applied) return false;
    await tx`
      INSERT INTO ticket_step (ticket_id, position, solution_id, flow, name, sector_id, sla_value, sla_unit, status, activated_at)
      SELECT ${c.ticketId}, base.n + ss.position, ss.solution_id, ${c.flow}, ss.name, ss.sector_id, ss.sla_value, ss.sla_unit,
             CASE WHEN ss.position = first.p THEN 'active' ELSE 'pending' END,
             CASE WHEN ss.position = first.p THEN ${c.at}::timestamptz END
        FROM solution_step ss,
             (SELECT COALESCE(max(position), 0) AS n FROM ticket_step WHERE ticket_id = ${c.ticketId}) base,
             (SELECT min(position) AS p FROM solution_step WHERE solution_id = ${c.solutionId}) first
       WHERE ss.solution_id = ${c.solutionId}
       ORDER BY ss.position`;
    await tx`UPDATE ticket SET solution_id = ${c.solutionId} WHERE id = ${c.ticketId}`;
    return true;
  });
}

/** The solution a ticket starts with: its mailbox's (SPEC §4.7), when it has no steps yet. */
export async function solutionToStart(sql: Queryable, protocol: string): Promise<{ ticketId: number; solutionId: number; name: string } | undefined> {
  const [row] = await sql<{ ticketId: number; solutionId: number; name: string }[]>`
    SELECT t.id AS ticket_id, s.id AS solution_id, s.name
      FROM ticket t JOIN mailbox m ON m.id = t.mailbox_id JOIN solution s ON s.id = m.solution_id
     WHERE t.protocol = ${protocol} AND NOT EXISTS (SELECT 1 FROM ticket_step st WHERE st.ticket_id = t.id)`;
  return row;
}

/** The alternative solution of a ticket's occurrence (SPEC §7: one per occurrence). */
export async function alternativeSolution(sql: Queryable, ticketId: number): Promise<{ solutionId: number; name: string } | undefined> {
  const [row] = await sql<{ solutionId: number; name: string }[]>`
    SELECT s.id AS solution_id, s.name FROM ticket t JOIN solution s ON s.occurrence_id = t.occurrence_id AND s.flow = 'alternative'
     WHERE t.id = ${ticketId}`;
  return row;
}

/** The occurrence type of an occurrence (a reclassification changes both). */
export async function occurrenceTypeOf(sql: Queryable, occurrenceId: number): Promise<number | null> {
  const [row] = await sql<{ occurrenceTypeId: number }[]>`SELECT occurrence_type_id FROM occurrence WHERE id = ${occurrenceId}`;
  return row?.occurrenceTypeId ?? null;
}
