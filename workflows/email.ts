import {
  ActivityFailure,
  ApplicationFailure,
  getCurrentDetails,
  ParentClosePolicy,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setCurrentDetails,
  startChild,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError, type SearchAttributeUpdatePair } from '@temporalio/common';
import type { Activities } from '../activities/index.js';
import type { Parsed } from '../activities/parse.js';
import type { Received } from '../activities/receive.js';
import type { RecordedOutcome } from '../domain/email-outcome.js';
import { UNPROCESSABLE } from '../contracts/failures.js';
import { ticketWorkflowId, type EmailRef } from '../contracts/workflow-ids.js';
import { ticketLifecycle } from './ticket.js';
import { Assignee, CustomerEmail, EmailOutcome, MailboxId, Protocol } from '../contracts/search-attributes.js';

// Transient failures (database or IMAP down) are retried for as long as they last.
const STEP_OPTIONS = {
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '5 minutes' },
} as const;
const act = proxyActivities<Activities>(STEP_OPTIONS);
/**
 * The e-mail's steps since issue 8: each one a local activity, run by the worker that runs the
 * workflow and recorded as a marker in its history (shown step by step in the Temporal UI), not
 * an activity task sent through the server and back. Like the others they may run again after
 * a crash; each one is idempotent.
 */
const local = proxyLocalActivities<Activities>(STEP_OPTIONS);
type Steps = typeof act;

/**
 * How the steps run: `act` is each one an activity task, the search attributes upserted as they
 * become known and the ticket's workflow started as a child (histories recorded before issue
 * 8's throughput work); `local` is each one a local activity, the search attributes upserted
 * once, at the end, and the ticket's workflow started by a local activity. With `local` an
 * e-mail takes one workflow task from its start to its outcome.
 */
interface Way {
  act: Steps;
  /**
   * Whether steps that do not wait for each other's results run together (since issue 8's second
   * throughput pass): the classification beside the parse, and after the ticket's transaction its
   * solution beside its distribution, the acknowledgement beside both and the hand-over.
   */
  together: boolean;
  /**
   * Whether an outcome already recorded by a step that has steps after it (the ticket's
   * transaction, a reply's append) is taken up rather than returned. Local steps' results are
   * kept only when the workflow task they ran in completes: a worker that dies before that
   * leaves the ticket committed and its solution, distribution, ticket workflow and
   * acknowledgement undone, and the next attempt starts again from the first step, which finds
   * the outcome. It then goes through the steps again, each idempotent (the ticket and the
   * append are found, not made again; the acknowledgement is sent at most once).
   */
  resumes: boolean;
  attributes(pairs: SearchAttributeUpdatePair[]): void;
  handOver(protocol: string, unassignedReason: string | undefined): Promise<void>;
  /** Upserts what `attributes` kept back. */
  finish(): void;
}

const REMOTE: Way = {
  act,
  together: false,
  resumes: false,
  attributes: (pairs) => upsertSearchAttributes(pairs),
  handOver,
  finish: () => {},
};

function localWay(together: boolean): Way {
  const pending = new Map<string, SearchAttributeUpdatePair>();
  return {
    act: local,
    together,
    resumes: true,
    attributes: (pairs) => pairs.forEach((p) => pending.set(p.key.name, p)),
    handOver: (protocol, unassignedReason) => local.handOverTicket({ protocol, ...(unassignedReason ? { unassignedReason } : {}) }),
    finish: () => upsertSearchAttributes([...pending.values()]),
  };
}

/**
 * A step's failure for good (UNPROCESSABLE): an activity task's comes wrapped in an
 * ActivityFailure, a local activity's that is not retried comes as it was thrown.
 */
function unprocessable(err: unknown): ApplicationFailure | undefined {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  return cause instanceof ApplicationFailure && cause.type === UNPROCESSABLE ? cause : undefined;
}

/** The life of one inbound e-mail (SPEC §4); ends in exactly one recorded outcome. */
export async function processEmail(ref: EmailRef): Promise<RecordedOutcome> {
  // Histories recorded before the steps ran together replay them one after another, and those
  // recorded before the steps were local activities replay them as activity tasks. A new e-mail
  // records the newest patch only: the older ones are implied.
  const way = patched(TOGETHER_PATCH) ? localWay(true) : patched(LOCAL_STEPS_PATCH) ? localWay(false) : REMOTE;
  way.attributes([{ key: MailboxId, value: String(ref.mailboxId) }]);
  const result = await runSteps(ref, way);
  way.attributes([{ key: EmailOutcome, value: result.outcome }]);
  way.finish();
  // Shown in the Temporal UI: where the e-mail ended and why.
  setCurrentDetails([getCurrentDetails(), `**${result.outcome}**: ${result.reason}`].filter(Boolean).join('\n\n'));
  return result;
}

async function runSteps(ref: EmailRef, way: Way): Promise<RecordedOutcome> {
  const { act } = way;
  const received = await act.receiveEmail(ref);
  const resumed = received.settled !== null && way.resumes && RESUMED_FROM.includes(received.settled.outcome);
  if (received.settled && !resumed) return received.settled;
  const record = async (o: RecordedOutcome) => {
    await act.recordEmailOutcome({ emailId: received.emailId, outcome: o.outcome, reason: o.reason });
    return o;
  };
  if (received.duplicateOf !== null) {
    return record({ outcome: 'ignored', reason: `duplicate of e-mail ${received.duplicateOf} (same Message-ID)` });
  }
  // Histories recorded before classification, threading and acknowledgements replay the steps below.
  // A ticket made by an earlier attempt is taken up even if the mailbox has stopped converting since.
  if (way.together || patched(INBOUND_PATCH)) return inbound(resumed ? { ...received, autoConvert: true } : received, record, way);
  try {
    const parsed = await act.parseEmail(received.emailId);
    way.attributes([{ key: CustomerEmail, value: parsed.fromAddress.toLowerCase() }]);
    setCurrentDetails(`From ${parsed.fromAddress}: «${parsed.subject ?? '(no subject)'}»`);
    if (!received.autoConvert) return record({ outcome: 'pre_ticket', reason: 'automatic conversion is off for this mailbox' });
    const customer = await act.resolveCustomer(received.emailId);
    // Records `ticket_created` together with the ticket.
    const ticket = await act.openTicketFromEmail({ emailId: received.emailId, customerId: customer.customerId });
    way.attributes([{ key: Protocol, value: ticket.protocol }]);
    // Histories recorded before the lifecycle existed replay without these steps.
    const lifecycle = patched(LIFECYCLE_PATCH);
    if (lifecycle) await startSolution(ticket.protocol, act);
    // Histories recorded before distribution existed replay without this step.
    const distributed = patched(DISTRIBUTION_PATCH) ? await distribute(ticket.protocol, way) : undefined;
    if (lifecycle) await way.handOver(ticket.protocol, distributed?.waiting ? distributed.reason : undefined);
    return { outcome: 'ticket_created', reason: `ticket ${ticket.protocol}`, protocol: ticket.protocol };
  } catch (err) {
    const failed = unprocessable(err);
    if (!failed) throw err;
    return record({ outcome: 'quarantined', reason: failed.message });
  }
}

/**
 * SPEC §4.2–§4.11 with issue 8: automatic mail ignored before it is parsed, replies threaded to
 * their ticket, loop protection, the outcome recorded with the ticket, and the acknowledgement.
 */
async function inbound(received: Received, record: (o: RecordedOutcome) => Promise<RecordedOutcome>, way: Way): Promise<RecordedOutcome> {
  const { act } = way;
  const { emailId } = received;
  try {
    const read = await classifyAndParse(emailId, way);
    if ('outcome' in read) return read;
    const parsed = read;
    way.attributes([{ key: CustomerEmail, value: parsed.fromAddress.toLowerCase() }]);
    setCurrentDetails(`From ${parsed.fromAddress}: «${parsed.subject ?? '(no subject)'}»`);
    const thread = await act.threadEmail(emailId);
    if (thread.appended) {
      way.attributes([{ key: Protocol, value: thread.protocol }]);
      await act.tellTicketOfReply({ protocol: thread.protocol, emailId });
      return { outcome: 'appended_to_ticket', reason: thread.reason, protocol: thread.protocol };
    }
    if (!received.autoConvert) {
      const replied = thread.followsUp ? ` (it replies to ${thread.followsUp.status} ticket ${thread.followsUp.protocol})` : '';
      return record({ outcome: 'pre_ticket', reason: `automatic conversion is off for this mailbox${replied}` });
    }
    const customer = await act.resolveCustomer(emailId);
    // Records the outcome together with the ticket (or the append, past the sender's hourly limit).
    const ticket = await act.openTicketFromEmail({ emailId, customerId: customer.customerId, followsUp: thread.followsUp });
    way.attributes([{ key: Protocol, value: ticket.protocol }]);
    const reason = ticket.reason ?? `ticket ${ticket.protocol}`;
    if (ticket.outcome === 'appended_to_ticket') return { outcome: 'appended_to_ticket', reason, protocol: ticket.protocol };
    await takeOver(ticket.protocol, received.acknowledge === true, way);
    return { outcome: 'ticket_created', reason, protocol: ticket.protocol };
  } catch (err) {
    const failed = unprocessable(err);
    if (!failed) throw err;
    return record({ outcome: 'quarantined', reason: failed.message });
  }
}

/**
 * SPEC §4.2 before §4.3: automatic mail ends here (`classifyEmail` records it `ignored`), other
 * mail is parsed. Together: the parse runs beside the classification and its result, or its
 * failure, counts only for mail a person wrote (automatic mail is parsed for nothing, and keeps
 * the fields the parse stored).
 */
async function classifyAndParse(emailId: number, way: Way): Promise<RecordedOutcome | Parsed> {
  const { act } = way;
  if (!way.together) return (await act.classifyEmail(emailId)) ?? act.parseEmail(emailId);
  const [automatic, parse] = await Promise.all([
    act.classifyEmail(emailId),
    act.parseEmail(emailId).then(
      (parsed) => ({ parsed }),
      (failure: unknown) => ({ failure }),
    ),
  ]);
  if (automatic) return automatic;
  if ('failure' in parse) throw parse.failure;
  return parse.parsed;
}

/**
 * After the ticket's transaction: its solution starts (SPEC §7), it is distributed (§5), its own
 * workflow takes over (§6) and the customer is acknowledged (§4.11). Together: the solution and
 * the distribution at once, then the hand-over; the acknowledgement beside all of them, so that
 * a mail server that is down never holds up the ticket's SLA clocks.
 */
async function takeOver(protocol: string, acknowledged: boolean, way: Way): Promise<void> {
  const { act } = way;
  if (!way.together) {
    await startSolution(protocol, act);
    const distributed = await distribute(protocol, way);
    await way.handOver(protocol, distributed?.waiting ? distributed.reason : undefined);
    if (acknowledged) await acknowledge(protocol, act);
    return;
  }
  const handedOver = (async () => {
    const [, distributed] = await Promise.all([startSolution(protocol, act), distribute(protocol, way)]);
    await way.handOver(protocol, distributed?.waiting ? distributed.reason : undefined);
  })();
  await Promise.all([handedOver, acknowledged ? acknowledge(protocol, act) : undefined]);
}

/** SPEC §4.11: the customer hears the protocol; whatever happens to that e-mail, the ticket stands. */
async function acknowledge(protocol: string, act: Steps): Promise<void> {
  try {
    const ack = await act.acknowledgeTicket({ protocol });
    setCurrentDetails([getCurrentDetails(), ack.sent ? `Acknowledged: ${ack.reason}` : `Not acknowledged: ${ack.reason}`].join('\n\n'));
  } catch (err) {
    if (!unprocessable(err)) throw err;
  }
}

const INBOUND_PATCH = 'inbound-threading';
const DISTRIBUTION_PATCH = 'distribute-after-ticket';
const LIFECYCLE_PATCH = 'ticket-lifecycle';
const LOCAL_STEPS_PATCH = 'email-local-activities';
const TOGETHER_PATCH = 'email-steps-together';
/** Outcomes recorded by a step with later steps (see `Way.resumes`). */
const RESUMED_FROM: readonly string[] = ['ticket_created', 'appended_to_ticket'];

/** SPEC §5: the ticket goes to its pool's least loaded member; a ticket that cannot be handed out stays created. */
export async function distribute(protocol: string, way: Way = REMOTE): Promise<{ waiting: boolean; reason: string } | undefined> {
  try {
    const assigned = await way.act.assignTicket({ protocol });
    if (assigned.login) way.attributes([{ key: Assignee, value: assigned.login }]);
    if (assigned.distributed) {
      setCurrentDetails([getCurrentDetails(), assigned.login ? `Assigned to ${assigned.login}: ${assigned.reason}` : `Not assigned: ${assigned.reason}`].join('\n\n'));
    }
    return { waiting: assigned.distributed && assigned.userId === null, reason: assigned.reason };
  } catch (err) {
    if (!unprocessable(err)) throw err;
    return undefined;
  }
}

/** SPEC §7 and §4.7: the mailbox's solution starts with the ticket (its first step active). */
async function startSolution(protocol: string, steps: Steps): Promise<void> {
  const started = await steps.startSolution({ protocol });
  if (started.solution) setCurrentDetails([getCurrentDetails(), `Solution «${started.solution}» started`].join('\n\n'));
}

/**
 * The ticket's own workflow takes over (SPEC §6–§8); it outlives this one. It may be running
 * already (the API starts it for an action that came first): then there is nothing to do.
 */
export async function handOver(protocol: string, unassignedReason: string | undefined): Promise<void> {
  try {
    await startChild(ticketLifecycle, {
      workflowId: ticketWorkflowId(protocol),
      args: [{ protocol, ...(unassignedReason ? { unassignedReason } : {}) }],
      parentClosePolicy: ParentClosePolicy.ABANDON,
    });
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
  }
}
