import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { Role } from '../domain/roles.js';
import type { SlaState, StepStatus, TicketStatus } from '../domain/ticket-status.js';

/** The messages of a ticket's workflow `ticket:<protocol>` (workflows/ticket.ts, SPEC §6–§8). */

/** The workflow type's name, for clients that start it by name. */
export const TICKET_WORKFLOW = 'ticketLifecycle';

/** Who asks: a user through the API (`user:<login>`), or a part of the system (`system:<part>`). */
export interface Actor {
  userId: number | null;
  login: string;
  role: Role | 'system';
  sectorIds: number[];
}

/** How the timeline names an actor. */
export function actorName(a: Actor): string {
  return a.role === 'system' ? `system:${a.login}` : `user:${a.login}`;
}

export interface StatusChange {
  status: TicketStatus;
  note?: string;
  actor: Actor;
}

export interface Reassignment {
  userId: number;
  note?: string;
  actor: Actor;
}

export interface StepCompletion {
  stepId: number;
  note?: string;
  actor: Actor;
}

export interface FlowSwitch {
  note?: string;
  actor: Actor;
}

export interface StepMove {
  stepId: number;
  sectorId: number;
  note?: string;
  actor: Actor;
}

/** A change of what the SLA is computed from (occurrence, sector); contracts are signalled. */
export interface Reclassification {
  occurrenceId?: number;
  sectorId?: number;
  note?: string;
  actor: Actor;
}

export { STEP_STATUSES, type StepStatus } from '../domain/ticket-status.js';

export interface StepView {
  id: number;
  position: number;
  flow: 'main' | 'alternative';
  name: string;
  sectorId: number;
  status: StepStatus;
  sla: { dueAt: string | null; state: SlaState } | null;
}

/** The ticket as its workflow holds it: what every update answers with. */
export interface TicketView {
  protocol: string;
  status: TicketStatus;
  assigneeUserId: number | null;
  sectorId: number | null;
  sla: { dueAt: string | null; state: SlaState; paused: boolean } | null;
  steps: StepView[];
}

export const changeStatusUpdate = defineUpdate<TicketView, [StatusChange]>('changeStatus');
export const reassignUpdate = defineUpdate<TicketView, [Reassignment]>('reassign');
export const completeStepUpdate = defineUpdate<TicketView, [StepCompletion]>('completeStep');
export const switchFlowUpdate = defineUpdate<TicketView, [FlowSwitch]>('switchFlow');
export const moveStepUpdate = defineUpdate<TicketView, [StepMove]>('moveStep');
export const reclassifyUpdate = defineUpdate<TicketView, [Reclassification]>('reclassify');

/** A reply to the ticket arrived by mail (SPEC §4.4): a resolved ticket reopens. */
export const replyReceivedSignal = defineSignal<[{ emailId: number }]>('replyReceived');
/** What the SLA is computed from changed outside the ticket (a contract of its customer). */
export const slaSourcesChangedSignal = defineSignal<[{ why: string }]>('slaSourcesChanged');
/** The assignment workflow chose an assignee for a ticket that waited. */
export const assignedSignal = defineSignal<[{ userId: number; login: string }]>('assigned');

export const ticketViewQuery = defineQuery<TicketView>('ticketView');

/** How the workflow starts: by protocol; it reads the rest from the database. */
export interface TicketInput {
  protocol: string;
  /** The ticket waits for an assignee because its pool had nobody (SPEC §5): the sector is alerted. */
  unassignedReason?: string;
  /** What a run hands to the next (continue-as-new); absent on the first run. */
  state?: unknown;
  /** Events a run takes before it continues as new (tests force it low; default 2,000). */
  eventsPerRun?: number;
}
