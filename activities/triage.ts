import type { PreTicketConversionRequest, PreTicketConversionResult } from '../contracts/triage.js';
import type { Sql } from '../db/client.js';
import { convertPreTicket } from '../db/pre-tickets.js';
import { unprocessable } from './failures.js';

/** Triage (SPEC §4.5): the conversion of a pre-ticket, run by the workflow `triage:<emailId>`. */
export function createTriageActivities(deps: { sql: Sql; now?: () => Date }) {
  const { sql } = deps;
  const now = deps.now ?? (() => new Date());
  return {
    /**
     * The ticket of a pre-ticket, with its customer, classification, creator and solution, in
     * one transaction (db/pre-tickets.ts); a pre-ticket decided before gives that decision back.
     */
    async convertPreTicket(request: PreTicketConversionRequest): Promise<PreTicketConversionResult> {
      const done = await convertPreTicket(sql, request, now());
      switch (done.kind) {
        case 'converted':
        case 'discarded':
          return done;
        case 'missing':
          throw unprocessable(`there is no e-mail ${request.emailId}`);
        case 'not-pre-ticket':
          throw unprocessable(`e-mail ${request.emailId} is not a pre-ticket (its outcome is ${done.outcome ?? 'not recorded yet'})`);
        case 'unprocessable':
          throw unprocessable(done.reason);
      }
    },
  };
}
