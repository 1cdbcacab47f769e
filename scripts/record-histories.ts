/**
 * Records the histories that `test/workflows/replay.test.ts` replays: starts the real parts (a
 * Temporal dev server in memory, embedded PostgreSQL, Dovecot, one worker, the API), runs each
 * representative case through the real workflows and writes each finished run's history as
 * JSON (the format `temporal workflow show --output json` writes) into
 * `test/workflows/histories/<workflow-type>-<case>[.<tag>].json`.
 *
 *   npx tsx scripts/record-histories.ts [--tag <name>] [--missing]
 *
 * It never overwrites a stored history: the old ones must keep replaying. After a workflow
 * change, record the new shape next to them with a tag (`--tag assignment`). `--missing`
 * writes only the cases that have no history stored yet, in any generation (cases added since
 * the last recording): the others still run, as the ground the new ones stand on, and are
 * kept as they are.
 */
import { mkdir, readdir, stat, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import type { WorkflowHandle } from '@temporalio/client';
import type proto from '@temporalio/proto';
import { poolChanged, requestAssignment } from '../clients/assigner.js';
import { startMailboxWatcher } from '../clients/mailbox-watchers.js';
import { newSecretsKey, parseSecretsKey, secretBox } from '../config/secret-box.js';
import { changeStatusUpdate, reassignUpdate, TICKET_WORKFLOW, ticketViewQuery, type Actor, type TicketInput } from '../contracts/ticket.js';
import { alertWorkflowId, assignerWorkflowId, emailWorkflowId, mailboxWorkflowId, ticketWorkflowId, type EmailRef } from '../contracts/workflow-ids.js';
import { poolKey, type PoolRef } from '../domain/distribution.js';
import type { RecordedOutcome } from '../domain/email-outcome.js';
import { formatProtocol } from '../domain/protocol.js';
import type { TicketDetail } from '../schemas/tickets.js';
import { seedDemo, viaInject } from '../stack/demo-seed.js';
import { appendMail } from '../stack/dovecot.js';
import { eventually, OUT_DIR, rawMail, ROOT, startRecordingStack, startWebhookReceiver, storedHistoryJson } from './recording-stack.js';

const TASK_QUEUE = 'record-histories';

const { values } = parseArgs({ options: { tag: { type: 'string' }, missing: { type: 'boolean' } } });
const tag = values.tag ? `.${values.tag}` : '';
if (tag && !/^\.[\w-]+$/.test(tag)) throw new Error(`--tag: letters, digits, - and _ only, not ${JSON.stringify(values.tag)}`);

const CASES = [
  'processEmail-ticket-created-new-customer',
  'processEmail-ticket-created-known-customer',
  'processEmail-pre-ticket',
  'processEmail-quarantined-no-sender',
  'processEmail-ignored-duplicate',
  'watchMailbox-continued-as-new',
  'assignPool-continued-as-new',
  'processEmail-ticket-created-lifecycle',
  'ticketLifecycle-steps-resolved-closed',
  'ticketLifecycle-sla-alerts',
  'deliverAlert-delivered',
  'ticketLifecycle-continued-as-new',
  'ticketLifecycle-continued-as-new-from-state',
  'deliverAlert-channel-failed',
] as const;
type Case = (typeof CASES)[number];
const fileOf = (c: Case) => join(OUT_DIR, `${c}${tag}.json`);

/** The activity type of a local activity's marker (its `data` detail), if the event is one. */
function localActivityTypes(e: proto.temporal.api.history.v1.IHistoryEvent): string[] {
  const m = e.markerRecordedEventAttributes;
  const data = m?.markerName === 'core_local_activity' ? m.details?.data?.payloads?.[0]?.data : undefined;
  if (!data) return [];
  const type = (JSON.parse(Buffer.from(data).toString('utf8')) as { activity_type?: string }).activity_type;
  return type ? [type] : [];
}

// A stored file is `<case>[.<tag>].json`: its case is the name before the first dot.
const storedCases = new Set((await readdir(OUT_DIR).catch(() => [] as string[])).filter((f) => f.endsWith('.json')).map((f) => f.split('.')[0]!));
const wanted = new Set<Case>(values.missing ? CASES.filter((c) => !storedCases.has(c)) : CASES);
if (wanted.size === 0) {
  console.error('every case has a stored history already; to record a new generation of them all: --tag <name>');
  process.exit(2);
}
// Refuse before starting anything: stored histories are never replaced.
const taken = [];
for (const c of wanted) if (await stat(fileOf(c)).then(() => true, () => false)) taken.push(relative(ROOT, fileOf(c)));
if (taken.length) {
  console.error(`already recorded: ${taken.join(', ')}\nkeep them (they must keep replaying) and record next to them: --tag <name>, or only the cases never recorded: --missing`);
  process.exit(2);
}

const log = (m: string) => console.log(`[record-histories] ${m}`);
const startedAt = Date.now();
const stops: (() => Promise<unknown>)[] = [];
try {
  const { sql, client, app, api, smtp, folder } = await startRecordingStack({ name: 'record', taskQueue: TASK_QUEUE, log, stops });
  // Where the alerts' webhook calls of the lifecycle cases go.
  const hook = await startWebhookReceiver();
  stops.push(hook.close);

  // Configured through the API as an admin does it; an active mailbox's watcher starts with it.
  const [autoImap, triageImap, rollingImap] = [await folder('Auto'), await folder('Triage'), await folder('Rolling')];
  const auto = await seedDemo(api, autoImap, { suffix: '-auto' });
  const triage = await seedDemo(api, triageImap, { suffix: '-triage', autoConvert: false });
  // Inactive: its watcher is started below with one round per run.
  const rolling = await seedDemo(api, rollingImap, { suffix: '-rolling', activeMailbox: false });

  type History = Awaited<ReturnType<WorkflowHandle['fetchHistory']>>;
  /** Writes the run's history unless it is stored already; `check` throws, before anything is written, when the run did not go as the case says. */
  const record = async (c: Case, handle: WorkflowHandle, lastEvent: 'workflowExecutionCompletedEventAttributes' | 'workflowExecutionContinuedAsNewEventAttributes', check?: (h: History) => void) => {
    const history = await handle.fetchHistory();
    const events = history.events ?? [];
    if (!events.at(-1)?.[lastEvent]) throw new Error(`${c}: the history of ${handle.workflowId} does not end with ${lastEvent}`);
    check?.(history);
    if (!wanted.has(c)) {
      log(`${c}: ${events.length} events, kept the stored one`);
      return history;
    }
    await mkdir(OUT_DIR, { recursive: true });
    // Stack traces in failures name this machine's paths: the files keep the project's relative ones.
    const json = storedHistoryJson(history);
    await writeFile(fileOf(c), json);
    log(`${relative(ROOT, fileOf(c))}: ${events.length} events, ${(json.length / 1024).toFixed(1)} KB`);
    return history;
  };
  const emailCase = async (c: Case, ref: EmailRef, expected: RecordedOutcome['outcome'], check?: (h: History) => void) => {
    const handle = client.workflow.getHandle(emailWorkflowId(ref));
    await eventually(() => handle.describe().then(() => true, () => undefined), 60_000, `workflow ${handle.workflowId}`);
    const outcome = (await handle.result()) as RecordedOutcome;
    if (outcome.outcome !== expected) throw new Error(`${c}: expected ${expected}, got ${JSON.stringify(outcome)}`);
    await record(c, handle, 'workflowExecutionCompletedEventAttributes', check);
    return outcome;
  };

  // A new customer, named after the local part of the address.
  const newCustomer = rawMail({ from: 'Antonio Carlos <Antonio.Carlos@new.example>', subject: 'Printer on fire', body: 'It smokes.', messageId: '<printer-on-fire@record.example>' });
  const newOutcome = await emailCase('processEmail-ticket-created-new-customer', { mailboxId: auto.mailboxId, ...(await appendMail(autoImap, newCustomer)) }, 'ticket_created');

  // A customer registered beforehand, matched by e-mail whatever the case.
  const known = await api('POST', '/customers', { name: 'Maria Known', email: 'maria@known.example', regionId: auto.regionId });
  if (known.status !== 201) throw new Error(`POST /customers answered ${known.status}: ${JSON.stringify(known.body)}`);
  const knownRef = { mailboxId: auto.mailboxId, ...(await appendMail(autoImap, rawMail({ from: 'MARIA@Known.example', subject: 'Known sender', messageId: '<known-sender@record.example>' }))) };
  const knownOutcome = await emailCase('processEmail-ticket-created-known-customer', knownRef, 'ticket_created');
  const ticket = await api('GET', `/tickets/${knownOutcome.protocol}`);
  const customerId = (ticket.body as { customer?: { id?: number } }).customer?.id;
  if (customerId !== (known.body as { id: number }).id) throw new Error(`the known sender's ticket is for customer ${customerId}, not ${(known.body as { id: number }).id}`);

  // Automatic conversion off: a pre-ticket.
  await emailCase('processEmail-pre-ticket', { mailboxId: triage.mailboxId, ...(await appendMail(triageImap, rawMail({ subject: 'Triage me', messageId: '<triage-me@record.example>' }))) }, 'pre_ticket');

  // No From header: quarantined (parseEmail refuses it).
  await emailCase('processEmail-quarantined-no-sender', { mailboxId: auto.mailboxId, ...(await appendMail(autoImap, rawMail({ from: '', subject: 'Nobody sent this', messageId: '<no-sender@record.example>' }))) }, 'quarantined');

  // The first message delivered again (same Message-ID, new UID): ignored.
  await emailCase('processEmail-ignored-duplicate', { mailboxId: auto.mailboxId, ...(await appendMail(autoImap, newCustomer)) }, 'ignored');

  // The watcher's first run: one round (a waiting message, its child workflow, the cursor), then continue-as-new.
  const rollingRef = { mailboxId: rolling.mailboxId, ...(await appendMail(rollingImap, rawMail({ subject: 'Round one', messageId: '<round-one@record.example>' }))) };
  const first = await startMailboxWatcher({ client, taskQueue: TASK_QUEUE, idleSeconds: 5, mailboxId: rolling.mailboxId, roundsPerRun: 1 });
  const firstRun = client.workflow.getHandle(mailboxWorkflowId(rolling.mailboxId), first.firstExecutionRunId);
  await eventually(async () => ((await firstRun.describe()).status.name === 'CONTINUED_AS_NEW' ? true : undefined), 60_000, 'the watcher to continue as new');
  await record('watchMailbox-continued-as-new', firstRun, 'workflowExecutionContinuedAsNewEventAttributes');
  // Its activity starts the e-mail's workflow (its children, before patched('watcher-reads-in-activity')).
  const started = await client.workflow.getHandle(emailWorkflowId(rollingRef)).describe().then(() => true, () => false);
  if (!started) throw new Error('the recorded watcher run did not start the e-mail workflow');

  // The assigner's first run: started by a request (update-with-start), the pool loaded and the
  // answer written; told the pool changed, it reloads before the second request; its limit of
  // two requests a run reached, it continues as new.
  const pool: PoolRef = { kind: 'sector', id: auto.sectorId };
  // The API names tickets by protocol; the assigner takes their database id.
  const ticketOf = async (protocol: string) => {
    const [row] = await sql<{ id: number }[]>`SELECT id FROM ticket WHERE protocol = ${protocol}`;
    if (!row) throw new Error(`no ticket ${protocol}`);
    return { ticketId: row.id, protocol };
  };
  const ask = async (protocol: string) => requestAssignment({ client, taskQueue: TASK_QUEUE, pool, request: await ticketOf(protocol), requestsPerRun: 2 });
  const firstAnswer = await ask(newOutcome.protocol!);
  const assigner = client.workflow.getHandle(assignerWorkflowId(poolKey(pool)));
  const assignerRun = client.workflow.getHandle(assigner.workflowId, (await assigner.describe()).runId);
  await poolChanged(client, pool, 'histories: a member changed');
  const secondAnswer = await ask(knownOutcome.protocol!);
  if (firstAnswer.userId === null || secondAnswer.userId === null) throw new Error(`the assigner found nobody: ${JSON.stringify([firstAnswer, secondAnswer])}`);
  await eventually(async () => ((await assignerRun.describe()).status.name === 'CONTINUED_AS_NEW' ? true : undefined), 60_000, 'the assigner to continue as new');
  await record('assignPool-continued-as-new', assignerRun, 'workflowExecutionContinuedAsNewEventAttributes');

  // ---- the ticket's lifecycle (workflows/ticket.ts) and its alerts (workflows/alert-delivery.ts) ----

  /** POST through `as` (the admin by default), expecting `status`; the answer's body. */
  const post = async <T = { id: number }>(url: string, body: object, status = 201, as = api): Promise<T> => {
    const res = await as('POST', url, body);
    if (res.status !== status) throw new Error(`POST ${url} answered ${res.status}, not ${status}: ${JSON.stringify(res.body)}`);
    return res.body as T;
  };
  const recorder: Actor = { userId: null, login: 'recorder', role: 'admin', sectorIds: [] };
  const ticketHandle = (protocol: string) => client.workflow.getHandle(ticketWorkflowId(protocol));
  const readable = (handle: WorkflowHandle) => eventually(() => handle.query(ticketViewQuery).catch(() => undefined), 60_000, `${handle.workflowId} to read its ticket`);

  // An e-mail into the demo mailbox: the ticket, its solution started, its workflow handed over (behind patched('ticket-lifecycle')).
  const stepsRef = { mailboxId: auto.mailboxId, ...(await appendMail(autoImap, rawMail({ from: 'Steps Customer <steps@customer.example>', subject: 'Where is my invoice?', messageId: '<where-is-my-invoice@record.example>' }))) };
  const stepsEmail = await emailCase('processEmail-ticket-created-lifecycle', stepsRef, 'ticket_created', (h) => {
    const events = h.events ?? [];
    const patches = events.flatMap((e) => Object.values(e.markerRecordedEventAttributes?.details ?? {}).flatMap((p) => p.payloads ?? []).map((p) => Buffer.from(p.data ?? []).toString('utf8')));
    // Steps are activity tasks, or local activities (markers) since patched('email-local-activities'), implied by patched('email-steps-together').
    const steps = events.flatMap((e) => [e.activityTaskScheduledEventAttributes?.activityType?.name, ...localActivityTypes(e)]);
    const handedOver = steps.includes('handOverTicket') || events.some((e) => e.startChildWorkflowExecutionInitiatedEventAttributes?.workflowType?.name === TICKET_WORKFLOW);
    const solutionStarted = steps.includes('startSolution');
    if (!patches.some((p) => ['ticket-lifecycle', 'email-local-activities', 'email-steps-together'].some((id) => p.includes(id))) || !handedOver || !solutionStarted) {
      throw new Error(`processEmail-ticket-created-lifecycle: expected the ticket-lifecycle marker (${patches.join(' ')}), startSolution (${solutionStarted}) and the ticket's workflow started (${handedOver})`);
    }
  });

  // Its three steps driven through the API by BackOffice staff (SPEC §7), then resolved and closed.
  const staff = async (login: string, sectorId: number) => {
    const user = await post('/users', { login, name: login, role: 'backoffice', sectorIds: [sectorId] });
    return viaInject(app, (await post<{ key: string }>('/api-keys', { userId: user.id, name: 'record-histories' })).key);
  };
  const support = await staff('support-steps', auto.sectorId);
  const backOffice = await staff('backoffice-steps', auto.backOfficeSectorId);
  const stepsProtocol = stepsEmail.protocol!;
  const stepsTicket = ticketHandle(stepsProtocol);
  await readable(stepsTicket);
  const steps = ((await api('GET', `/tickets/${stepsProtocol}`)).body as TicketDetail).steps;
  if (steps.length !== 3 || steps[0]!.status !== 'active') throw new Error(`the demo's solution did not start: ${JSON.stringify(steps)}`);
  const onTicket = (url: string) => `/tickets/${stepsProtocol}${url}`;
  // Not their sector: refused, and the history keeps no trace of it.
  await post(onTicket(`/steps/${steps[0]!.id}/complete`), {}, 409, backOffice);
  await post(onTicket(`/steps/${steps[0]!.id}/complete`), { note: 'The March invoice' }, 200, support);
  await post(onTicket(`/steps/${steps[1]!.id}/sector`), { sectorId: auto.sectorId, note: 'Support can check this one' }, 200, backOffice);
  const switched = await post<TicketDetail>(onTicket('/alternative-flow'), { note: 'Needs the account team' }, 200, support);
  const alternative = switched.steps.find((x) => x.flow === 'alternative' && x.status === 'active');
  if (!alternative) throw new Error(`no active alternative step after the switch: ${JSON.stringify(switched.steps)}`);
  const resolved = await post<TicketDetail>(onTicket(`/steps/${alternative.id}/complete`), { note: 'Invoice re-sent' }, 200, backOffice);
  if (resolved.status !== 'resolved') throw new Error(`the last step left the ticket ${resolved.status}, not resolved`);
  await post(onTicket('/status'), { status: 'closed', note: 'The customer confirmed' }, 200);
  await stepsTicket.result();
  await record('ticketLifecycle-steps-resolved-closed', stepsTicket, 'workflowExecutionCompletedEventAttributes');

  // SLA thresholds firing from timers, a pause, a reassignment; each alert delivered by e-mail and webhook.
  const slaCfg = await lifecycleConfig({ name: 'sla', slaMinutes: 1, thresholds: [50, 100], emails: ['ops@record.example'], webhookUrl: hook.url, webhookSecret: 'whsec-record-0123456789' });
  // Created 25 s ago: 50 % of the 1-minute SLA is due in 5 s, 100 % in 35 s plus the pause.
  const slaTicket = await insertTicket(slaCfg, { ageMs: 25_000, assigneeUserId: slaCfg.agentIds[0] });
  const slaHandle = await startTicket(slaTicket.protocol);
  const firingsOf = (ticketId: number) => sql<{ id: number; key: string }[]>`SELECT id::int, key FROM alert_firing WHERE ticket_id = ${ticketId} ORDER BY id`;
  const firedCount = (ticketId: number, n: number) => eventually(async () => ((await firingsOf(ticketId)).length >= n ? firingsOf(ticketId) : undefined), 90_000, `${n} alert firing(s) of ticket ${ticketId}`);
  await firedCount(slaTicket.ticketId, 1);
  await slaHandle.executeUpdate(changeStatusUpdate, { args: [{ status: 'waiting_customer', note: 'Asked for the account number', actor: recorder }] });
  await new Promise((r) => setTimeout(r, 3_000));
  await slaHandle.executeUpdate(changeStatusUpdate, { args: [{ status: 'open', actor: recorder }] });
  await slaHandle.executeUpdate(reassignUpdate, { args: [{ userId: slaCfg.agentIds[1], note: 'Back from the pause', actor: recorder }] });
  const slaFirings = await firedCount(slaTicket.ticketId, 2);
  if (slaFirings.map((f) => f.key).join() !== 'sla:50,sla:100') throw new Error(`unexpected firings: ${JSON.stringify(slaFirings)}`);
  const deliveries = slaFirings.map((f) => client.workflow.getHandle(alertWorkflowId(f.id)));
  for (const d of deliveries) {
    const results = (await d.result()) as { channel: string; delivered: boolean }[];
    if (results.length !== 2 || !results.every((r) => r.delivered)) throw new Error(`${d.workflowId} did not deliver both channels: ${JSON.stringify(results)}`);
  }
  if (smtp.received() < 2 || hook.received() < 2) throw new Error(`alerts received: ${smtp.received()} e-mail(s), ${hook.received()} webhook call(s)`);
  await slaHandle.executeUpdate(changeStatusUpdate, { args: [{ status: 'resolved', actor: recorder }] });
  await slaHandle.executeUpdate(changeStatusUpdate, { args: [{ status: 'closed', actor: recorder }] });
  await slaHandle.result();
  await record('ticketLifecycle-sla-alerts', slaHandle, 'workflowExecutionCompletedEventAttributes');
  await record('deliverAlert-delivered', deliveries[0]!, 'workflowExecutionCompletedEventAttributes');

  // Runs that hand their state on: few events a run (the first run's loading takes about 15),
  // and status changes enough for two hand-overs. The first run read the ticket; the second
  // started from the state the first handed it.
  const longCfg = await lifecycleConfig({ name: 'long', slaMinutes: 600, thresholds: [50, 100], emails: ['ops@record.example'] });
  const longTicket = await insertTicket(longCfg, {});
  const longHandle = await startTicket(longTicket.protocol, { eventsPerRun: 30 });
  const runOf = (runId: string) => client.workflow.getHandle(longHandle.workflowId, runId);
  const continued = (run: WorkflowHandle, which: string) => eventually(async () => ((await run.describe()).status.name === 'CONTINUED_AS_NEW' ? true : undefined), 60_000, `the ${which} run of ${run.workflowId} to continue as new`);
  const longRun1 = runOf(longHandle.firstExecutionRunId);
  /** Pauses and resumes the ticket until `run` has handed on (a run's changes take fewer events with local activities). */
  const changeUntilContinued = async (run: WorkflowHandle) => {
    for (let i = 0; i < 20 && (await run.describe()).status.name !== 'CONTINUED_AS_NEW'; i++) {
      await longHandle.executeUpdate(changeStatusUpdate, { args: [{ status: 'waiting_customer', actor: recorder }] });
      await longHandle.executeUpdate(changeStatusUpdate, { args: [{ status: 'open', actor: recorder }] });
    }
  };
  await changeUntilContinued(longRun1);
  await continued(longRun1, 'first');
  const longEvents1 = (await longRun1.fetchHistory()).events ?? [];
  await record('ticketLifecycle-continued-as-new', longRun1, 'workflowExecutionContinuedAsNewEventAttributes', () => {
    // loadTicket: an activity in runs before the ticket-local-activities patch, a local one's marker after it.
    const loaded = longEvents1.some((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'loadTicket' || e.markerRecordedEventAttributes?.markerName === 'core_local_activity');
    if (!loaded || !longEvents1.some((e) => e.workflowExecutionUpdateAcceptedEventAttributes)) {
      throw new Error('the first run of the ticket workflow continued as new before it took a change: raise eventsPerRun');
    }
  });
  const longRun2 = runOf(longEvents1.at(-1)!.workflowExecutionContinuedAsNewEventAttributes!.newExecutionRunId!);
  await changeUntilContinued(longRun2);
  await continued(longRun2, 'second');
  await record('ticketLifecycle-continued-as-new-from-state', longRun2, 'workflowExecutionContinuedAsNewEventAttributes');
  await longHandle.executeUpdate(changeStatusUpdate, { args: [{ status: 'cancelled', actor: recorder }] });
  await longHandle.result();

  // A channel given up: the webhook's secret was sealed with another SECRETS_KEY, which no retry opens.
  const failCfg = await lifecycleConfig({ name: 'fail', slaMinutes: 1, thresholds: [50], emails: [], webhookUrl: hook.url, webhookSecret: 'whsec-record-0123456789' });
  const foreign = secretBox(parseSecretsKey(newSecretsKey()));
  await sql`UPDATE alert SET webhook_secret = ${foreign.seal('whsec-sealed-elsewhere')} WHERE id = ${failCfg.alertId}`;
  // Created 31 s ago: 50 % is due at once.
  const failTicket = await insertTicket(failCfg, { ageMs: 31_000 });
  const failHandle = await startTicket(failTicket.protocol);
  const [failFiring] = await firedCount(failTicket.ticketId, 1);
  const failDelivery = client.workflow.getHandle(alertWorkflowId(failFiring!.id));
  const failResults = (await eventually(() => failDelivery.result().catch(() => undefined), 60_000, failDelivery.workflowId)) as { channel: string; delivered: boolean }[];
  await record('deliverAlert-channel-failed', failDelivery, 'workflowExecutionCompletedEventAttributes', () => {
    if (failResults.length !== 1 || failResults[0]!.channel !== 'webhook' || failResults[0]!.delivered) throw new Error(`${failDelivery.workflowId} was expected to give the webhook up: ${JSON.stringify(failResults)}`);
  });
  await failHandle.executeUpdate(changeStatusUpdate, { args: [{ status: 'cancelled', actor: recorder }] });
  await failHandle.result();

  /**
   * Configuration for a lifecycle case, made through the API (test/harness/lifecycle.ts does
   * the same for the tests): a sector with two agents, an alert, an occurrence with a short SLA
   * and a customer.
   */
  async function lifecycleConfig(o: { name: string; slaMinutes: number; thresholds: number[]; emails: string[]; webhookUrl?: string; webhookSecret?: string }) {
    const sector = await post('/sectors', { name: `Support ${o.name}` });
    const alert = await post('/alerts', { name: `SLA ${o.name}`, thresholds: o.thresholds, emails: o.emails, ...(o.webhookUrl ? { webhookUrl: o.webhookUrl, webhookSecret: o.webhookSecret ?? null } : {}) });
    const type = await post('/occurrence-types', { name: `Access ${o.name}`, sectorId: sector.id });
    const occurrence = await post('/occurrences', { occurrenceTypeId: type.id, name: `Locked out ${o.name}`, slaValue: o.slaMinutes, slaUnit: 'minutes', sectorId: sector.id, alertId: alert.id });
    const agent = async (n: number) => (await post('/users', { login: `agent${n}-${o.name}`, name: `Agent ${n}`, email: `agent${n}-${o.name}@record.example`, role: 'agent', sectorIds: [sector.id] })).id;
    const agentIds: [number, number] = [await agent(1), await agent(2)];
    const region = await post('/regions', { name: `Region ${o.name}` });
    const customer = await post('/customers', { name: `Customer ${o.name}`, email: `customer-${o.name}@record.example`, regionId: region.id });
    return { sectorId: sector.id, alertId: alert.id, occurrenceTypeId: type.id, occurrenceId: occurrence.id, agentIds, customerId: customer.id };
  }

  /** A ticket as a creation path leaves it (row and `created` event), `ageMs` old; its workflow is not started. */
  async function insertTicket(cfg: Awaited<ReturnType<typeof lifecycleConfig>>, o: { ageMs?: number; assigneeUserId?: number }) {
    const createdAt = new Date(Date.now() - (o.ageMs ?? 0));
    const [seq] = await sql<{ n: number }[]>`SELECT nextval('protocol_sequence')::int AS n`;
    const protocol = formatProtocol(createdAt.getUTCFullYear(), seq!.n);
    const [t] = await sql<{ id: number }[]>`
      INSERT INTO ticket (protocol, subject, description, customer_id, channel, occurrence_type_id, occurrence_id, sector_id, assignee_user_id, created_at, updated_at)
      VALUES (${protocol}, 'Cannot log in', 'Locked out since this morning', ${cfg.customerId}, 'api', ${cfg.occurrenceTypeId}, ${cfg.occurrenceId},
              ${cfg.sectorId}, ${o.assigneeUserId ?? null}, ${createdAt}, ${createdAt})
      RETURNING id::int`;
    await sql`INSERT INTO ticket_event (ticket_id, kind, actor, at) VALUES (${t!.id}, 'created', 'system:record-histories', ${createdAt})`;
    return { ticketId: t!.id, protocol };
  }

  /** Starts the ticket's workflow as a creation path hands over to it; returns once it has read the ticket. */
  async function startTicket(protocol: string, input: Partial<TicketInput> = {}) {
    const handle = await client.workflow.start(TICKET_WORKFLOW, { workflowId: ticketWorkflowId(protocol), taskQueue: TASK_QUEUE, args: [{ protocol, ...input }] });
    await readable(handle);
    return handle;
  }

  await assigner.terminate('histories recorded');
  for (const m of [auto, triage, rolling]) await client.workflow.getHandle(mailboxWorkflowId(m.mailboxId)).terminate('histories recorded');
  log(`done in ${Math.round((Date.now() - startedAt) / 1000)} s`);
} finally {
  for (const s of stops.reverse()) await s().catch((e: unknown) => console.error(e));
}

