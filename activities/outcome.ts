import { simpleParser } from 'mailparser';
import type { Sql } from '../db/client.js';
import { fillReadableFields, recordOutcome, storedHeaderSection } from '../db/inbound-emails.js';
import type { EmailOutcome } from '../domain/email-outcome.js';
import { storableOrNull } from '../domain/storable-text.js';

/**
 * What can be read of an e-mail that was not parsed to the end (ignored, quarantined): its
 * header section alone, decoded as the full parse would; nothing when even that fails.
 */
async function readableFields(sql: Sql, emailId: number) {
  const head = await storedHeaderSection(sql, emailId);
  if (!head || head.length === 0) return undefined;
  try {
    const mail = await simpleParser(Buffer.concat([head, Buffer.from('\r\n')]), { skipHtmlToText: true, skipTextToHtml: true, skipTextLinks: true, skipImageLinks: true });
    const sender = mail.from?.value[0];
    return { subject: storableOrNull(mail.subject), fromAddress: storableOrNull(sender?.address) || null, fromName: storableOrNull(sender?.name) || null, sentAt: mail.date ?? null };
  } catch {
    return undefined;
  }
}

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
        const fields = await readableFields(sql, input.emailId);
        if (fields) await fillReadableFields(sql, input.emailId, fields);
      }
      await recordOutcome(sql, input.emailId, input.outcome, input.reason);
    },
  };
}
