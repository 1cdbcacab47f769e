import type { Client } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/common';
import { slaSourcesChangedSignal } from '../contracts/ticket.js';
import { ticketWorkflowId } from '../contracts/workflow-ids.js';
import type { Queryable } from '../db/client.js';
import { liveTicketProtocols, type SlaSource } from '../db/tickets.js';

export type { SlaSource } from '../db/tickets.js';

const TELL_TICKETS_MS = 10_000;
const AT_ONCE = 50;

/**
 * Something a ticket's SLA is computed from changed (SPEC §6: a contract and its SLA package,
 * the occurrence's SLA or alert, a calendar, the calendar of a sector): every ticket it
 * concerns that is not closed or cancelled re-plans its timers. Call it after the change is
 * saved; a ticket whose workflow is not running reads the change when it starts. Returns how
 * many tickets could not be told within the deadline (they re-plan at their next change).
 */
export async function slaSourceChanged(client: Client, sql: Queryable, source: SlaSource, why: string): Promise<{ told: number; notTold: number }> {
  const protocols = await liveTicketProtocols(sql, source);
  let told = 0;
  const deadline = Date.now() + TELL_TICKETS_MS;
  for (let i = 0; i < protocols.length && Date.now() < deadline; i += AT_ONCE) {
    const batch = protocols.slice(i, i + AT_ONCE);
    const results = await client.withDeadline(deadline, () =>
      Promise.allSettled(batch.map((p) => client.workflow.getHandle(ticketWorkflowId(p)).signal(slaSourcesChangedSignal, { why }))),
    );
    told += results.filter((r) => r.status === 'fulfilled' || r.reason instanceof WorkflowNotFoundError).length;
  }
  return { told, notTold: protocols.length - told };
}
