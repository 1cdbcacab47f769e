/**
 * The engine's ceiling for bench/sla.ts: a workflow of the ticket workflow's shape with no work
 * in it. It starts, runs one activity (as the ticket runs loadTicket), sleeps until each of its
 * instants (as the ticket until its SLA thresholds) and runs one activity at each, which
 * records how late it ran; then it stays open, as an open ticket does, holding its place in
 * the worker's cache. Bundled by the bench itself (bundleWorkflowCode) and run by its own
 * worker process on its own task queue; not in the product's bundle.
 */
import { condition, proxyActivities, sleep } from '@temporalio/workflow';

export interface NoopTicketActivities {
  noopLoad(input: { id: number }): Promise<void>;
  /** Notes `Date.now() − dueAt` in the worker process (bench/worker-process.ts). */
  noopFire(input: { id: number; percent: number; dueAt: string }): Promise<void>;
}

const act = proxyActivities<NoopTicketActivities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

export async function noopTicket(input: { id: number; thresholds: { percent: number; dueAt: string }[] }): Promise<void> {
  await act.noopLoad({ id: input.id });
  for (const { percent, dueAt } of input.thresholds) {
    const wait = Date.parse(dueAt) - Date.now();
    if (wait > 0) await sleep(wait);
    await act.noopFire({ id: input.id, percent, dueAt });
  }
  // An open ticket waits for its next change; nothing comes here.
  await condition(() => false);
}
