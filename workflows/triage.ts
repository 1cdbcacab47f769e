import { ActivityFailure, ApplicationFailure, ParentClosePolicy, proxyActivities, setCurrentDetails, startChild, upsertSearchAttributes } from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { Activities } from '../activities/index.js';
import { UNPROCESSABLE } from '../contracts/failures.js';
import { Assignee, Protocol } from '../contracts/search-attributes.js';
import type { PreTicketConversionRequest, PreTicketConversionResult } from '../contracts/triage.js';
import { ticketWorkflowId } from '../contracts/workflow-ids.js';
import { ticketLifecycle } from './ticket.js';

// Transient failures (database down) are retried for as long as they last.
const act = proxyActivities<Activities>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '5 minutes' },
});

/**
 * Triage (SPEC §4.5): an admin or agent converts a pre-ticket, as its e-mail would have been
 * converted automatically: the ticket (customer, chosen classification, solution started) in
 * one transaction, then distribution when its mailbox distributes, then the ticket's own
 * workflow. Its id is `triage:<emailId>`: requests at once attach to one run, which converts
 * once; the result names the request that did (`requestId`). A pre-ticket discarded meanwhile
 * is not converted.
 */
export async function convertPreTicket(request: PreTicketConversionRequest): Promise<PreTicketConversionResult> {
  const result = await act.convertPreTicket(request);
  if (result.kind !== 'converted') {
    setCurrentDetails(`Not converted: discarded by ${result.by} («${result.reason}»)`);
    return result;
  }
  const { protocol } = result;
  upsertSearchAttributes([{ key: Protocol, value: protocol }]);
  // Also for a conversion an earlier run made: both steps do nothing the second time.
  const details = [`Converted by ${result.by} into ticket ${protocol}`];
  let unassignedReason: string | undefined;
  try {
    const assigned = await act.assignTicket({ protocol });
    if (assigned.login) upsertSearchAttributes([{ key: Assignee, value: assigned.login }]);
    if (assigned.distributed) details.push(assigned.login ? `Assigned to ${assigned.login}: ${assigned.reason}` : `Not assigned: ${assigned.reason}`);
    if (assigned.distributed && assigned.userId === null) unassignedReason = assigned.reason;
  } catch (err) {
    if (!(err instanceof ActivityFailure && err.cause instanceof ApplicationFailure && err.cause.type === UNPROCESSABLE)) throw err;
  }
  try {
    await startChild(ticketLifecycle, {
      workflowId: ticketWorkflowId(protocol),
      args: [{ protocol, ...(unassignedReason ? { unassignedReason } : {}) }],
      parentClosePolicy: ParentClosePolicy.ABANDON,
    });
  } catch (err) {
    // Running already: an action on the ticket came first and started it.
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
  }
  setCurrentDetails(details.join('\n\n'));
  return result;
}
