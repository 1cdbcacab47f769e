import { describe, expect, it } from 'vitest';
import { startMailboxWatcher } from '../../clients/mailbox-watchers.js';
import { Assignee } from '../../contracts/search-attributes.js';
import { emailWorkflowId } from '../../contracts/workflow-ids.js';
import type { TicketDetail } from '../../schemas/tickets.js';
import { useE2E } from '../harness/e2e.js';
import { appendMail, rawMail, seedConfig } from '../harness/fixtures.js';

const e2e = useE2E('distribute');

describe('an e-mail becomes a ticket and goes to the least loaded member of its pool', () => {
  it('assigns it through the pool\'s workflow, says why on the timeline, and shows the assignee in the Temporal UI', async () => {
    const cfg = await seedConfig(e2e.sql);
    const patch = await e2e.api.as('admin', { method: 'PATCH', url: `/mailboxes/${cfg.mailboxId}`, payload: { autoDistribute: true, distributionTarget: 'sector' } });
    expect(patch.statusCode, patch.body).toBe(200);
    await startMailboxWatcher({ client: e2e.client, taskQueue: e2e.taskQueue, idleSeconds: 30, mailboxId: cfg.mailboxId });

    const ref = { mailboxId: cfg.mailboxId, ...(await appendMail(cfg.imap, rawMail({ subject: 'Please route me' }))) };
    const outcome = await e2e.outcomeOf(ref);
    expect(outcome.outcome).toBe('ticket_created');

    // João, Ana and Luis have no open tickets: the tie goes to João, registered first.
    const { body: ticket } = await e2e.get<TicketDetail>(`/tickets/${outcome.protocol}`);
    expect(ticket.assignee).toEqual({ id: cfg.userIds[0], name: 'João' });
    expect(ticket.timeline.map((e) => e.kind)).toEqual(['created', 'solution_started', 'assigned']);
    expect(ticket.timeline[2]!.data).toMatchObject({ userId: cfg.userIds[0], reason: expect.stringMatching(/João/) });

    const described = await e2e.client.workflow.getHandle(emailWorkflowId(ref)).describe();
    expect(described.typedSearchAttributes.get(Assignee)).toMatch(/^joao-/);
  });

  it('leaves the ticket unassigned, with the reason, when the mailbox does not distribute', async () => {
    const cfg = await e2e.watchedMailbox();
    const ref = { mailboxId: cfg.mailboxId, ...(await appendMail(cfg.imap, rawMail({ subject: 'Nobody routes me' }))) };
    const outcome = await e2e.outcomeOf(ref);
    const { body: ticket } = await e2e.get<TicketDetail>(`/tickets/${outcome.protocol}`);
    expect(ticket.assignee).toBeNull();
  });
});
