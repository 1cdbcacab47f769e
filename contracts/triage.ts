/**
 * What the API and the triage workflow agree on (SPEC §4.5): converting a pre-ticket runs as
 * the workflow `triage:<emailId>`, so of two requests at once one converts and the other
 * attaches to the same run and is told who was first.
 */

export const TRIAGE_WORKFLOW = 'convertPreTicket';

export function triageWorkflowId(emailId: number): string {
  return `triage:${emailId}`;
}

/** The admin or agent converting: the ticket's creator, named on its timeline. */
export interface TriageActor {
  userId: number;
  login: string;
  /** Their sectors: the ticket's sector when the occurrence type says `dynamicSectorFromCreator`. */
  sectorIds: number[];
}

export interface PreTicketConversionRequest {
  emailId: number;
  /** Names the API request: the run's result says which request converted the pre-ticket. */
  requestId: string;
  actor: TriageActor;
  occurrenceTypeId: number;
  occurrenceId: number;
  /** The solution to start; null: the mailbox's, when it belongs to the occurrence. */
  solutionId: number | null;
}

/** What became of the pre-ticket: converted (by this request or an earlier one), or discarded before it could be. */
export type PreTicketConversionResult =
  | { kind: 'converted'; protocol: string; requestId: string | null; by: string; at: string }
  | { kind: 'discarded'; by: string; at: string; reason: string };
