import { WorkflowExecutionAlreadyStartedError, WorkflowIdConflictPolicy, WorkflowIdReusePolicy, type Client } from '@temporalio/client';
import { TRIAGE_WORKFLOW, triageWorkflowId, type PreTicketConversionRequest, type PreTicketConversionResult } from '../contracts/triage.js';

/** How long the API waits for a conversion before answering that Temporal did not answer. */
export const TRIAGE_DEADLINE_MS = 30_000;

/**
 * Converts a pre-ticket through its workflow `triage:<emailId>` and waits for the result. A run
 * already going (another request's) is attached to, not started again; a run that completed
 * gives its result; one that failed (terminated by an operator) is run anew.
 * Throws when Temporal does not answer within the deadline.
 */
export async function runPreTicketConversion(opts: {
  client: Client;
  taskQueue: string;
  request: PreTicketConversionRequest;
  summary: string;
  deadlineMs?: number;
}): Promise<PreTicketConversionResult> {
  const { client, request } = opts;
  const workflowId = triageWorkflowId(request.emailId);
  return client.withDeadline(Date.now() + (opts.deadlineMs ?? TRIAGE_DEADLINE_MS), async () => {
    try {
      const handle = await client.workflow.start(TRIAGE_WORKFLOW, {
        workflowId,
        taskQueue: opts.taskQueue,
        args: [request],
        workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
        workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
        staticSummary: opts.summary,
      });
      return (await handle.result()) as PreTicketConversionResult;
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      return (await client.workflow.getHandle(workflowId).result()) as PreTicketConversionResult;
    }
  });
}
