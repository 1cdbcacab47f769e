import type { FastifyBaseLogger } from 'fastify';
import { slaSourceChanged, type SlaSource } from '../clients/sla-sources.js';
import type { AppDeps } from './deps.js';

/**
 * After a change the SLA is computed from is saved: the live tickets it concerns re-plan their
 * timers (SPEC §6). The change stands either way; tickets not told in time (Temporal away)
 * re-plan at their next change, and the log says so.
 */
export async function replanTickets(log: FastifyBaseLogger, deps: AppDeps, source: SlaSource, why: string): Promise<void> {
  try {
    const { notTold } = await slaSourceChanged(deps.temporal.client, deps.sql, source, why);
    if (notTold > 0) log.warn({ source, notTold }, 'some tickets did not re-plan their SLA now; they do at their next change');
  } catch (err) {
    log.warn({ source, err: (err as Error).message }, 'the tickets did not re-plan their SLA now; they do at their next change');
  }
}
