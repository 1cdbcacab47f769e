import type { SecretBox } from '../config/secret-box.js';
import type { Sql } from '../db/client.js';
import { acknowledges, fillReadableFields, findReceived, storedHeaderSection } from '../db/inbound-emails.js';
import { getMailbox } from '../db/mailboxes.js';
import type { RecordedOutcome } from '../domain/email-outcome.js';
import type { EmailRef } from '../contracts/workflow-ids.js';
import { fetchAndStore } from './fetch-mail.js';
import { unprocessable } from './failures.js';
import { withMailboxConnection } from './imap.js';
import { readableFields } from './readable-header.js';

export interface Received {
  emailId: number;
  duplicateOf: number | null;
  autoConvert: boolean;
  /** The mailbox acknowledges new tickets (SPEC §4.11); absent in histories recorded before it existed. */
  acknowledge?: boolean;
  /** The outcome already recorded for this e-mail (it is not processed again). */
  settled: RecordedOutcome | null;
}

export function createReceiveActivities(deps: { sql: Sql; secrets: SecretBox }) {
  const { sql, secrets } = deps;
  return {
    /**
     * The stored e-mail at this position. The mailbox watcher stores messages before it
     * starts their workflows; for one started any other way, the message is fetched here.
     */
    async receiveEmail(ref: EmailRef): Promise<Received> {
      const mailbox = await getMailbox(sql, ref.mailboxId);
      if (!mailbox) throw unprocessable(`mailbox ${ref.mailboxId} does not exist`);
      let stored = await findReceived(sql, ref);
      if (!stored) {
        await withMailboxConnection({ sql, secrets }, mailbox, async (client) => {
          const lock = await client.getMailboxLock(mailbox.imap.folder, { readOnly: true });
          try {
            await fetchAndStore(sql, client, ref, [ref.uid]);
          } finally {
            lock.release();
          }
        });
        stored = await findReceived(sql, ref);
        if (!stored) throw new Error(`e-mail ${ref.mailboxId}:${ref.uidValidity}:${ref.uid} was not stored`);
      }
      // Settled when it was stored (quarantined for its size, say): what its header says is kept, as for any other.
      if (stored.outcome && (stored.outcome.outcome === 'quarantined' || stored.outcome.outcome === 'ignored')) {
        const fields = await readableFields(await storedHeaderSection(sql, stored.emailId));
        if (fields) await fillReadableFields(sql, stored.emailId, fields);
      }
      return { emailId: stored.emailId, duplicateOf: stored.duplicateOf, autoConvert: mailbox.autoConvert, acknowledge: await acknowledges(sql, ref.mailboxId), settled: stored.outcome };
    },
  };
}
