import type { Sql } from '../db/client.js';
import { recordOutcome } from '../db/inbound-emails.js';
import type { EmailOutcome } from '../domain/email-outcome.js';

export function createOutcomeActivities(deps: { sql: Sql }) {
  const { sql } = deps;
  return {
    async recordEmailOutcome(input: { emailId: number; outcome: EmailOutcome; reason: string }): Promise<void> {
      await recordOutcome(sql, input.emailId, input.outcome, input.reason);
    },
  };
}
