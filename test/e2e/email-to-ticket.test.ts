import { Worker } from '@temporalio/worker';
import { describe, expect, it } from 'vitest';
import { startMailboxWatcher } from '../../clients/mailbox-watchers.js';
import type { Ticket, TicketDetail } from '../../schemas/tickets.js';
import { emailWorkflowId, mailboxWorkflowId } from '../../contracts/workflow-ids.js';
import { createActivities } from '../../activities/index.js';
import { useE2E } from '../harness/e2e.js';
import { appendMail, eventually, rawMail, seedConfig, testSecrets, uniqueSuffix } from '../harness/fixtures.js';

const e2e = useE2E('e2e');
const { watchedMailbox, outcomeOf, get: api } = e2e;

async function ticketWithSubject(mailboxId: number, subject: string): Promise<Ticket> {
  return eventually(async () => {
    const { body } = await api<{ items: Ticket[] }>(`/tickets?mailboxId=${mailboxId}`);
    return body.items.find((t) => t.subject === subject);
  }, 30_000, `a ticket with subject «${subject}»`);
}

describe('an e-mail appended over IMAP becomes a ticket (Dovecot → Temporal → PostgreSQL → API)', () => {
  it('for a new customer, named after the local part of the address', async () => {
    const cfg = await watchedMailbox();
    const { uid, uidValidity } = await appendMail(cfg.imap, rawMail({ from: 'Antonio Carlos <Antonio.Carlos@e2e-new.example>', subject: 'Printer on fire', body: 'It smokes.' }));

    const listed = await ticketWithSubject(cfg.mailboxId, 'Printer on fire');
    const { status, body: ticket } = await api<TicketDetail>(`/tickets/${listed.protocol}`);
    expect(status).toBe(200);
    expect(ticket).toMatchObject({
      protocol: listed.protocol,
      status: 'open',
      channel: 'email',
      description: 'It smokes.',
      customer: { name: 'Antonio.Carlos', email: 'Antonio.Carlos@e2e-new.example' },
      mailbox: { id: cfg.mailboxId },
      occurrence: { id: cfg.occurrenceId },
      sector: { id: cfg.sectorId },
      sla: { state: 'on_time' },
    });

    // The e-mail's own workflow, under its readable id, says what became of it.
    const outcome = await outcomeOf({ mailboxId: cfg.mailboxId, uidValidity, uid });
    expect(outcome).toEqual({ outcome: 'ticket_created', reason: `ticket ${ticket.protocol}`, protocol: ticket.protocol });
    // Operators find it by protocol in the Temporal UI (visibility is eventually consistent).
    // Both of the ticket's workflows: the e-mail's, and the ticket's own.
    const found = await eventually(async () => {
      const ids: string[] = [];
      for await (const wf of e2e.client.workflow.list({ query: `Protocol = '${ticket.protocol}'` })) ids.push(wf.workflowId);
      return ids.length === 2 ? ids.sort() : undefined;
    }, 15_000, 'the workflows in visibility');
    const emailWorkflow = emailWorkflowId({ mailboxId: cfg.mailboxId, uidValidity, uid });
    expect(found).toEqual([emailWorkflow, `ticket:${ticket.protocol}`].sort());
    // …and read where the e-mail ended and why in its details.
    const meta = await e2e.client.workflow.getHandle(emailWorkflow).query<{ currentDetails?: string }>('__temporal_workflow_metadata');
    expect(meta.currentDetails).toBe(
      `From Antonio.Carlos@e2e-new.example: «Printer on fire»\n\nSolution «Answer the question» started\n\n**ticket_created**: ticket ${ticket.protocol}`,
    );
  });

  it('for a known customer, matched by e-mail whatever the case', async () => {
    const cfg = await watchedMailbox();
    const [known] = await e2e.sql<{ id: number }[]>`
      INSERT INTO customer (code, name, email, email_key) VALUES (${`K${uniqueSuffix()}`}, 'Maria Known', 'maria@e2e-known.example', 'maria@e2e-known.example') RETURNING id`;
    await appendMail(cfg.imap, rawMail({ from: 'MARIA@E2E-Known.example', subject: 'Known sender' }));
    const ticket = await ticketWithSubject(cfg.mailboxId, 'Known sender');
    expect(ticket.customer).toMatchObject({ id: known!.id, name: 'Maria Known' });
    const [row] = await e2e.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM customer WHERE email_key = 'maria@e2e-known.example'`;
    expect(row!.n).toBe(1);
  });

  it('a malformed e-mail is quarantined with a reason and does not hold up the next one', async () => {
    const cfg = await watchedMailbox();
    const bad = await appendMail(cfg.imap, 'this is not\r\nan e-mail at all\r\n');
    await appendMail(cfg.imap, rawMail({ subject: 'After the bad one' }));
    await ticketWithSubject(cfg.mailboxId, 'After the bad one');

    expect(await outcomeOf({ mailboxId: cfg.mailboxId, ...bad })).toMatchObject({ outcome: 'quarantined', reason: expect.stringMatching(/no sender address/) });
    const { body } = await api<{ items: { uid: number; outcome: string; outcomeReason: string; size: number }[] }>(`/emails?mailboxId=${cfg.mailboxId}&outcome=quarantined`);
    expect(body.items).toEqual([expect.objectContaining({ uid: bad.uid, outcome: 'quarantined', outcomeReason: expect.stringMatching(/no sender address/), size: 31 })]);

    // A quarantined e-mail keeps what its header section says (issue 8: it showed nulls).
    const invalid = await appendMail(cfg.imap, rawMail({ from: 'Broken <not-an-address>', subject: 'Readable subject' }));
    expect(await outcomeOf({ mailboxId: cfg.mailboxId, ...invalid })).toMatchObject({ outcome: 'quarantined', reason: expect.stringMatching(/not a valid e-mail address/) });
    const [kept] = await e2e.sql<{ subject: string | null; fromName: string | null }[]>`
      SELECT subject, from_name FROM inbound_email WHERE mailbox_id = ${cfg.mailboxId} AND uid = ${invalid.uid}`;
    expect(kept).toEqual({ subject: 'Readable subject', fromName: 'Broken' });
  });

  it('with automatic conversion off, the e-mail waits in triage as a pre-ticket', async () => {
    const cfg = await watchedMailbox({ autoConvert: false });
    const ref = await appendMail(cfg.imap, rawMail({ subject: 'Triage me' }));
    expect(await outcomeOf({ mailboxId: cfg.mailboxId, ...ref })).toMatchObject({ outcome: 'pre_ticket' });
    const [row] = await e2e.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM ticket WHERE mailbox_id = ${cfg.mailboxId}`;
    expect(row!.n).toBe(0);
  });
});

describe('the same message delivered or processed twice gives one ticket', () => {
  it('when its workflow logic runs again, when the watcher restarts without its cursor, and when the message is delivered again', async () => {
    const cfg = await watchedMailbox();
    const raw = rawMail({ subject: 'Only once', messageId: `<only-once${uniqueSuffix()}@test>` });
    const ref = { mailboxId: cfg.mailboxId, ...(await appendMail(cfg.imap, raw)) };
    const ticket = await ticketWithSubject(cfg.mailboxId, 'Only once');
    const ticketCount = async () => (await e2e.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM ticket WHERE mailbox_id = ${cfg.mailboxId}`)[0]!.n;

    // Processing again (as after a lost activity result): same protocol back, no new ticket.
    const again = await e2e.client.workflow.execute('processEmail', { workflowId: `again${uniqueSuffix()}`, taskQueue: e2e.taskQueue, args: [ref] });
    expect(again).toMatchObject({ outcome: 'ticket_created', protocol: ticket.protocol });

    // The watcher dies and its cursor is lost: it re-reads the folder, but the e-mail
    // workflow ids are taken, so nothing is processed twice.
    await e2e.client.workflow.getHandle(mailboxWorkflowId(cfg.mailboxId)).terminate('test: simulate a crash');
    await e2e.sql`DELETE FROM mailbox_cursor WHERE mailbox_id = ${cfg.mailboxId}`;
    await startMailboxWatcher({ client: e2e.client, taskQueue: e2e.taskQueue, idleSeconds: 30, mailboxId: cfg.mailboxId });
    await eventually(async () => ((await e2e.sql`SELECT 1 FROM mailbox_cursor WHERE mailbox_id = ${cfg.mailboxId} AND last_uid >= ${ref.uid}`).length ? true : undefined), 20_000, 'the cursor to be rebuilt');
    const { count: runs } = await e2e.client.workflow.count(`WorkflowId = '${emailWorkflowId(ref)}'`);
    expect(runs).toBe(1);

    // The same message delivered again (same Message-ID, new UID) is ignored as a duplicate.
    const copy = { mailboxId: cfg.mailboxId, ...(await appendMail(cfg.imap, raw)) };
    expect(await outcomeOf(copy)).toMatchObject({ outcome: 'ignored', reason: expect.stringMatching(/duplicate of e-mail \d+ \(same Message-ID\)/) });
    // What its header says is kept, so people see what was ignored.
    const [ignored] = await e2e.sql<{ subject: string | null; fromAddress: string | null }[]>`
      SELECT subject, from_address FROM inbound_email WHERE mailbox_id = ${cfg.mailboxId} AND uid = ${copy.uid}`;
    expect(ignored).toEqual({ subject: 'Only once', fromAddress: 'sender@example.com' });

    expect(await ticketCount()).toBe(1);
  });
});

describe('an e-mail whose worker died after its ticket was committed', () => {
  it('is taken up by the next attempt: solution, ticket workflow and acknowledgement happen, the ticket is not made twice', async () => {
    // The state a worker leaves when it dies after the ticket's transaction but before the
    // workflow task of the local steps completed: the ticket and the outcome are committed,
    // nothing after them happened, and no step's result is in the workflow's history.
    const cfg = await seedConfig(e2e.sql);
    await e2e.sql`UPDATE mailbox SET acknowledge = true WHERE id = ${cfg.mailboxId}`;
    const ref = { mailboxId: cfg.mailboxId, ...(await appendMail(cfg.imap, rawMail({ from: 'Resumed <resumed@e2e-resume.example>', subject: 'Half done' }))) };
    const act = createActivities({ sql: e2e.sql, secrets: testSecrets });
    const { emailId } = await act.receiveEmail(ref);
    await act.parseEmail(emailId);
    const { customerId } = await act.resolveCustomer(emailId);
    const { protocol } = await act.openTicketFromEmail({ emailId, customerId });
    // Even if the mailbox stopped converting meanwhile: its ticket exists.
    await e2e.sql`UPDATE mailbox SET auto_convert = false WHERE id = ${cfg.mailboxId}`;

    const result = await e2e.client.workflow.execute('processEmail', { workflowId: emailWorkflowId(ref), taskQueue: e2e.taskQueue, args: [ref] });
    expect(result).toMatchObject({ outcome: 'ticket_created', protocol });
    const [counts] = await e2e.sql<{ tickets: number; steps: number; acks: number }[]>`
      SELECT (SELECT count(*)::int FROM ticket WHERE mailbox_id = ${cfg.mailboxId}) AS tickets,
             (SELECT count(*)::int FROM ticket_step s JOIN ticket t ON t.id = s.ticket_id WHERE t.protocol = ${protocol}) AS steps,
             (SELECT count(*)::int FROM outbound_email o JOIN ticket t ON t.id = o.ticket_id WHERE t.protocol = ${protocol}) AS acks`;
    expect(counts).toEqual({ tickets: 1, steps: 3, acks: 1 });
    expect((await e2e.client.workflow.getHandle(`ticket:${protocol}`).describe()).status.name).toBe('RUNNING');
  });
});

describe('the mailbox watcher', () => {
  it('takes a burst of e-mails without a single retry', async () => {
    const cfg = await seedConfig(e2e.sql);
    // The burst is waiting when the watcher starts, so it arrives as one batch. Far above
    // Dovecot's limit of 10 connections per user and IP: an IMAP login per e-mail would be
    // refused and retried.
    const refs = [];
    for (let i = 0; i < 40; i++) refs.push(await appendMail(cfg.imap, rawMail({ subject: `burst ${i}`, from: `burst${i % 3}@burst-e2e.example` })));
    await startMailboxWatcher({ client: e2e.client, taskQueue: e2e.taskQueue, idleSeconds: 30, mailboxId: cfg.mailboxId });
    const outcomes = await Promise.all(refs.map((r) => outcomeOf({ mailboxId: cfg.mailboxId, ...r })));
    expect(outcomes.every((o) => o.outcome === 'ticket_created')).toBe(true);
    for (const r of refs) {
      const history = await e2e.client.workflow.getHandle(emailWorkflowId({ mailboxId: cfg.mailboxId, ...r })).fetchHistory();
      // The steps are local activities: each one a marker in the history, with its attempt.
      const attempts = (history.events ?? []).flatMap((e) => {
        const marker = e.markerRecordedEventAttributes;
        const data = marker?.markerName === 'core_local_activity' ? marker.details?.data?.payloads?.[0]?.data : undefined;
        return data ? [(JSON.parse(Buffer.from(data).toString()) as { attempt: number }).attempt] : [];
      });
      expect(attempts.length).toBeGreaterThanOrEqual(4);
      expect(attempts.every((a) => a === 1)).toBe(true);
    }
    const [row] = await e2e.sql<{ n: number }[]>`SELECT count(DISTINCT customer_id)::int AS n FROM ticket WHERE mailbox_id = ${cfg.mailboxId}`;
    expect(row!.n).toBe(3);
  });

  it('loses nothing across continue-as-new', async () => {
    const cfg = await seedConfig(e2e.sql);
    const first = await startMailboxWatcher({ client: e2e.client, taskQueue: e2e.taskQueue, idleSeconds: 2, mailboxId: cfg.mailboxId, roundsPerRun: 1 });
    const watcher = e2e.client.workflow.getHandle(mailboxWorkflowId(cfg.mailboxId));
    let runId = first.firstExecutionRunId;
    for (const subject of ['round one', 'round two', 'round three']) {
      await appendMail(cfg.imap, rawMail({ subject }));
      await ticketWithSubject(cfg.mailboxId, subject);
      // A round ends after 2 s without mail; with one round per run, the next mail is read by the next run.
      const previous = runId;
      runId = await eventually(async () => ((await watcher.describe()).runId !== previous ? (await watcher.describe()).runId : undefined), 20_000, 'the watcher to continue as new');
    }
    const [row] = await e2e.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM ticket WHERE mailbox_id = ${cfg.mailboxId}`;
    expect(row!.n).toBe(3);
  });
});

describe('workflow determinism', () => {
  it('replays the histories this run produced with the current workflow code', async () => {
    const histories = [];
    for await (const wf of e2e.client.workflow.list({ query: `TaskQueue = '${e2e.taskQueue}' AND ExecutionStatus = 'Completed'` })) {
      histories.push({ workflowId: wf.workflowId, history: await e2e.client.workflow.getHandle(wf.workflowId, wf.runId).fetchHistory() });
    }
    expect(histories.length).toBeGreaterThan(0);
    for (const h of histories) {
      await Worker.runReplayHistory({ workflowBundle: e2e.bundle }, h.history, h.workflowId);
    }
  });
});
