import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { Decision, PoolMember, PoolRef } from '../domain/distribution.js';

/** The messages of the assignment workflow `assigner:<pool>` (workflows/assigner.ts). */

export interface AssignRequest {
  ticketId: number;
  protocol: string;
}

/** The answer: the decision and its explanation; `waiting` when the pool has nobody to take it yet. */
export type AssignAnswer = Decision & { ticketId: number; protocol: string; waiting: boolean };

/** Ask for an assignee; answered at once, one request at a time, the same answer for a retried ticket. */
export const assignUpdate = defineUpdate<AssignAnswer, [AssignRequest]>('assign');

/**
 * The pool changed in the database (a member paused, deactivated, joined or left; a ticket of
 * a member resolved, closed, cancelled or reassigned): reload it before the next decision.
 */
export const poolChangedSignal = defineSignal<[{ why: string }]>('poolChanged');

/** The workflow's view of its pool, for operators and the API. */
export interface PoolView {
  pool: PoolRef;
  members: PoolMember[] | null;
  waiting: AssignRequest[];
  decisionsThisRun: number;
  pendingWrites: number;
}
export const poolViewQuery = defineQuery<PoolView>('poolView');

/** The workflow type's name, for clients that start it by name. */
export const ASSIGNER_WORKFLOW = 'assignPool';
