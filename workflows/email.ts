import type { SearchAttributeUpdatePair } from '@temporalio/common';
import { ActivityFailure, ApplicationFailure, proxyActivities, upsertSearchAttributes } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import type { RecordedOutcome } from '../domain/email-outcome.js';
import { UNPROCESSABLE } from '../domain/failures.js';
import type { EmailRef } from '../domain/workflow-ids.js';
import { CustomerEmail, EmailOutcome, MailboxId, Protocol } from './search-attributes.js';

// Transient failures (database or IMAP down) are retried for as long as they last.
const act = proxyActivities<Activities>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '5 minutes' },
});

function isUnprocessable(err: unknown): err is ActivityFailure {
  return err instanceof ActivityFailure && err.cause instanceof ApplicationFailure && err.cause.type === UNPROCESSABLE;
}

/** The life of one inbound e-mail (SPEC §4); ends in exactly one recorded outcome. */
export async function processEmail(ref: EmailRef): Promise<RecordedOutcome> {
  upsertSearchAttributes([{ key: MailboxId, value: String(ref.mailboxId) }]);
  const received = await act.receiveEmail(ref);
  const finish = async (o: RecordedOutcome, extra: SearchAttributeUpdatePair[] = []): Promise<RecordedOutcome> => {
    if (o.outcome !== 'ticket_created') await act.recordEmailOutcome({ emailId: received.emailId, outcome: o.outcome, reason: o.reason });
    upsertSearchAttributes([{ key: EmailOutcome, value: o.outcome }, ...extra]);
    return o;
  };
  if (received.vanished) {
    upsertSearchAttributes([{ key: EmailOutcome, value: 'quarantined' }]);
    return { outcome: 'quarantined', reason: 'the message was no longer in the mailbox when it was read' };
  }
  if (received.duplicateOf !== null) {
    return finish({ outcome: 'ignored', reason: `duplicate of e-mail ${received.duplicateOf} (same Message-ID)` });
  }
  try {
    const parsed = await act.parseEmail(received.emailId);
    const sender = [{ key: CustomerEmail, value: parsed.fromAddress.toLowerCase() }];
    if (!received.autoConvert) {
      return finish({ outcome: 'pre_ticket', reason: 'automatic conversion is off for this mailbox' }, sender);
    }
    const customer = await act.resolveCustomer(received.emailId);
    const ticket = await act.openTicketFromEmail({ emailId: received.emailId, customerId: customer.customerId });
    return finish(
      { outcome: 'ticket_created', reason: `ticket ${ticket.protocol}`, protocol: ticket.protocol },
      [...sender, { key: Protocol, value: ticket.protocol }],
    );
  } catch (err) {
    if (!isUnprocessable(err)) throw err;
    return finish({ outcome: 'quarantined', reason: err.cause?.message ?? err.message });
  }
}
