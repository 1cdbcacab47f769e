import { proxyActivities, setCurrentDetails, upsertSearchAttributes } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import { Protocol } from '../contracts/search-attributes.js';
import type { PreTicketConversionRequest, PreTicketConversionResult } from '../contracts/triage.js';
import { distribute, handOver } from './email.js';

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
  // Also for a conversion an earlier run made: both steps do nothing the second time (as for an e-mail).
  setCurrentDetails(`Converted by ${result.by} into ticket ${protocol}`);
  const distributed = await distribute(protocol);
  await handOver(protocol, distributed?.waiting ? distributed.reason : undefined);
  return result;
}
