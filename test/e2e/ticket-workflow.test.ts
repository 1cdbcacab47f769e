import { describe, expect, it } from 'vitest';
import { changeStatusUpdate, reassignUpdate, replyReceivedSignal, ticketViewQuery, type Actor } from '../../contracts/ticket.js';
import { ticketWorkflowId } from '../../contracts/workflow-ids.js';
import { Assignee, Protocol, SectorId, SlaState, TicketStatus } from '../../contracts/search-attributes.js';
import { useE2E } from '../harness/e2e.js';
import { eventually } from '../harness/fixtures.js';
import { firings, insertTicket, lifecycleConfig, send, startTicketWorkflow } from '../harness/lifecycle.js';

const e2e = useE2E('ticket-wf');
const agent: Actor = { userId: null, login: 'tester', role: 'admin', sectorIds: [] };

describe('the ticket\'s workflow', { concurrent: true }, () => {
  it('continues as new with its state: changes keep applying once each, and its alerts still fire once', { timeout: 90_000 }, async () => {
    const cfg = await lifecycleConfig(e2e.api, { slaMinutes: 1, thresholds: [50, 100] });
    // Created 20 s ago: 50 % in 10 s (plus the pauses below).
    const t = await insertTicket(e2e.sql, cfg, { ageMs: 20_000 });
    const handle = await startTicketWorkflow(e2e.client, e2e.taskQueue, t.protocol, { eventsPerRun: 15 });
    for (let i = 0; i < 6; i++) {
      await handle.executeUpdate(changeStatusUpdate, { args: [{ status: 'waiting_customer', actor: agent }] });
      await handle.executeUpdate(changeStatusUpdate, { args: [{ status: 'open', actor: agent }] });
    }
    const fired = await eventually(async () => {
      const rows = await firings(e2e.sql, t.ticketId);
      return rows.length === 2 ? rows : undefined;
    }, 60_000, 'both alerts');
    expect(fired.map((f) => f.key)).toEqual(['sla:50', 'sla:100']);
    const runs: string[] = [];
    for await (const w of e2e.client.workflow.list({ query: `WorkflowId = '${ticketWorkflowId(t.protocol)}'` })) runs.push(w.runId);
    expect(runs.length).toBeGreaterThan(1);
    const changes = await e2e.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM ticket_event WHERE ticket_id = ${t.ticketId} AND kind = 'status_changed'`;
    expect(changes[0]!.n).toBe(12);
    expect((await handle.query(ticketViewQuery)).sla).toMatchObject({ state: 'breached', paused: false });
  });

  it('keeps its search attributes current: protocol, status, SLA state, assignee and sector', { timeout: 30_000 }, async () => {
    const cfg = await lifecycleConfig(e2e.api, { slaMinutes: 600, thresholds: [50, 100] });
    const t = await insertTicket(e2e.sql, cfg);
    const handle = await startTicketWorkflow(e2e.client, e2e.taskQueue, t.protocol);
    const [agentUser] = await e2e.sql<{ login: string }[]>`SELECT login FROM app_user WHERE id = ${e2e.api.userIds.agent}`;
    await handle.executeUpdate(reassignUpdate, { args: [{ userId: e2e.api.userIds.agent, actor: agent }] });
    await handle.executeUpdate(changeStatusUpdate, { args: [{ status: 'waiting_customer', actor: agent }] });
    const attrs = (await handle.describe()).typedSearchAttributes;
    expect([Protocol, TicketStatus, SlaState, Assignee, SectorId].map((k) => attrs.get(k))).toEqual([t.protocol, 'waiting_customer', 'on_time', agentUser!.login, String(cfg.sectorId)]);
    // Operators find it by them (visibility is eventually consistent).
    await eventually(async () => {
      for await (const w of e2e.client.workflow.list({ query: `TicketStatus = 'waiting_customer' AND Assignee = '${agentUser!.login}' AND Protocol = '${t.protocol}'` })) return w.workflowId;
      return undefined;
    }, 15_000, 'the ticket by status and assignee');
  });

  it('reopens a resolved ticket when the customer replies, and ends a wait for the customer', { timeout: 30_000 }, async () => {
    const cfg = await lifecycleConfig(e2e.api, { slaMinutes: 600, thresholds: [50, 100] });
    const t = await insertTicket(e2e.sql, cfg);
    const handle = await startTicketWorkflow(e2e.client, e2e.taskQueue, t.protocol);
    const statusOf = async (want: string) => eventually(async () => ((await handle.query(ticketViewQuery)).status === want ? true : undefined), 10_000, want);
    await handle.executeUpdate(changeStatusUpdate, { args: [{ status: 'resolved', actor: agent }] });
    await handle.signal(replyReceivedSignal, { emailId: 1 });
    await statusOf('open');
    await handle.executeUpdate(changeStatusUpdate, { args: [{ status: 'waiting_customer', actor: agent }] });
    await handle.signal(replyReceivedSignal, { emailId: 2 });
    await statusOf('open');
    // The query may answer with the new status before the write of its event has committed.
    const events = await eventually(async () => {
      const rows = await e2e.sql<{ actor: string; data: { from: string; to: string } }[]>`
        SELECT actor, data FROM ticket_event WHERE ticket_id = ${t.ticketId} AND kind = 'status_changed' ORDER BY id`;
      return rows.length >= 4 ? rows : undefined;
    }, 10_000, 'the four status changes on the timeline');
    expect(events.map((e) => [e.actor, e.data.from, e.data.to])).toEqual([
      ['user:tester', 'open', 'resolved'],
      ['system:email', 'resolved', 'open'],
      ['user:tester', 'open', 'waiting_customer'],
      ['system:email', 'waiting_customer', 'open'],
    ]);
  });

  it('gives a step with its own SLA its own alerts, on its sector', { timeout: 90_000 }, async () => {
    const cfg = await lifecycleConfig(e2e.api, { slaMinutes: 600, thresholds: [50, 100] });
    const t = await insertTicket(e2e.sql, cfg);
    // The step was activated 25 s ago with a 1-minute SLA: 50 % in 5 s, 100 % in 35 s.
    const [step] = await e2e.sql<{ id: number }[]>`
      INSERT INTO ticket_step (ticket_id, position, flow, name, sector_id, sla_value, sla_unit, status, activated_at)
      VALUES (${t.ticketId}, 1, 'main', 'Check the logs', ${cfg.sectorId}, 1, 'minutes', 'active', now() - interval '25 seconds')
      RETURNING id`;
    const handle = await startTicketWorkflow(e2e.client, e2e.taskQueue, t.protocol);
    const fired = await eventually(async () => {
      const rows = await firings(e2e.sql, t.ticketId);
      return rows.length === 2 ? rows : undefined;
    }, 60_000, 'the step\'s two alerts');
    expect(fired.map((f) => f.key)).toEqual([`step:${step!.id}:50`, `step:${step!.id}:100`]);
    for (const f of fired) expect(new Date(f.firedAt).getTime()).toBeGreaterThanOrEqual(new Date(f.dueAt).getTime());
    const mails = await eventually(async () => {
      const m = e2e.smtp.messages.filter((x) => x.subject?.includes(`[#${t.protocol}]`));
      return m.length === 2 ? m : undefined;
    }, 30_000, 'two step alert e-mails');
    expect(mails.map((m) => m.subject)).toEqual([expect.stringMatching(/Step "Check the logs" SLA 50% reached/), expect.stringMatching(/Step "Check the logs" SLA breached/)]);
    const view = await handle.query(ticketViewQuery);
    expect(view.steps[0]!.sla).toMatchObject({ state: 'breached' });
    // The ticket's own SLA (10 hours) is untouched.
    expect(view.sla).toMatchObject({ state: 'on_time' });
  });

  it('alerts the sector once when nobody in the pool could take the ticket', { timeout: 60_000 }, async () => {
    const cfg = await lifecycleConfig(e2e.api, { slaMinutes: 600, thresholds: [50, 100] });
    const member = await send(e2e.api, 'POST', '/users', { login: `member${cfg.sectorId}x`, name: 'Member', email: `member${cfg.sectorId}@example.test`, role: 'agent', sectorIds: [cfg.sectorId] });
    const t = await insertTicket(e2e.sql, cfg);
    await startTicketWorkflow(e2e.client, e2e.taskQueue, t.protocol, { unassignedReason: 'every member of the pool is paused' });
    const mail = await eventually(async () => e2e.smtp.messages.find((x) => x.subject?.includes(`[#${t.protocol}]`)), 30_000, 'the sector\'s alert');
    expect(mail.subject).toMatch(/No one available to take ticket/);
    expect(mail.envelope.to).toEqual(expect.arrayContaining([`member${cfg.sectorId}@example.test`]));
    expect(member.id).toBeGreaterThan(0);
    expect((await firings(e2e.sql, t.ticketId)).map((f) => f.key)).toEqual(['pool_empty']);
  });
});
