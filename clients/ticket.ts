import { WithStartWorkflowOperation, WorkflowUpdateFailedError, WorkflowUpdateRPCTimeoutOrCancelledError, type Client } from '@temporalio/client';
import { ApplicationFailure, WorkflowExecutionAlreadyStartedError, WorkflowIdReusePolicy, type UpdateDefinition } from '@temporalio/common';
import { ACTION_REJECTED, TICKET_LOADING } from '../contracts/failures.js';
import { TICKET_WORKFLOW, type TicketInput, type TicketView } from '../contracts/ticket.js';
import { ticketWorkflowId } from '../contracts/workflow-ids.js';
import { withUpdateSlot } from './assigner.js';

/**
 * How long a change sent to a ticket's workflow may take, queueing for an update slot
 * excluded: past it the caller hears that Temporal did not answer, rather than holding a
 * request open while no worker runs.
 */
export const TICKET_UPDATE_DEADLINE_MS = 30_000;

/**
 * Sends a change to the ticket's workflow `ticket:<protocol>` and waits for its answer. The
 * workflow is started when it is not running (update-with-start; it reads the ticket from the
 * database when it starts), so a ticket opened before its workflow existed, or one whose
 * workflow ended, can still be acted on. At most `MAX_IN_FLIGHT_UPDATES` of this process's
 * updates per ticket are in flight (the server's limit); the others wait their turn.
 *
 * Throws `WorkflowUpdateFailedError` when the workflow refuses (see `rejectionReason`) and
 * `WorkflowUpdateRPCTimeoutOrCancelledError` when it did not answer within the deadline.
 */
export async function sendTicketUpdate<A>(
  client: Client,
  taskQueue: string,
  protocol: string,
  update: UpdateDefinition<TicketView, [A]>,
  arg: A,
  deadlineMs = TICKET_UPDATE_DEADLINE_MS,
): Promise<TicketView> {
  const workflowId = ticketWorkflowId(protocol);
  const input: TicketInput = { protocol };
  const send = () =>
    client.workflow.executeUpdateWithStart(update, {
      args: [arg],
      startWorkflowOperation: new WithStartWorkflowOperation(TICKET_WORKFLOW, {
        workflowId,
        taskQueue,
        args: [input],
        workflowIdConflictPolicy: 'USE_EXISTING',
        staticSummary: SUMMARY(protocol),
      }),
    });
  return withUpdateSlot(workflowId, () =>
    client.withDeadline(Date.now() + deadlineMs, async () => {
      // A workflow that is still reading its ticket (just started, by this update or by the
      // e-mail's workflow) refuses without a trace; it answers once it has read it.
      for (;;) {
        try {
          return await send();
        } catch (err) {
          if (!isLoading(err)) throw err;
          await new Promise((r) => setTimeout(r, LOADING_RETRY_MS));
        }
      }
    }),
  );
}

const LOADING_RETRY_MS = 50;

const SUMMARY = (protocol: string) => `Ticket ${protocol}: its status, SLA timers and steps`;

/**
 * Starts the ticket's workflow `ticket:<protocol>` for a ticket just opened. It may be running
 * already (an action on the ticket came first and started it), or have ended (the ticket was
 * closed meanwhile): then there is nothing to do, so a retried start is harmless.
 */
export async function startTicketWorkflow(client: Client, taskQueue: string, input: TicketInput): Promise<void> {
  try {
    await client.workflow.start(TICKET_WORKFLOW, {
      workflowId: ticketWorkflowId(input.protocol),
      taskQueue,
      args: [input],
      workflowIdConflictPolicy: 'USE_EXISTING',
      workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
      staticSummary: SUMMARY(input.protocol),
    });
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
  }
}

function isLoading(err: unknown): boolean {
  return err instanceof WorkflowUpdateFailedError && err.cause instanceof ApplicationFailure && err.cause.type === TICKET_LOADING;
}

/** Why the workflow refused a change (its validator's or handler's ACTION_REJECTED message), or undefined for any other error. */
export function rejectionReason(err: unknown): string | undefined {
  if (!(err instanceof WorkflowUpdateFailedError)) return undefined;
  const cause = err.cause;
  return cause instanceof ApplicationFailure && cause.type === ACTION_REJECTED ? cause.message : undefined;
}

/** Whether the workflow did not answer in time (or the call was cancelled): the change may still apply. */
export function notAnswered(err: unknown): boolean {
  return err instanceof WorkflowUpdateRPCTimeoutOrCancelledError;
}
