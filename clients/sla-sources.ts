import type { Client } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/common';
import { slaSourcesChangedSignal } from '../contracts/ticket.js';
import { ticketWorkflowId } from '../contracts/workflow-ids.js';
import type { Queryable } from '../db/client.js';
import { liveTicketProtocols } from '../db/tickets.js';

const TELL_TICKETS_MS = 10_000;

/**
 * What a customer's tickets compute their SLA from changed (a contract and its SLA package,
 * SPEC §6): each ticket that is not closed or cancelled re-plans its timers. Call it after the
 * change is saved; a ticket whose workflow is not running reads the change when it starts.
 */
export async function customerSlaChanged(client: Client, sql: Queryable, customerId: number, why: string): Promise<void> {
  const protocols = await liveTicketProtocols(sql, customerId);
  await client.withDeadline(Date.now() + TELL_TICKETS_MS, () =>
    Promise.all(
      protocols.map((p) =>
        client.workflow
          .getHandle(ticketWorkflowId(p))
          .signal(slaSourcesChangedSignal, { why })
          .catch((err) => {
            if (!(err instanceof WorkflowNotFoundError)) throw err;
          }),
      ),
    ),
  );
}
