/**
 * The engine's ceiling for bench/assign.ts: an entity workflow of the assignment workflow's
 * shape (update-with-start, one long-lived workflow, continue-as-new after as many requests)
 * whose update handler answers at once and does nothing else. Bundled by the bench itself
 * (bundleWorkflowCode) and run by its own worker on its own task queue; not in the product's
 * bundle.
 */
import { allHandlersFinished, condition, continueAsNew, defineUpdate, setHandler, workflowInfo } from '@temporalio/workflow';

export const noopUpdate = defineUpdate<{ ticketId: number }, [{ ticketId: number; protocol: string }]>('noop');

export async function noopEntity(input: { requestsPerRun?: number } = {}): Promise<never> {
  const limit = input.requestsPerRun ?? 1_000;
  let handled = 0;
  setHandler(noopUpdate, (req) => {
    handled++;
    return { ticketId: req.ticketId };
  });
  await condition(() => handled >= limit || workflowInfo().continueAsNewSuggested);
  await condition(allHandlersFinished);
  return continueAsNew<typeof noopEntity>(input);
}
