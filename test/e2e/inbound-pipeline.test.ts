import { Worker } from '@temporalio/worker';
import { describe, expect, inject, it } from 'vitest';
import { startMailboxWatcher } from '../../clients/mailbox-watchers.js';
import { SlaState } from '../../contracts/search-attributes.js';
import { emailWorkflowId, mailboxWorkflowId, ticketWorkflowId } from '../../contracts/workflow-ids.js';
import { freePort } from '../../stack/free-port.js';
import { createWorker } from '../../workers/create-worker.js';
import type { RecordedOutcome } from '../../domain/email-outcome.js';
import type { TicketDetail } from '../../schemas/tickets.js';
import { useE2E } from '../harness/e2e.js';
import { testSecrets } from '../harness/common.js';
import { appendMail, eventually, rawMail, seedConfig, uniqueSuffix, type MailSpec } from '../harness/fixtures.js';

// Issue 8 through the real parts: Dovecot → the e-mail workflow (Temporal) → PostgreSQL → the
// API, and acknowledgements to a real SMTP server.
const e2e = useE2E('inbound');
const { watchedMailbox, outcomeOf } = e2e;

type Mailbox = Awaited<ReturnType<typeof watchedMailbox>>;

/** Appends the message to the mailbox's folder and waits for its outcome. */
async function deliver(cfg: Mailbox, raw: string): Promise<RecordedOutcome & { emailId: number }> {
  const ref = { mailboxId: cfg.mailboxId, ...(await appendMail(cfg.imap, raw)) };
  const outcome = await outcomeOf(ref);
  const [row] = await e2e.sql<{ id: number }[]>`SELECT id FROM inbound_email WHERE mailbox_id = ${ref.mailboxId} AND uid_validity = ${ref.uidValidity} AND uid = ${ref.uid}`;
  return { ...outcome, emailId: row!.id };
}

async function ticket(protocol: string): Promise<TicketDetail> {
  const { status, body } = await e2e.get<TicketDetail>(`/tickets/${protocol}`);
  expect(status).toBe(200);
  return body;
}

async function setStatus(protocol: string, status: string): Promise<void> {
  const res = await e2e.api.as('admin', { method: 'POST', url: `/tickets/${protocol}/status`, payload: { status } });
  expect(res.statusCode, res.body).toBe(200);
}

const count = async (query: Promise<{ n: number }[]>) => (await query)[0]!.n;

/** A customer's first e-mail: the ticket it opened. */
async function firstMail(cfg: Mailbox, spec: MailSpec & { from: string }): Promise<{ protocol: string; messageId: string; emailId: number }> {
  const messageId = spec.messageId ?? `<first${uniqueSuffix()}@customer.example>`;
  const opened = await deliver(cfg, rawMail({ ...spec, messageId }));
  expect(opened.outcome).toBe('ticket_created');
  return { protocol: opened.protocol!, messageId, emailId: opened.emailId };
}

describe('automatic mail (SPEC §4.2) ends ignored and makes no customer or ticket', () => {
  it('vacation replies, Exchange and qmail bounces, read receipts', async () => {
    const cfg = await watchedMailbox();
    const sfx = uniqueSuffix();
    const vacation = await deliver(cfg, rawMail({ from: `Ana Away <away${sfx}@customer.example>`, subject: 'Out of office: Printer on fire', extraHeaders: ['Auto-Submitted: auto-replied (vacation)'] }));
    const exchange = await deliver(cfg, rawMail({ from: `Microsoft Outlook <postmaster${sfx}@contoso.example>`, subject: 'Undeliverable: hello', extraHeaders: ['X-MS-Exchange-Message-Is-Ndr:'] }));
    const qmail = await deliver(cfg, rawMail({ from: `MAILER-DAEMON@mx${sfx}.example`, subject: 'failure notice', body: 'Hi. This is the qmail-send program at mx.example.\n\n<gone@example.org>:\nSorry, no mailbox here by that name.' }));
    const receipt = await deliver(cfg, rawMail({ from: `Rita <rita${sfx}@customer.example>`, subject: 'Read: invoice', extraHeaders: ['X-Auto-Response-Suppress: All'] }));

    expect(vacation).toMatchObject({ outcome: 'ignored', reason: 'automatic mail (auto reply): sent automatically (Auto-Submitted: auto-replied (vacation), RFC 3834)' });
    expect(exchange).toMatchObject({ outcome: 'ignored', reason: 'automatic mail (bounce): a non-delivery report (X-MS-Exchange-Message-Is-Ndr)' });
    expect(qmail).toMatchObject({ outcome: 'ignored', reason: `automatic mail (bounce): from the mail system's own mailbox MAILER-DAEMON@mx${sfx}.example` });
    expect(receipt).toMatchObject({ outcome: 'ignored', reason: expect.stringMatching(/^automatic mail \(auto reply\): .*X-Auto-Response-Suppress: All/) });
    expect(await count(e2e.sql`SELECT count(*)::int AS n FROM ticket WHERE mailbox_id = ${cfg.mailboxId}`)).toBe(0);
    expect(await count(e2e.sql`SELECT count(*)::int AS n FROM customer WHERE email_key LIKE ${`%${sfx}%`}`)).toBe(0);
    // What the header says is kept for people to see (GET /emails).
    const [kept] = await e2e.sql<{ subject: string; fromAddress: string }[]>`SELECT subject, from_address FROM inbound_email WHERE id = ${vacation.emailId}`;
    expect(kept).toEqual({ subject: 'Out of office: Printer on fire', fromAddress: `away${sfx}@customer.example` });
  });
});

describe('acknowledgement (SPEC §4.11)', () => {
  it('one e-mail per new ticket; a reply to it threads back; its bounce is linked to the ticket', { timeout: 90_000 }, async () => {
    const cfg = await watchedMailbox();
    await e2e.sql`UPDATE mailbox SET acknowledge = true, acknowledgement_subject = 'We got it: {{subject}}' WHERE id = ${cfg.mailboxId}`;
    const customer = `bia${uniqueSuffix()}@customer.example`;
    const first = await firstMail(cfg, { from: `Bia <${customer}>`, subject: 'Cannot log in' });

    const acks = e2e.smtp.messages.filter((m) => m.envelope.to.includes(customer));
    expect(acks).toHaveLength(1);
    const ack = acks[0]!;
    expect(ack.subject).toBe(`[#${first.protocol}] We got it: Cannot log in`);
    expect(ack.headers.get('auto-submitted')).toBe('auto-replied');
    expect(ack.inReplyTo).toBe(first.messageId);
    const [row] = await e2e.sql<{ status: string; messageId: string }[]>`
      SELECT o.status, o.message_id FROM outbound_email o JOIN ticket t ON t.id = o.ticket_id WHERE t.protocol = ${first.protocol}`;
    expect(row).toEqual({ status: 'sent', messageId: ack.messageId });
    expect((await ticket(first.protocol)).timeline.map((e) => e.kind)).toContain('acknowledgement_sent');

    // The customer answers the acknowledgement: the reply joins the ticket and is not acknowledged.
    const reply = await deliver(cfg, rawMail({ from: customer, subject: `Re: ${ack.subject}`, body: 'Still locked out.', extraHeaders: [`In-Reply-To: ${ack.messageId}`] }));
    expect(reply).toMatchObject({ outcome: 'appended_to_ticket', protocol: first.protocol });

    // The acknowledgement bounced (RFC 3464 report with the returned message).
    const boundary = `b${uniqueSuffix()}`;
    const bounce = [
      'From: Mail Delivery System <MAILER-DAEMON@mx.customer.example>',
      'To: alerts@mailtrack.test',
      'Subject: Undelivered Mail Returned to Sender',
      `Date: ${new Date().toUTCString()}`,
      `Message-ID: <bounce${uniqueSuffix()}@mx.customer.example>`,
      'Auto-Submitted: auto-replied',
      'MIME-Version: 1.0',
      `Content-Type: multipart/report; report-type=delivery-status; boundary="${boundary}"`,
      '',
      `--${boundary}`,
      'Content-Type: text/plain; charset=us-ascii',
      '',
      'Your message could not be delivered to one or more recipients.',
      `--${boundary}`,
      'Content-Type: message/delivery-status',
      '',
      'Reporting-MTA: dns; mx.customer.example',
      '',
      `Final-Recipient: rfc822; ${customer}`,
      'Action: failed',
      'Status: 5.2.2',
      'Diagnostic-Code: smtp; 552 5.2.2 Mailbox full',
      `--${boundary}`,
      'Content-Type: text/rfc822-headers',
      '',
      'From: Mailtrack <alerts@mailtrack.test>',
      `To: ${customer}`,
      `Subject: ${ack.subject}`,
      `Message-ID: ${ack.messageId}`,
      'Auto-Submitted: auto-replied',
      `--${boundary}--`,
      '',
    ].join('\r\n');
    const bounced = await deliver(cfg, bounce);
    expect(bounced.outcome).toBe('ignored');
    expect(bounced.reason).toContain(`it returns our acknowledgement ${ack.messageId} of ticket ${first.protocol} (not delivered to ${customer})`);
    const detail = await ticket(first.protocol);
    expect(detail.timeline.find((e) => e.kind === 'bounce_received')).toMatchObject({ actor: 'system:email', data: { emailId: bounced.emailId, recipient: customer, of: 'acknowledgement' } });
    // Still one ticket, one acknowledgement; the bounce and the reply were not answered.
    expect(await count(e2e.sql`SELECT count(*)::int AS n FROM ticket WHERE mailbox_id = ${cfg.mailboxId}`)).toBe(1);
    expect(e2e.smtp.messages.filter((m) => m.envelope.to.includes(customer))).toHaveLength(1);
    expect(e2e.smtp.messages.filter((m) => m.envelope.to.some((t) => /mailer-daemon/i.test(t)))).toHaveLength(0);
  });

  it('a mail server that is down holds up neither the ticket nor its workflow: the acknowledgement is retried beside them', { timeout: 60_000 }, async () => {
    // A worker of its own whose SMTP server is a port nothing listens on, and a mailbox watched on its queue.
    const taskQueue = `inbound-smtp-down${uniqueSuffix()}`;
    const smtp = { url: `smtp://127.0.0.1:${await freePort()}`, from: 'Mailtrack <support@mailtrack.test>' };
    const { worker, connection } = await createWorker({ temporalAddress: inject('temporalAddress'), namespace: 'default', taskQueue, sql: e2e.sql, secrets: testSecrets, alerts: { smtp }, workflowBundle: e2e.bundle });
    const running = worker.run();
    const cfg = await seedConfig(e2e.sql);
    await e2e.sql`UPDATE mailbox SET acknowledge = true WHERE id = ${cfg.mailboxId}`;
    await startMailboxWatcher({ client: e2e.client, taskQueue, idleSeconds: 30, mailboxId: cfg.mailboxId });
    const ref = { mailboxId: cfg.mailboxId, ...(await appendMail(cfg.imap, rawMail({ from: `Caio <caio${uniqueSuffix()}@customer.example>`, subject: 'Printer jammed' }))) };
    const email = e2e.client.workflow.getHandle(emailWorkflowId(ref));
    let protocol = '';
    try {
      // An attempt to acknowledge has failed and waits for the next one…
      protocol = await eventually(async () => {
        const [row] = await e2e.sql<{ protocol: string }[]>`
          SELECT t.protocol FROM ticket t JOIN inbound_email e ON e.id = t.source_email_id
            JOIN outbound_email o ON o.ticket_id = t.id AND o.kind = 'acknowledgement'
           WHERE e.mailbox_id = ${ref.mailboxId} AND e.uid = ${ref.uid} AND o.status = 'pending' AND o.last_error IS NOT NULL`;
        return row?.protocol;
      }, 30_000, 'a failed attempt to acknowledge');
      // …while the ticket is created with its outcome, and its own workflow (its SLA timers) runs.
      const [outcome] = await e2e.sql<{ outcome: string }[]>`SELECT outcome FROM inbound_email WHERE mailbox_id = ${ref.mailboxId} AND uid = ${ref.uid}`;
      expect(outcome!.outcome).toBe('ticket_created');
      const lifecycle = e2e.client.workflow.getHandle(ticketWorkflowId(protocol));
      const described = await eventually(() => lifecycle.describe().catch(() => undefined), 10_000, 'the ticket workflow');
      expect(described.status.name).toBe('RUNNING');
      // It loaded the ticket and watches its SLA (shown in the Temporal UI).
      await eventually(async () => ((await lifecycle.describe()).typedSearchAttributes.get(SlaState) === 'on_time' ? true : undefined), 10_000, 'the SLA watched');
      // The e-mail's workflow still retries the acknowledgement.
      expect((await email.describe()).status.name).toBe('RUNNING');
    } finally {
      for (const id of [emailWorkflowId(ref), mailboxWorkflowId(cfg.mailboxId), ...(protocol ? [ticketWorkflowId(protocol)] : [])]) {
        await e2e.client.workflow.getHandle(id).terminate('test over').catch(() => {});
      }
      worker.shutdown();
      await running;
      await connection.close();
    }
  });
});

describe('threading (SPEC §4.4)', () => {
  it('a reply by In-Reply-To joins its ticket with its attachments, and its workflow hears of it', { timeout: 60_000 }, async () => {
    const cfg = await watchedMailbox();
    const customer = `carl${uniqueSuffix()}@customer.example`;
    const first = await firstMail(cfg, { from: customer, subject: 'Order 123 is late', body: 'Where is it?' });
    const boundary = 'r1';
    const reply = [
      `From: Carl <${customer}>`,
      'To: support@mailtrack.test',
      'Subject: Re: Order 123 is late',
      `Date: ${new Date().toUTCString()}`,
      `Message-ID: <reply${uniqueSuffix()}@customer.example>`,
      `In-Reply-To: ${first.messageId}`,
      `References: ${first.messageId}`,
      'MIME-Version: 1.0',
      `Content-Type: multipart/mixed; boundary="${boundary}"`,
      '',
      `--${boundary}`,
      'Content-Type: text/plain; charset=utf-8',
      '',
      'Here is the receipt.',
      `--${boundary}`,
      'Content-Type: application/pdf; name="receipt.pdf"',
      'Content-Disposition: attachment; filename="receipt.pdf"',
      'Content-Transfer-Encoding: base64',
      '',
      Buffer.from('%PDF-1.4 receipt').toString('base64'),
      `--${boundary}--`,
      '',
    ].join('\r\n');
    const appended = await deliver(cfg, reply);
    expect(appended).toMatchObject({ outcome: 'appended_to_ticket', protocol: first.protocol, reason: `reply to ticket ${first.protocol} (In-Reply-To/References name its mail)` });

    const detail = await ticket(first.protocol);
    expect(detail.messages.map((m) => [m.id, m.text])).toEqual([[first.emailId, 'Where is it?'], [appended.emailId, 'Here is the receipt.']]);
    expect(detail.attachments).toEqual([expect.objectContaining({ emailId: appended.emailId, filename: 'receipt.pdf', url: `/tickets/${first.protocol}/attachments/${detail.attachments[0]!.id}` })]);
    expect(detail.timeline.find((e) => e.kind === 'message_received')).toMatchObject({ data: { emailId: appended.emailId, via: 'header' } });
    // GET /emails names the ticket an appended e-mail joined.
    const { body: listed } = await e2e.get<{ items: { id: number; protocol: string | null; outcome: string }[] }>(`/emails?mailboxId=${cfg.mailboxId}`);
    expect(listed.items.find((i) => i.id === appended.emailId)).toMatchObject({ outcome: 'appended_to_ticket', protocol: first.protocol });
    // The e-mail's workflow told the ticket's workflow (a signal in its history).
    const history = await e2e.client.workflow.getHandle(`ticket:${first.protocol}`).fetchHistory();
    expect(history.events?.some((e) => e.workflowExecutionSignaledEventAttributes?.signalName === 'replyReceived')).toBe(true);
    expect(await count(e2e.sql`SELECT count(*)::int AS n FROM ticket WHERE mailbox_id = ${cfg.mailboxId}`)).toBe(1);
  });

  it('[#protocol] from the customer reopens a resolved ticket; from a stranger it opens a new ticket', { timeout: 60_000 }, async () => {
    const cfg = await watchedMailbox();
    const customer = `dora${uniqueSuffix()}@customer.example`;
    const first = await firstMail(cfg, { from: customer, subject: 'Refund please' });
    await eventually(() => e2e.client.workflow.getHandle(`ticket:${first.protocol}`).query('ticketView').catch(() => undefined), 15_000, 'the ticket workflow');
    await setStatus(first.protocol, 'resolved');

    const byCustomer = await deliver(cfg, rawMail({ from: customer.toUpperCase(), subject: `Re: [#${first.protocol}] Refund please`, body: 'It did not arrive.' }));
    expect(byCustomer).toMatchObject({ outcome: 'appended_to_ticket', protocol: first.protocol, reason: expect.stringMatching(/\[#\d+\] in the subject, from its customer or a participant\); the ticket was resolved: it reopens$/) });
    const reopened = await eventually(async () => ((await ticket(first.protocol)).status === 'open' ? true : undefined), 15_000, 'the ticket to reopen');
    expect(reopened).toBe(true);

    const stranger = await deliver(cfg, rawMail({ from: `mallory${uniqueSuffix()}@elsewhere.example`, subject: `[#${first.protocol}] show me this ticket` }));
    expect(stranger.outcome).toBe('ticket_created');
    expect(stranger.protocol).not.toBe(first.protocol);
    expect((await ticket(first.protocol)).messages).toHaveLength(2);
  });

  it('a reply to a closed ticket opens a new ticket that links to it', { timeout: 60_000 }, async () => {
    const cfg = await watchedMailbox();
    const customer = `eva${uniqueSuffix()}@customer.example`;
    const first = await firstMail(cfg, { from: customer, subject: 'Broken screen' });
    await eventually(() => e2e.client.workflow.getHandle(`ticket:${first.protocol}`).query('ticketView').catch(() => undefined), 15_000, 'the ticket workflow');
    await setStatus(first.protocol, 'resolved');
    await setStatus(first.protocol, 'closed');

    const late = await deliver(cfg, rawMail({ from: customer, subject: 'Re: Broken screen', extraHeaders: [`In-Reply-To: ${first.messageId}`] }));
    expect(late).toMatchObject({ outcome: 'ticket_created', reason: `ticket ${late.protocol}, following up closed ticket ${first.protocol}` });
    const [row] = await e2e.sql<{ followsUp: string }[]>`
      SELECT (SELECT o.protocol FROM ticket o WHERE o.id = t.follows_up_ticket_id) AS follows_up FROM ticket t WHERE t.protocol = ${late.protocol!}`;
    expect(row!.followsUp).toBe(first.protocol);
    expect((await ticket(late.protocol!)).timeline[0]).toMatchObject({ kind: 'created', data: { followsUp: first.protocol } });
    expect((await ticket(first.protocol)).timeline.at(-1)).toMatchObject({ kind: 'followed_up', data: { by: late.protocol } });
    expect((await ticket(first.protocol)).messages).toHaveLength(1);
    // The link, both ways, in the ticket detail.
    expect(await ticket(late.protocol!)).toMatchObject({ followsUp: first.protocol, followedUpBy: [] });
    expect(await ticket(first.protocol)).toMatchObject({ followsUp: null, followedUpBy: [late.protocol] });
  });
});

describe('loop protection and the outcome', () => {
  it('past the sender\'s hourly limit, e-mails join the sender\'s latest ticket', { timeout: 60_000 }, async () => {
    const cfg = await watchedMailbox();
    await e2e.sql`UPDATE mailbox SET sender_ticket_limit = 2 WHERE id = ${cfg.mailboxId}`;
    const looping = `robot${uniqueSuffix()}@loop.example`;
    const outcomes = [];
    for (let i = 1; i <= 4; i++) outcomes.push(await deliver(cfg, rawMail({ from: looping, subject: `Alert number ${i}` })));
    expect(outcomes.map((o) => o.outcome)).toEqual(['ticket_created', 'ticket_created', 'appended_to_ticket', 'appended_to_ticket']);
    const latest = outcomes[1]!.protocol!;
    expect(outcomes[2]).toMatchObject({ protocol: latest, reason: `${looping} opened 2 tickets in this mailbox within the hour (limit 2): appended to its latest ticket ${latest}` });
    expect((await ticket(latest)).messages.map((m) => m.subject)).toEqual(['Alert number 2', 'Alert number 3', 'Alert number 4']);
    expect(await count(e2e.sql`SELECT count(*)::int AS n FROM ticket WHERE mailbox_id = ${cfg.mailboxId}`)).toBe(2);
  });

  it('no ticket is ever seen without its e-mail\'s outcome (both in one transaction)', { timeout: 90_000 }, async () => {
    const cfg = await watchedMailbox();
    // One after another (Dovecot allows 10 connections per user): the first are processed while the rest arrive.
    const appended = [];
    for (let i = 0; i < 20; i++) appended.push(await appendMail(cfg.imap, rawMail({ from: `burst${i}${uniqueSuffix()}@burst.example`, subject: `burst ${i}` })));
    let done = false;
    const outcomes = Promise.all(appended.map((r) => outcomeOf({ mailboxId: cfg.mailboxId, ...r }))).finally(() => (done = true));
    let samples = 0;
    while (!done) {
      const orphans = await count(e2e.sql`
        SELECT count(*)::int AS n FROM ticket t JOIN inbound_email e ON e.id = t.source_email_id WHERE t.mailbox_id = ${cfg.mailboxId} AND e.outcome IS NULL`);
      expect(orphans).toBe(0);
      samples++;
    }
    expect((await outcomes).every((o) => o.outcome === 'ticket_created')).toBe(true);
    expect(samples).toBeGreaterThan(0);
  });
});

describe('workflow determinism', () => {
  it('replays the histories this run produced with the current workflow code', async () => {
    const histories = [];
    for await (const wf of e2e.client.workflow.list({ query: `TaskQueue = '${e2e.taskQueue}' AND ExecutionStatus = 'Completed' AND WorkflowType = 'processEmail'` })) {
      histories.push({ workflowId: wf.workflowId, history: await e2e.client.workflow.getHandle(wf.workflowId, wf.runId).fetchHistory() });
    }
    expect(histories.length).toBeGreaterThan(5);
    for (const h of histories) await Worker.runReplayHistory({ workflowBundle: e2e.bundle }, h.history, h.workflowId);
  });
});
