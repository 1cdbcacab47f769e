/**
 * Records the histories of the e-mail workflow's inbound paths (issue 8: behind
 * patched('inbound-threading')) that `test/workflows/replay.test.ts` replays, next to those of
 * `scripts/record-histories.ts` and in the same format: automatic mail ignored, a bounce of our
 * acknowledgement linked to its ticket, a ticket acknowledged, a reply appended (and its
 * ticket's workflow told), a reply to a closed ticket opening a linked one, an e-mail past its
 * sender's hourly limit, a pre-ticket and a quarantine on the new path; and the pre-ticket
 * converted through the API (the workflow `convertPreTicket`, SPEC §4.5).
 *
 *   npx tsx scripts/record-inbound-histories.ts [--tag <name>]
 *
 * Writes `test/workflows/histories/processEmail-<case>[.<tag>].json`: without a tag for the
 * cases that have no history stored yet in any generation, with one (after a workflow change)
 * for every case not yet recorded under it; never overwrites one (the old ones must keep replaying).
 */
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { ticketViewQuery } from '../contracts/ticket.js';
import { emailWorkflowId, mailboxWorkflowId, ticketWorkflowId, type EmailRef } from '../contracts/workflow-ids.js';
import type { ImapSettings } from '../db/mailboxes.js';
import type { RecordedOutcome } from '../domain/email-outcome.js';
import { seedDemo } from '../stack/demo-seed.js';
import { appendMail } from '../stack/dovecot.js';
import { eventually, OUT_DIR, rawMail, ROOT, startRecordingStack, storedHistoryJson } from './recording-stack.js';

const TASK_QUEUE = 'record-inbound-histories';
/** The inbound path's patch, or a later one that implies it. */
const PATCHES = ['inbound-threading', 'email-steps-together'];

const { values } = parseArgs({ options: { tag: { type: 'string' } } });
const tag = values.tag ? `.${values.tag}` : '';
if (tag && !/^\.[\w-]+$/.test(tag)) throw new Error(`--tag: letters, digits, - and _ only, not ${JSON.stringify(values.tag)}`);

const CASES = [
  'processEmail-ignored-automatic',
  'processEmail-ticket-created-acknowledged',
  'processEmail-ignored-bounce-linked',
  'processEmail-appended-reply',
  'processEmail-ticket-created-follow-up',
  'processEmail-appended-sender-limit',
  'processEmail-pre-ticket-inbound',
  'processEmail-quarantined-inbound',
  'convertPreTicket-converted',
] as const;
type Case = (typeof CASES)[number];
// Without a tag, the cases never recorded; with one, a new generation of every case not recorded under that tag.
const storedFiles = (await readdir(OUT_DIR).catch(() => [] as string[])).filter((f) => f.endsWith('.json'));
const storedCases = new Set(tag ? storedFiles.map((f) => f.slice(0, -'.json'.length)) : storedFiles.map((f) => f.split('.')[0]!));
const wanted = new Set<Case>(CASES.filter((c) => !storedCases.has(`${c}${tag}`)));
if (wanted.size === 0) {
  console.error('every inbound case has a stored history already');
  process.exit(2);
}

const log = (m: string) => console.log(`[record-inbound-histories] ${m}`);
const stops: (() => Promise<unknown>)[] = [];
try {
  const { sql, client, api, smtp, folder } = await startRecordingStack({ name: 'record-inbound', taskQueue: TASK_QUEUE, log, stops });
  const [autoImap, triageImap] = [await folder('Inbound'), await folder('InboundTriage')];
  const auto = await seedDemo(api, autoImap, { suffix: '-inbound' });
  const triage = await seedDemo(api, triageImap, { suffix: '-inbound-triage', autoConvert: false });
  await sql`UPDATE mailbox SET acknowledge = true, sender_ticket_limit = 2 WHERE id = ${auto.mailboxId}`;

  /** Appends the message, waits for its outcome, checks it and the patch marker, and writes the history if the case is wanted. */
  const emailCase = async (c: Case, imap: ImapSettings, mailboxId: number, raw: string, expected: RecordedOutcome['outcome']): Promise<RecordedOutcome> => {
    const ref: EmailRef = { mailboxId, ...(await appendMail(imap, raw)) };
    const handle = client.workflow.getHandle(emailWorkflowId(ref));
    await eventually(() => handle.describe().then(() => true, () => undefined), 60_000, handle.workflowId);
    const outcome = (await handle.result()) as RecordedOutcome;
    if (outcome.outcome !== expected) throw new Error(`${c}: expected ${expected}, got ${JSON.stringify(outcome)}`);
    const history = await handle.fetchHistory();
    const markers = (history.events ?? []).flatMap((e) => Object.values(e.markerRecordedEventAttributes?.details ?? {}).flatMap((p) => p.payloads ?? []).map((p) => Buffer.from(p.data ?? []).toString('utf8')));
    if (!markers.some((m) => PATCHES.some((p) => m.includes(p)))) throw new Error(`${c}: no ${PATCHES.join(' or ')} marker in the history (${markers.join(' ')})`);
    if (wanted.has(c)) {
      await mkdir(OUT_DIR, { recursive: true });
      const file = join(OUT_DIR, `${c}${tag}.json`);
      await writeFile(file, storedHistoryJson(history), { flag: 'wx' });
      log(`${relative(ROOT, file)}: ${history.events?.length} events`);
    }
    return outcome;
  };

  await emailCase('processEmail-ignored-automatic', autoImap, auto.mailboxId, rawMail({ from: 'Ana Away <away@customer.example>', subject: 'Out of office', messageId: '<away@record.example>', headers: ['Auto-Submitted: auto-replied'] }), 'ignored');

  const opened = await emailCase('processEmail-ticket-created-acknowledged', autoImap, auto.mailboxId, rawMail({ from: 'Bia <bia@customer.example>', subject: 'Cannot log in', messageId: '<cannot-log-in@record.example>' }), 'ticket_created');
  const ack = await eventually(async () => smtp.messages.find((m) => m.to === 'bia@customer.example'), 60_000, 'the acknowledgement');

  const bounce = [
    'From: Mail Delivery System <MAILER-DAEMON@mx.customer.example>',
    'To: alerts@record.example',
    'Subject: Undelivered Mail Returned to Sender',
    'Date: Mon, 02 Mar 2026 12:00:00 +0000',
    'Message-ID: <bounce@mx.customer.example>',
    'MIME-Version: 1.0',
    'Content-Type: multipart/report; report-type=delivery-status; boundary="b1"',
    '',
    '--b1',
    'Content-Type: message/delivery-status',
    '',
    'Reporting-MTA: dns; mx.customer.example',
    '',
    'Final-Recipient: rfc822; bia@customer.example',
    'Action: failed',
    'Status: 5.2.2',
    '--b1',
    'Content-Type: text/rfc822-headers',
    '',
    `Message-ID: ${ack.messageId}`,
    '--b1--',
    '',
  ].join('\r\n');
  const bounced = await emailCase('processEmail-ignored-bounce-linked', autoImap, auto.mailboxId, bounce, 'ignored');
  if (!bounced.reason.includes(opened.protocol!)) throw new Error(`the bounce was not linked to ticket ${opened.protocol}: ${bounced.reason}`);

  await emailCase('processEmail-appended-reply', autoImap, auto.mailboxId, rawMail({ from: 'bia@customer.example', subject: `Re: [#${opened.protocol}] Cannot log in`, messageId: '<reply@record.example>', headers: [`In-Reply-To: ${ack.messageId}`] }), 'appended_to_ticket');

  // The ticket closed through the API; the customer writes again in the old thread.
  const ticketHandle = client.workflow.getHandle(ticketWorkflowId(opened.protocol!));
  await eventually(() => ticketHandle.query(ticketViewQuery).catch(() => undefined), 60_000, 'the ticket workflow');
  for (const status of ['resolved', 'closed']) {
    const res = await api('POST', `/tickets/${opened.protocol}/status`, { status });
    if (res.status !== 200) throw new Error(`POST /tickets/${opened.protocol}/status ${status}: ${res.status} ${JSON.stringify(res.body)}`);
  }
  await emailCase('processEmail-ticket-created-follow-up', autoImap, auto.mailboxId, rawMail({ from: 'bia@customer.example', subject: 'Re: Cannot log in', messageId: '<late-reply@record.example>', headers: ['In-Reply-To: <cannot-log-in@record.example>'] }), 'ticket_created');
  // Bia's second ticket within the hour; the third e-mail goes to it.
  await emailCase('processEmail-appended-sender-limit', autoImap, auto.mailboxId, rawMail({ from: 'bia@customer.example', subject: 'Another question', messageId: '<another@record.example>' }), 'appended_to_ticket');

  await emailCase('processEmail-pre-ticket-inbound', triageImap, triage.mailboxId, rawMail({ subject: 'Triage me', messageId: '<triage-inbound@record.example>' }), 'pre_ticket');
  // The pre-ticket converted by an admin (SPEC §4.5): the workflow triage:<emailId>, with distribution and the ticket's workflow.
  {
    const c: Case = 'convertPreTicket-converted';
    await sql`UPDATE mailbox SET auto_distribute = true, distribution_target = 'sector' WHERE id = ${triage.mailboxId}`;
    const [pre] = await sql<{ id: number }[]>`SELECT id FROM inbound_email WHERE message_id = '<triage-inbound@record.example>' AND mailbox_id = ${triage.mailboxId}`;
    const res = await api('POST', `/pre-tickets/${pre!.id}/convert`, { occurrenceTypeId: triage.occurrenceTypeId, occurrenceId: triage.occurrenceId });
    if (res.status !== 201) throw new Error(`POST /pre-tickets/${pre!.id}/convert: ${res.status} ${JSON.stringify(res.body)}`);
    const history = await client.workflow.getHandle(`triage:${pre!.id}`).fetchHistory();
    if (wanted.has(c)) {
      const file = join(OUT_DIR, `${c}${tag}.json`);
      await writeFile(file, storedHistoryJson(history), { flag: 'wx' });
      log(`${relative(ROOT, file)}: ${history.events?.length} events`);
    }
  }
  await emailCase('processEmail-quarantined-inbound', autoImap, auto.mailboxId, rawMail({ from: '', subject: 'Nobody sent this', messageId: '<nobody-inbound@record.example>' }), 'quarantined');

  for (const m of [auto, triage]) await client.workflow.getHandle(mailboxWorkflowId(m.mailboxId)).terminate('histories recorded');
  log('done');
} finally {
  for (const s of stops.reverse()) await s().catch((e: unknown) => console.error(e));
}

