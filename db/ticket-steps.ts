import type { ActiveStep } from '../schemas/ticket-actions.js';
import type { SlaState, TicketStatus } from '../domain/ticket-status.js';
import type { StepStatus } from '../contracts/ticket.js';
import type { Queryable } from './client.js';
import { toPage, where, type Page } from './crud.js';

/**
 * The step instances of tickets (ticket_step), as the API reads them: BackOffice's queue of
 * active steps, and what an action on a ticket or one of its steps is about. The ticket's
 * workflow writes these rows (db/ticket-lifecycle.ts); nothing here changes them.
 */

export interface ActiveStepOptions {
  /** Only these sectors' steps; undefined = every sector (admins). */
  sectorIds?: number[];
  /** Keyset pagination: the steps after this one in the queue's order. */
  after?: number;
  limit: number;
}

interface ActiveStepRow {
  id: number;
  protocol: string;
  subject: string;
  ticketStatus: TicketStatus;
  position: number;
  flow: 'main' | 'alternative';
  name: string;
  sectorId: number;
  sectorName: string;
  activatedAt: string;
  hasSla: boolean;
  slaDueAt: string | null;
  slaState: SlaState;
}

/** Where a step stands in the queue's order, or undefined when there is no such step. */
export async function stepQueuePosition(sql: Queryable, stepId: number): Promise<{ activatedAt: string | null } | undefined> {
  const [row] = await sql<{ activatedAt: string | null }[]>`SELECT activated_at FROM ticket_step WHERE id = ${stepId}`;
  return row;
}

/**
 * The active steps of tickets that have not ended, oldest activation first (ties by id), a page at a time. `after` names a
 * step (the previous page's last); the page goes on from its place in that order, read from
 * its row, so a step finished since then still marks the place. The ticket_step_active index
 * serves each sector's range.
 */
export async function listActiveSteps(sql: Queryable, o: ActiveStepOptions): Promise<Page<ActiveStep>> {
  const rows = await sql<ActiveStepRow[]>`
    SELECT s.id, t.protocol, t.subject, t.status AS ticket_status, s.position, s.flow, s.name,
           s.sector_id, sec.name AS sector_name, s.activated_at,
           s.sla_value IS NOT NULL AS has_sla, s.sla_due_at, s.sla_state
      FROM ticket_step s
      JOIN ticket t ON t.id = s.ticket_id
      JOIN sector sec ON sec.id = s.sector_id
     WHERE s.status = 'active' AND s.activated_at IS NOT NULL AND t.status NOT IN ('closed', 'cancelled') AND ${where(sql, [
       o.sectorIds !== undefined && sql`s.sector_id = ANY(${o.sectorIds}::bigint[])`,
       o.after !== undefined && sql`(s.activated_at, s.id) > (SELECT c.activated_at, c.id FROM ticket_step c WHERE c.id = ${o.after})`,
     ])}
     ORDER BY s.activated_at, s.id
     LIMIT ${o.limit + 1}`;
  return toPage(
    rows.map((r) => ({
      id: r.id,
      ticket: { protocol: r.protocol, subject: r.subject, status: r.ticketStatus },
      position: r.position,
      flow: r.flow,
      name: r.name,
      sector: { id: r.sectorId, name: r.sectorName },
      activatedAt: r.activatedAt,
      sla: r.hasSla ? { dueAt: r.slaDueAt, state: r.slaState } : null,
    })),
    o.limit,
  );
}

/** What an action on a ticket (and one of its steps) must know before it is sent to the workflow. */
export interface ActionTarget {
  status: TicketStatus;
  /** The step named by the action, when it is one of this ticket's. */
  step?: { id: number; status: StepStatus; sectorId: number };
}

/** The ticket's status (and the step's, when `stepId` is given); undefined when there is no such ticket. */
export async function actionTarget(sql: Queryable, protocol: string, stepId?: number): Promise<ActionTarget | undefined> {
  const [row] = await sql<{ status: TicketStatus; stepId: number | null; stepStatus: StepStatus | null; stepSectorId: number | null }[]>`
    SELECT t.status, s.id AS step_id, s.status AS step_status, s.sector_id AS step_sector_id
      FROM ticket t LEFT JOIN ticket_step s ON s.ticket_id = t.id AND s.id = ${stepId ?? null}
     WHERE t.protocol = ${protocol}`;
  if (!row) return undefined;
  return {
    status: row.status,
    ...(row.stepId !== null ? { step: { id: row.stepId, status: row.stepStatus!, sectorId: row.stepSectorId! } } : {}),
  };
}
