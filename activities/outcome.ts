import type { Sql } from '../db/client.js';
import { fillReadableFields, recordOutcome, storedHeaderSection } from '../db/inbound-emails.js';
import type { EmailOutcome } from '../domain/email-outcome.js';
import { readableFields } from './readable-header.js';

export function createOutcomeActivities(deps: { sql: Sql }) {
  const { sql } = deps;
  return {
    /**
     * The e-mail's one outcome. An e-mail that ends ignored or quarantined keeps what its header
     * section says (subject, sender, date) where the parse did not get to store it, so people
     * can see what it was (`GET /emails`).
     */
    async recordEmailOutcome(input: { emailId: number; outcome: EmailOutcome; reason: string }): Promise<void> {
      if (input.outcome === 'ignored' || input.outcome === 'quarantined') {
        const fields = await readableFields(await storedHeaderSection(sql, input.emailId));
        if (fields) await fillReadableFields(sql, input.emailId, fields);
      }
      await recordOutcome(sql, input.emailId, input.outcome, input.reason);
    },
  };
}
