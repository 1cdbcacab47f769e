import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useE2E } from '../harness/e2e.js';
import { eventually, uniqueSuffix } from '../harness/fixtures.js';
import { firings, insertTicket, lifecycleConfig, startTicketWorkflow, type LifecycleConfig } from '../harness/lifecycle.js';
import { startWebhookReceiver, type WebhookReceiver } from '../harness/receivers.js';
import { useWorkerProcesses } from '../harness/spawn-worker.js';

const e2e = useE2E('sla-crash');
const workerProcess = useWorkerProcesses();

let hook: WebhookReceiver;
let cfg: LifecycleConfig;
beforeAll(async () => {
  hook = await startWebhookReceiver();
  cfg = await lifecycleConfig(e2e.api, { slaMinutes: 1, thresholds: [50, 100], webhookUrl: hook.url });
});
afterAll(() => hook?.close());

describe('SLA timers across a worker killed between two thresholds', () => {
  it('each alert is recorded, mailed and posted exactly once', { timeout: 150_000 }, async () => {
    const taskQueue = `sla-kill${uniqueSuffix()}`;
    const env = { SMTP_URL: e2e.smtp.url };
    const first = await workerProcess(taskQueue, env);
    // Created 24 s ago: 50 % is due in 6 s, 100 % in 36 s.
    const t = await insertTicket(e2e.sql, cfg, { ageMs: 24_000 });
    await startTicketWorkflow(e2e.client, taskQueue, t.protocol);
    const mails = () => e2e.smtp.messages.filter((m) => m.subject?.includes(`[#${t.protocol}]`));

    // Between the two thresholds: the 50 % alert delivered and recorded so on both channels.
    // (A worker killed in the instant between an SMTP server accepting a message and the
    // delivery being recorded sends it again on retry, with the same Message-ID: SMTP has no
    // exactly-once; README, "Alerts".)
    await eventually(async () => (mails().length === 1 ? true : undefined), 30_000, 'the 50 % alert e-mail');
    await eventually(async () => {
      const rows = await e2e.sql`SELECT 1 FROM alert_delivery d JOIN alert_firing f ON f.id = d.firing_id WHERE f.ticket_id = ${t.ticketId} AND d.status = 'delivered'`;
      return rows.length === 2 ? true : undefined;
    }, 30_000, 'the 50 % alert recorded as delivered on both channels');
    first.kill('SIGKILL');
    expect((await firings(e2e.sql, t.ticketId)).map((f) => f.key)).toEqual(['sla:50']);
    await new Promise((r) => setTimeout(r, 3_000));
    await workerProcess(taskQueue, env);

    const fired = await eventually(async () => {
      const rows = await firings(e2e.sql, t.ticketId);
      return rows.length === 2 ? rows : undefined;
    }, 60_000, 'the 100 % alert after the restart');
    expect(fired.map((f) => f.key)).toEqual(['sla:50', 'sla:100']);
    await eventually(async () => (mails().length >= 2 ? true : undefined), 30_000, 'the 100 % alert e-mail');
    await eventually(async () => (hook.requests.filter((r) => r.body.includes(`"${t.protocol}"`)).length >= 2 ? true : undefined), 30_000, 'both webhooks');
    // Settle: anything sent twice would have arrived by now.
    await new Promise((r) => setTimeout(r, 3_000));
    expect(mails().map((m) => m.subject)).toEqual([expect.stringMatching(/SLA 50%/), expect.stringMatching(/SLA breached/)]);
    const posted = hook.requests.filter((r) => r.body.includes(`"${t.protocol}"`)).map((r) => JSON.parse(r.body) as { threshold: number });
    expect(posted.map((p) => p.threshold)).toEqual([50, 100]);
    const events = await e2e.sql`SELECT 1 FROM ticket_event WHERE ticket_id = ${t.ticketId} AND kind = 'sla_alert'`;
    expect(events).toHaveLength(2);
  });
});
