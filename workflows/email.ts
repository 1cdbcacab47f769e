import { ActivityFailure, ApplicationFailure, getCurrentDetails, patched, proxyActivities, setCurrentDetails, upsertSearchAttributes } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import type { RecordedOutcome } from '../domain/email-outcome.js';
import { UNPROCESSABLE } from '../contracts/failures.js';
import type { EmailRef } from '../contracts/workflow-ids.js';
import { Assignee, CustomerEmail, EmailOutcome, MailboxId, Protocol } from '../contracts/search-attributes.js';

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
  const result = await runSteps(ref);
  upsertSearchAttributes([{ key: EmailOutcome, value: result.outcome }]);
  // Shown in the Temporal UI: where the e-mail ended and why.
  setCurrentDetails([getCurrentDetails(), `**${result.outcome}**: ${result.reason}`].filter(Boolean).join('\n\n'));
  return result;
}

async function runSteps(ref: EmailRef): Promise<RecordedOutcome> {
  const received = await act.receiveEmail(ref);
  if (received.settled) return received.settled;
  const record = async (o: RecordedOutcome) => {
    await act.recordEmailOutcome({ emailId: received.emailId, outcome: o.outcome, reason: o.reason });
    return o;
  };
  if (received.duplicateOf !== null) {
    return record({ outcome: 'ignored', reason: `duplicate of e-mail ${received.duplicateOf} (same Message-ID)` });
  }
  try {
    const parsed = await act.parseEmail(received.emailId);
    upsertSearchAttributes([{ key: CustomerEmail, value: parsed.fromAddress.toLowerCase() }]);
    setCurrentDetails(`From ${parsed.fromAddress}: «${parsed.subject ?? '(no subject)'}»`);
    if (!received.autoConvert) return record({ outcome: 'pre_ticket', reason: 'automatic conversion is off for this mailbox' });
    const customer = await act.resolveCustomer(received.emailId);
    // Records `ticket_created` together with the ticket.
    const ticket = await act.openTicketFromEmail({ emailId: received.emailId, customerId: customer.customerId });
    upsertSearchAttributes([{ key: Protocol, value: ticket.protocol }]);
    // Histories recorded before distribution existed replay without this step.
    if (patched(DISTRIBUTION_PATCH)) await distribute(ticket.protocol);
    return { outcome: 'ticket_created', reason: `ticket ${ticket.protocol}`, protocol: ticket.protocol };
  } catch (err) {
    if (!isUnprocessable(err)) throw err;
    return record({ outcome: 'quarantined', reason: err.cause?.message ?? err.message });
  }
}

const DISTRIBUTION_PATCH = 'distribute-after-ticket';

/** SPEC §5: the ticket goes to its pool's least loaded member; a ticket that cannot be handed out stays created. */
async function distribute(protocol: string): Promise<void> {
  try {
    const assigned = await act.assignTicket({ protocol });
    if (assigned.login) upsertSearchAttributes([{ key: Assignee, value: assigned.login }]);
    if (assigned.distributed) {
      setCurrentDetails([getCurrentDetails(), assigned.login ? `Assigned to ${assigned.login}: ${assigned.reason}` : `Not assigned: ${assigned.reason}`].join('\n\n'));
    }
  } catch (err) {
    if (!isUnprocessable(err)) throw err;
  }
}
