import { describe, expect, it } from 'vitest';
import { startMailboxWatcher } from '../../clients/mailbox-watchers.js';
import { triageWorkflowId } from '../../contracts/triage.js';
import { emailWorkflowId, ticketWorkflowId } from '../../contracts/workflow-ids.js';
import type { PreTicket } from '../../schemas/pre-tickets.js';
import type { TicketDetail } from '../../schemas/tickets.js';
import { useE2E } from '../harness/e2e.js';
import { appendMail, rawMail, seedConfig, uniqueSuffix } from '../harness/fixtures.js';

const e2e = useE2E('triage');

/**
 * Triage end to end (SPEC §4.5; Dovecot, Temporal, PostgreSQL, API): with automatic conversion
 * off an e-mail ends `pre_ticket`; an agent converts it through the workflow `triage:<emailId>`
 * into a ticket with the chosen classification, its solution, its assignee and its own workflow.
 */
describe('a pre-ticket converted by an agent', () => {
  it('becomes one ticket however many conversions race, distributed and with its workflow; the others hear 409 naming it', async () => {
    const cfg = await seedConfig(e2e.sql, { autoConvert: false });
    const patch = await e2e.api.as('admin', { method: 'PATCH', url: `/mailboxes/${cfg.mailboxId}`, payload: { autoDistribute: true, distributionTarget: 'sector' } });
    expect(patch.statusCode, patch.body).toBe(200);
    // After the PATCH: a PATCH stops the watcher of a mailbox the seed left inactive.
    await startMailboxWatcher({ client: e2e.client, taskQueue: e2e.taskQueue, idleSeconds: 30, mailboxId: cfg.mailboxId });
    const sender = `maria.luz${uniqueSuffix()}@customer.example`;
    const ref = { mailboxId: cfg.mailboxId, ...(await appendMail(cfg.imap, rawMail({ from: `Maria <${sender}>`, subject: 'Which plan?', body: 'Which plan fits a team of five?' }))) };
    const outcome = await e2e.outcomeOf(ref);
    expect(outcome.outcome).toBe('pre_ticket');
    const [email] = await e2e.sql<{ id: number }[]>`SELECT id FROM inbound_email WHERE mailbox_id = ${ref.mailboxId} AND uid = ${ref.uid} AND uid_validity = ${ref.uidValidity}`;
    const emailId = email!.id;

    const body = { occurrenceTypeId: cfg.occurrenceTypeId, occurrenceId: cfg.occurrenceId };
    const answers = await Promise.all((['agent', 'admin', 'agent'] as const).map((who) => e2e.api.as(who, { method: 'POST', url: `/pre-tickets/${emailId}/convert`, payload: body })));
    expect(answers.map((a) => a.statusCode).sort()).toEqual([201, 409, 409]);
    const ticket = answers.find((a) => a.statusCode === 201)!.json() as TicketDetail;
    for (const refused of answers.filter((a) => a.statusCode === 409)) {
      expect(refused.headers['content-type']).toMatch(/application\/problem\+json/);
      expect(refused.json().detail).toContain(`ticket ${ticket.protocol}`);
    }
    const [count] = await e2e.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM ticket WHERE source_email_id = ${emailId}`;
    expect(count!.n).toBe(1);

    // The chosen classification, the sender as customer, the mailbox's solution, the least loaded member of the sector.
    expect(ticket).toMatchObject({
      status: 'open',
      subject: 'Which plan?',
      description: 'Which plan fits a team of five?',
      channel: 'email',
      customer: { name: sender.split('@')[0], email: sender },
      mailbox: { id: cfg.mailboxId },
      occurrenceType: { id: cfg.occurrenceTypeId },
      occurrence: { id: cfg.occurrenceId },
      sector: { id: cfg.sectorId },
      assignee: { id: cfg.userIds[0] },
    });
    expect(ticket.steps.map((s) => s.status)).toEqual(['active', 'pending', 'pending']);
    const converter = ticket.timeline.find((e) => e.kind === 'converted_from_pre_ticket');
    expect(converter?.actor).toMatch(/^user:(agent|admin)/);
    expect(ticket.timeline.map((e) => e.kind)).toEqual(['created', 'converted_from_pre_ticket', 'solution_started', 'assigned']);

    // The ticket's own workflow runs; the e-mail's record says who converted it, when, into which ticket.
    expect((await e2e.client.workflow.getHandle(ticketWorkflowId(ticket.protocol)).describe()).status.name).toBe('RUNNING');
    expect((await e2e.client.workflow.getHandle(triageWorkflowId(emailId)).describe()).status.name).toBe('COMPLETED');
    const { body: pre } = await e2e.get<PreTicket>(`/pre-tickets/${emailId}`);
    expect(pre).toMatchObject({ status: 'converted', converted: { protocol: ticket.protocol, by: converter!.actor.replace(/^user:/, '') } });
    const { body: shown } = await e2e.get<{ outcome: string; protocol: string }>(`/emails/${emailId}`);
    expect(shown).toMatchObject({ outcome: 'pre_ticket', protocol: ticket.protocol });
    expect((await e2e.client.workflow.getHandle(emailWorkflowId(ref)).describe()).status.name).toBe('COMPLETED');

    // Decided once: neither converted again nor discarded.
    const discard = await e2e.api.as('agent', { method: 'POST', url: `/pre-tickets/${emailId}/discard`, payload: { reason: 'duplicate' } });
    expect(discard.statusCode).toBe(409);
    expect(discard.json().detail).toContain(ticket.protocol);
    const again = await e2e.api.as('admin', { method: 'POST', url: `/pre-tickets/${emailId}/convert`, payload: body });
    expect(again.statusCode).toBe(409);
  });

  it('starts the chosen solution instead of the mailbox\'s, and leaves the ticket unassigned when the mailbox does not distribute', async () => {
    const cfg = await e2e.watchedMailbox({ autoConvert: false });
    const ref = { mailboxId: cfg.mailboxId, ...(await appendMail(cfg.imap, rawMail({ subject: 'Escalate me' }))) };
    expect((await e2e.outcomeOf(ref)).outcome).toBe('pre_ticket');
    const [email] = await e2e.sql<{ id: number }[]>`SELECT id FROM inbound_email WHERE mailbox_id = ${ref.mailboxId} AND uid = ${ref.uid} AND uid_validity = ${ref.uidValidity}`;
    const res = await e2e.api.as('agent', {
      method: 'POST',
      url: `/pre-tickets/${email!.id}/convert`,
      payload: { occurrenceTypeId: cfg.occurrenceTypeId, occurrenceId: cfg.occurrenceId, solutionId: cfg.alternativeSolutionId },
    });
    expect(res.statusCode, res.body).toBe(201);
    const ticket = res.json() as TicketDetail;
    expect(ticket.assignee).toBeNull();
    expect(ticket.steps.map((s) => s.name)).toEqual(['Escalate to the account team']);
    expect(ticket.timeline.map((e) => e.kind)).toEqual(['created', 'converted_from_pre_ticket', 'solution_started']);
  });
});
