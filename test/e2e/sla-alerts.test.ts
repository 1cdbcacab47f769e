import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { changeStatusUpdate, ticketViewQuery, type Actor } from '../../contracts/ticket.js';
import type { TicketDetail } from '../../schemas/tickets.js';
import { useE2E } from '../harness/e2e.js';
import { eventually } from '../harness/fixtures.js';
import { firings, insertTicket, lifecycleConfig, startTicketWorkflow, type LifecycleConfig } from '../harness/lifecycle.js';
import { startWebhookReceiver, type WebhookReceiver } from '../harness/receivers.js';

const e2e = useE2E('sla');
const SECRET = 'whsec-test-0123456789';
const agent: Actor = { userId: null, login: 'tester', role: 'admin', sectorIds: [] };

let hook: WebhookReceiver;
let cfg: LifecycleConfig;
beforeAll(async () => {
  // The first three calls fail: the first alert's webhook is retried, later ones go through at once.
  hook = await startWebhookReceiver({ failFirst: 3 });
  cfg = await lifecycleConfig(e2e.api, { slaMinutes: 1, thresholds: [50, 100], webhookUrl: hook.url, webhookSecret: SECRET });
});
afterAll(() => hook?.close());

const mailsFor = (protocol: string) => e2e.smtp.messages.filter((m) => m.subject?.includes(`[#${protocol}]`));
const deliveriesOf = (firingIds: string[]) => hook.requests.filter((r) => firingIds.includes(String(r.headers['mailtrack-delivery'])));

describe('SLA alerts from durable timers (SPEC §6)', { concurrent: true }, () => {
  it('50 % and 100 % of a 1-minute SLA arrive once each, in order, never before their instant; a webhook failing three times is retried and the ticket stays healthy', { timeout: 120_000 }, async () => {
    // Created 25 s ago: 50 % is due in 5 s, 100 % in 35 s.
    const t = await insertTicket(e2e.sql, cfg, { ageMs: 25_000 });
    const handle = await startTicketWorkflow(e2e.client, e2e.taskQueue, t.protocol);

    const fired = await eventually(async () => {
      const rows = await firings(e2e.sql, t.ticketId);
      return rows.length === 2 ? rows : undefined;
    }, 90_000, 'both thresholds');
    expect(fired.map((f) => f.key)).toEqual(['sla:50', 'sla:100']);
    for (const f of fired) expect(new Date(f.firedAt).getTime()).toBeGreaterThanOrEqual(new Date(f.dueAt).getTime());

    const mails = await eventually(async () => (mailsFor(t.protocol).length >= 2 ? mailsFor(t.protocol) : undefined), 30_000, 'two alert e-mails');
    expect(mails.map((m) => m.subject)).toEqual([expect.stringMatching(/SLA 50%/), expect.stringMatching(/SLA breached/)]);
    mails.forEach((m, i) => {
      expect(m.at.getTime()).toBeGreaterThanOrEqual(new Date(fired[i]!.dueAt).getTime());
      expect(m.headers.get('auto-submitted')).toBe('auto-generated');
    });

    const [ids] = await e2e.sql<{ ids: string[] }[]>`SELECT array_agg(id::text) AS ids FROM alert_firing WHERE ticket_id = ${t.ticketId}`;
    const calls = await eventually(async () => {
      const ok = deliveriesOf(ids!.ids).filter((r) => r.status === 200);
      return ok.length >= 2 ? deliveriesOf(ids!.ids) : undefined;
    }, 60_000, 'both webhooks delivered');
    const delivered = calls.filter((r) => r.status === 200);
    expect(delivered.map((r) => r.headers['mailtrack-delivery'])).toEqual(ids!.ids);
    for (const r of delivered) {
      const ts = String(r.headers['mailtrack-timestamp']);
      expect(r.headers['mailtrack-signature']).toBe(`sha256=${createHmac('sha256', SECRET).update(`${ts}.${r.body}`).digest('hex')}`);
    }
    // Three failed calls, each for the first alert, then its retry went through.
    expect(calls.filter((r) => r.status !== 200).map((r) => r.headers['mailtrack-delivery'])).toEqual([ids!.ids[0], ids!.ids[0], ids!.ids[0]]);

    const [ticket] = await e2e.sql<{ slaState: string }[]>`SELECT sla_state FROM ticket WHERE id = ${t.ticketId}`;
    expect(ticket!.slaState).toBe('breached');
    expect((await handle.describe()).status.name).toBe('RUNNING');
    expect((await handle.query(ticketViewQuery)).sla).toMatchObject({ state: 'breached', paused: false });
    const events = await e2e.sql<{ kind: string }[]>`SELECT kind FROM ticket_event WHERE ticket_id = ${t.ticketId} AND kind = 'sla_alert'`;
    expect(events).toHaveLength(2);
    // The ticket's detail shows each alert with each channel's delivery.
    const { body } = await e2e.get<TicketDetail>(`/tickets/${t.protocol}`);
    expect(body.alerts.map((a) => [a.kind, a.threshold, a.deliveries.map((d) => [d.channel, d.status, d.attempts])])).toEqual([
      ['sla', 50, [['email', 'delivered', 1], ['webhook', 'delivered', 4]]],
      ['sla', 100, [['email', 'delivered', 1], ['webhook', 'delivered', 1]]],
    ]);
  });

  it('waiting for the customer pauses the clock: the next alert moves by exactly the paused time', { timeout: 120_000 }, async () => {
    // Its own alert, without the webhook that fails on purpose. Created 27 s ago: 50 % is due in
    // 3 s, 100 % in 33 s plus the pause.
    const own = await lifecycleConfig(e2e.api, { slaMinutes: 1, thresholds: [50, 100] });
    const t = await insertTicket(e2e.sql, own, { ageMs: 27_000 });
    const handle = await startTicketWorkflow(e2e.client, e2e.taskQueue, t.protocol);
    await eventually(async () => ((await firings(e2e.sql, t.ticketId)).length === 1 ? true : undefined), 30_000, 'the 50 % alert');

    await handle.executeUpdate(changeStatusUpdate, { args: [{ status: 'waiting_customer', actor: agent }] });
    await new Promise((r) => setTimeout(r, 4_000));
    const resumed = await handle.executeUpdate(changeStatusUpdate, { args: [{ status: 'open', actor: agent }] });
    expect(resumed.sla?.paused).toBe(false);

    const fired = await eventually(async () => {
      const rows = await firings(e2e.sql, t.ticketId);
      return rows.length === 2 ? rows : undefined;
    }, 60_000, 'the 100 % alert');
    const [pause, resume] = await e2e.sql<{ at: string }[]>`
      SELECT at FROM ticket_event WHERE ticket_id = ${t.ticketId} AND kind = 'status_changed' ORDER BY id`;
    const [created] = await e2e.sql<{ createdAt: string }[]>`SELECT created_at FROM ticket WHERE id = ${t.ticketId}`;
    const paused = new Date(resume!.at).getTime() - new Date(pause!.at).getTime();
    expect(paused).toBeGreaterThanOrEqual(4_000);
    expect(new Date(fired[1]!.dueAt).getTime()).toBe(new Date(created!.createdAt).getTime() + 60_000 + paused);
    expect(new Date(fired[1]!.firedAt).getTime()).toBeGreaterThanOrEqual(new Date(fired[1]!.dueAt).getTime());
    expect((await handle.query(ticketViewQuery)).sla?.dueAt).toBe(fired[1]!.dueAt);
  });
});
