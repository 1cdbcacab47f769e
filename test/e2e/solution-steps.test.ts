import { describe, expect, it } from 'vitest';
import { ticketWorkflowId } from '../../contracts/workflow-ids.js';
import type { TicketDetail } from '../../schemas/tickets.js';
import { useE2E } from '../harness/e2e.js';
import { appendMail, eventually, rawMail, uniqueSuffix } from '../harness/fixtures.js';
import { send } from '../harness/lifecycle.js';

const e2e = useE2E('steps');

describe('a three-step solution driven through the API by BackOffice staff (SPEC §7)', () => {
  it('starts with the ticket from e-mail; complete, move a step, switch to the alternative flow, finish: resolved, every action in the timeline and in the workflow history', { timeout: 120_000 }, async () => {
    const cfg = await e2e.watchedMailbox();
    const u = uniqueSuffix();
    // One BackOffice user in each sector, each with a key of their own.
    const staff = async (login: string, sectorId: number) => {
      const user = await send(e2e.api, 'POST', '/users', { login: login + u, name: login, role: 'backoffice', sectorIds: [sectorId] });
      return { key: (await send<{ key: string }>(e2e.api, 'POST', '/api-keys', { userId: user.id, name: 'steps test' })).key };
    };
    const support = await staff('sup', cfg.sectorId);
    const backOffice = await staff('bko', cfg.backOfficeSectorId);

    const uid = await appendMail(cfg.imap, rawMail({ from: `Steps Customer <steps${u}@example.com>`, subject: 'Where is my invoice?' }));
    const outcome = await e2e.outcomeOf({ mailboxId: cfg.mailboxId, uidValidity: uid.uidValidity, uid: uid.uid });
    expect(outcome.outcome).toBe('ticket_created');
    const protocol = outcome.protocol!;
    const handle = e2e.client.workflow.getHandle(ticketWorkflowId(protocol));
    await eventually(() => handle.describe().then((d) => (d.status.name === 'RUNNING' ? true : undefined), () => undefined), 30_000, 'the ticket workflow');

    const detail = async () => (await e2e.get<TicketDetail>(`/tickets/${protocol}`)).body;
    const steps = (await detail()).steps;
    expect(steps.map((s) => [s.name, s.status, s.sector.id])).toEqual([
      ['Understand the question', 'active', cfg.sectorId],
      ['Check the account', 'pending', cfg.backOfficeSectorId],
      ['Reply to the customer', 'pending', cfg.sectorId],
    ]);
    const act = (who: { key: string }, url: string, payload: object = {}) => e2e.api.as(who, { method: 'POST', url: `/tickets/${protocol}${url}`, payload });

    // Not their sector: refused with the reason, nothing changes.
    const refused = await act(backOffice, `/steps/${steps[0]!.id}/complete`, {});
    expect(refused.statusCode).toBe(409);
    expect(refused.json().detail).toMatch(/not in sector/);

    const completed = await act(support, `/steps/${steps[0]!.id}/complete`, { note: 'Customer means the March invoice' });
    expect(completed.statusCode, completed.body).toBe(200);
    expect((completed.json() as TicketDetail).steps.map((s) => s.status)).toEqual(['completed', 'active', 'pending']);

    // The BackOffice queue shows the step now active there.
    const queue = await e2e.api.as(backOffice, '/steps?limit=200');
    expect(queue.statusCode).toBe(200);
    expect((queue.json() as { items: { id: number }[] }).items.map((i) => i.id)).toContain(steps[1]!.id);

    const moved = await act(backOffice, `/steps/${steps[1]!.id}/sector`, { sectorId: cfg.sectorId, note: 'Support can check this one' });
    expect(moved.statusCode, moved.body).toBe(200);
    expect((moved.json() as TicketDetail).steps[1]!.sector.id).toBe(cfg.sectorId);

    const switched = await act(support, '/alternative-flow', { note: 'Needs the account team' });
    expect(switched.statusCode, switched.body).toBe(200);
    const afterSwitch = (switched.json() as TicketDetail).steps;
    expect(afterSwitch.map((s) => [s.flow, s.status])).toEqual([
      ['main', 'completed'],
      ['main', 'cancelled'],
      ['main', 'cancelled'],
      ['alternative', 'active'],
    ]);

    const finished = await act(backOffice, `/steps/${afterSwitch[3]!.id}/complete`, { note: 'Invoice re-sent' });
    expect(finished.statusCode, finished.body).toBe(200);
    const final = finished.json() as TicketDetail;
    expect(final.status).toBe('resolved');
    expect(final.timeline.map((e) => e.kind)).toEqual(
      expect.arrayContaining(['created', 'solution_started', 'step_completed', 'step_moved', 'flow_switched', 'status_changed']),
    );
    const actions = final.timeline.filter((e) => e.actor.startsWith('user:')).map((e) => [e.kind, e.actor]);
    expect(actions).toEqual([
      ['step_completed', `user:sup${u}`],
      ['step_moved', `user:bko${u}`],
      ['flow_switched', `user:sup${u}`],
      ['step_completed', `user:bko${u}`],
      ['status_changed', `user:bko${u}`],
    ]);

    // The workflow's history tells the same story: the accepted updates, in order (the refused one left no trace).
    const history = await handle.fetchHistory();
    const updates = (history.events ?? []).flatMap((e) => (e.workflowExecutionUpdateAcceptedEventAttributes ? [e.workflowExecutionUpdateAcceptedEventAttributes.acceptedRequest?.input?.name] : []));
    expect(updates).toEqual(['completeStep', 'moveStep', 'switchFlow', 'completeStep']);
  });
});
