import { createHash, createHmac } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ApplicationFailure } from '@temporalio/common';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createAlertActivities, type AlertActivities, type AlertFiringInput } from '../../activities/alerts.js';
import { withFailureClassification } from '../../activities/failures.js';
import { secretBox } from '../../config/secret-box.js';
import { UNPROCESSABLE } from '../../contracts/failures.js';
import { alertWorkflowId } from '../../contracts/workflow-ids.js';
import { getAlertFiring } from '../../db/alert-firings.js';
import type { Sql } from '../../db/client.js';
import { startMailCatcher } from '../../stack/mail-catcher.js';
import { installRuntime } from '../../workers/runtime.js';
import { testSecrets, testSql, uniqueSuffix } from '../harness/common.js';
import { startSmtpReceiver, startWebhookReceiver, type SmtpReceiver, type WebhookReceiver } from '../harness/receivers.js';

const PUBLIC_URL = 'https://desk.example.com/';
const FROM = 'Mailtrack <alerts@mailtrack.test>';

let sql: Sql;
let smtp: SmtpReceiver;
let act: AlertActivities;
const closers: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  sql = testSql();
  smtp = await startSmtpReceiver();
  act = createAlertActivities({ sql, secrets: testSecrets, smtp: { url: smtp.url, from: FROM }, publicUrl: PUBLIC_URL });
});
afterAll(async () => {
  for (const close of closers) await close();
  await smtp?.close();
  await sql?.end();
});

async function webhookReceiver(opts?: { failFirst?: number }): Promise<WebhookReceiver> {
  const r = await startWebhookReceiver(opts);
  closers.push(r.close);
  return r;
}

interface AlertSpec {
  notifyAssignee?: boolean;
  notifySector?: boolean;
  emails?: string[];
  webhookUrl?: string | null;
  /** Plain; sealed with the test run's key as the API would. */
  webhookSecret?: string | null;
  sealedSecret?: string;
}

/**
 * A ticket in sector A, assigned to Ada, with an active step in sector B, its occurrence's alert
 * as given (none for `null`). Sector A also has Bob (active), Cy (inactive) and Dee (no e-mail);
 * sector B has Eve.
 */
async function seedTicket(alert: AlertSpec | null) {
  const sfx = uniqueSuffix();
  const [a] = await sql<{ id: number }[]>`INSERT INTO sector (name) VALUES (${`A${sfx}`}) RETURNING id`;
  const [b] = await sql<{ id: number }[]>`INSERT INTO sector (name) VALUES (${`B${sfx}`}) RETURNING id`;
  const user = async (login: string, email: string | null, sectorId: number, active = true) => {
    const [u] = await sql<{ id: number }[]>`
      INSERT INTO app_user (login, name, email, role, active) VALUES (${login + sfx}, ${login}, ${email}, 'agent', ${active}) RETURNING id`;
    await sql`INSERT INTO user_sector (user_id, sector_id) VALUES (${u!.id}, ${sectorId})`;
    return u!.id;
  };
  const mail = (who: string) => `${who}${sfx}@Example.COM`;
  const ada = await user('ada', mail('ada'), a!.id);
  await user('bob', mail('bob'), a!.id);
  await user('cy', mail('cy'), a!.id, false);
  await user('dee', null, a!.id);
  await user('eve', mail('eve'), b!.id);
  let alertId: number | null = null;
  if (alert) {
    const secret = alert.sealedSecret ?? (alert.webhookSecret ? testSecrets.seal(alert.webhookSecret) : null);
    const [row] = await sql<{ id: number }[]>`
      INSERT INTO alert (name, thresholds, notify_assignee, notify_sector, emails, webhook_url, webhook_secret)
      VALUES (${`Alert${sfx}`}, ${[50, 100]}, ${alert.notifyAssignee ?? false}, ${alert.notifySector ?? false}, ${alert.emails ?? []},
              ${alert.webhookUrl ?? null}, ${secret})
      RETURNING id`;
    alertId = row!.id;
  }
  const [type] = await sql<{ id: number }[]>`INSERT INTO occurrence_type (name, sector_id) VALUES (${`Type${sfx}`}, ${a!.id}) RETURNING id`;
  const [occ] = await sql<{ id: number }[]>`
    INSERT INTO occurrence (occurrence_type_id, name, sla_value, sla_unit, sector_id, alert_id)
    VALUES (${type!.id}, 'Invoice', 4, 'hours', ${a!.id}, ${alertId}) RETURNING id`;
  const [customer] = await sql<{ id: number }[]>`INSERT INTO customer (name, email) VALUES ('Carla Cliente', ${`carla${sfx}@customer.test`}) RETURNING id`;
  const protocol = `T${sfx}`;
  const [ticket] = await sql<{ id: number }[]>`
    INSERT INTO ticket (protocol, subject, description, customer_id, channel, occurrence_id, sector_id, assignee_user_id, sla_due_at)
    VALUES (${protocol}, ${'Invoice\r\n  missing'}, 'Where is it?', ${customer!.id}, 'api', ${occ!.id}, ${a!.id}, ${ada}, now() + interval '4 hours')
    RETURNING id`;
  const [step] = await sql<{ id: number }[]>`
    INSERT INTO ticket_step (ticket_id, position, flow, name, sector_id, status) VALUES (${ticket!.id}, 1, 'main', 'Check invoice', ${b!.id}, 'active')
    RETURNING id`;
  const addr = (who: string) => mail(who).toLowerCase();
  return { ticketId: ticket!.id, protocol, stepId: step!.id, alertId, sectorA: a!.id, addr, ada };
}

type Seeded = Awaited<ReturnType<typeof seedTicket>>;
const DUE = '2030-01-02T03:04:05.000Z';
const sla50 = (t: Seeded, over: Partial<AlertFiringInput> = {}): AlertFiringInput => ({ ticketId: t.ticketId, key: 'sla:50', kind: 'sla', threshold: 50, stepId: null, dueAt: DUE, ...over });

const deliveries = async (firingId: number) =>
  sql<{ channel: string; target: string; secret: string | null; status: string; attempts: number; lastError: string | null; deliveredAt: string | null }[]>`
    SELECT channel, target, secret, status, attempts, last_error, delivered_at FROM alert_delivery WHERE firing_id = ${firingId} ORDER BY channel`;

async function failure(p: Promise<unknown>): Promise<Error> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(Error);
  return err as Error;
}

describe('recordAlertFiring (real PostgreSQL)', () => {
  it('resolves the assignee, the active members of the sector with an e-mail and the fixed addresses, once each, lower-cased and sorted', async () => {
    const t = await seedTicket({ notifyAssignee: true, notifySector: true, emails: ['Boss@Example.com'], webhookUrl: 'http://127.0.0.1:9/hook', webhookSecret: 'whsec' });
    // The fixed list repeats a member in another case: one recipient.
    await sql`UPDATE alert SET emails = emails || ${[t.addr('bob').toUpperCase()]}::text[] WHERE id = ${t.alertId}`;
    const fired = await act.recordAlertFiring(sla50(t));
    expect(fired.channels).toEqual(['email', 'webhook']);
    const firing = await getAlertFiring(sql, fired.firingId);
    const recipients = [t.addr('ada'), t.addr('bob'), 'boss@example.com'].sort();
    expect(firing).toMatchObject({ ticketId: t.ticketId, alertId: t.alertId, key: 'sla:50', kind: 'sla', threshold: 50, stepId: null, dueAt: DUE, recipients });
    expect(Date.now() - Date.parse(firing!.firedAt)).toBeLessThan(60_000);
    const rows = await deliveries(fired.firingId);
    const [stored] = await sql<{ webhookSecret: string }[]>`SELECT webhook_secret FROM alert WHERE id = ${t.alertId}`;
    expect(rows).toMatchObject([
      { channel: 'email', target: recipients.join(', '), secret: null, status: 'pending', attempts: 0 },
      { channel: 'webhook', target: 'http://127.0.0.1:9/hook', secret: stored!.webhookSecret, status: 'pending', attempts: 0 },
    ]);
  });

  it("takes the step's sector for a step SLA, and only what the alert asks for", async () => {
    const t = await seedTicket({ notifyAssignee: false, notifySector: true });
    const step = await act.recordAlertFiring({ ticketId: t.ticketId, key: `step:${t.stepId}:100`, kind: 'step_sla', threshold: 100, stepId: t.stepId, dueAt: DUE });
    expect((await getAlertFiring(sql, step.firingId))!.recipients).toEqual([t.addr('eve')]);
    const ticket = await act.recordAlertFiring(sla50(t));
    expect((await getAlertFiring(sql, ticket.firingId))!.recipients).toEqual([t.addr('ada'), t.addr('bob')].sort());

    const onlyFixed = await seedTicket({ emails: ['only@example.com'] });
    const fixed = await act.recordAlertFiring(sla50(onlyFixed));
    expect(fixed.channels).toEqual(['email']);
    expect((await getAlertFiring(sql, fixed.firingId))!.recipients).toEqual(['only@example.com']);
  });

  it("tells the ticket's sector when nobody can take the ticket, whatever the alert's flags", async () => {
    const t = await seedTicket({ notifyAssignee: true, notifySector: false, emails: ['boss@example.com'], webhookUrl: 'http://127.0.0.1:9/hook' });
    const fired = await act.recordAlertFiring({ ticketId: t.ticketId, key: 'pool_empty:a1', kind: 'pool_empty', threshold: null, stepId: null, dueAt: DUE });
    expect(fired.channels).toEqual(['email', 'webhook']);
    expect((await getAlertFiring(sql, fired.firingId))!.recipients).toEqual([t.addr('ada'), t.addr('bob'), 'boss@example.com'].sort());

    const noAlert = await seedTicket(null);
    const pool = await act.recordAlertFiring({ ticketId: noAlert.ticketId, key: 'pool_empty:a1', kind: 'pool_empty', threshold: null, stepId: null, dueAt: DUE });
    expect(pool.channels).toEqual(['email']);
    expect((await getAlertFiring(sql, pool.firingId))!.recipients).toEqual([noAlert.addr('ada'), noAlert.addr('bob')].sort());
  });

  it('records a firing that goes to nobody when the occurrence has no alert', async () => {
    const t = await seedTicket(null);
    const fired = await act.recordAlertFiring(sla50(t));
    expect(fired.channels).toEqual([]);
    expect(await getAlertFiring(sql, fired.firingId)).toMatchObject({ alertId: null, recipients: [], deliveries: [] });
  });

  it('is idempotent on ticket and key, also when retries race', async () => {
    const t = await seedTicket({ notifyAssignee: true, webhookUrl: 'http://127.0.0.1:9/hook' });
    const first = await act.recordAlertFiring(sla50(t));
    // The alert changes after it fired: a retry still answers with the first firing.
    await sql`UPDATE alert SET webhook_url = NULL WHERE id = ${t.alertId}`;
    const again = await Promise.all(Array.from({ length: 5 }, () => act.recordAlertFiring(sla50(t, { threshold: 51 }))));
    for (const r of again) expect(r).toEqual(first);
    const raced = await Promise.all(Array.from({ length: 5 }, () => act.recordAlertFiring(sla50(t, { key: 'sla:100', threshold: 100 }))));
    expect(new Set(raced.map((r) => r.firingId)).size).toBe(1);
    expect(await sql`SELECT id FROM alert_firing WHERE ticket_id = ${t.ticketId}`).toHaveLength(2);
    expect((await getAlertFiring(sql, first.firingId))!.threshold).toBe(50);
  });

  it('refuses a ticket that does not exist, for good', async () => {
    const err = await failure(act.recordAlertFiring({ ticketId: 2 ** 40, key: 'sla:50', kind: 'sla', threshold: 50, stepId: null, dueAt: DUE }));
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect((err as ApplicationFailure).type).toBe(UNPROCESSABLE);
  });
});

describe('deliverAlert (real SMTP and HTTP receivers)', () => {
  it('sends the e-mail once, with the headers that make a duplicate and an auto-reply recognisable', async () => {
    const t = await seedTicket({ notifyAssignee: true, emails: ['boss@example.com'] });
    const fired = await act.recordAlertFiring(sla50(t));
    expect(await act.deliverAlert({ firingId: fired.firingId, channel: 'email' })).toEqual({ delivered: true, already: false });
    expect(await act.deliverAlert({ firingId: fired.firingId, channel: 'email' })).toEqual({ delivered: true, already: true });
    const got = smtp.messages.filter((m) => m.messageId === `<alert-${fired.firingId}@mailtrack>`);
    expect(got).toHaveLength(1);
    const mail = got[0]!;
    expect(mail.envelope.to).toEqual([t.addr('ada'), 'boss@example.com']);
    expect(mail.from?.value).toEqual([{ name: 'Mailtrack', address: 'alerts@mailtrack.test' }]);
    expect(mail.subject).toBe(`[#${t.protocol}] SLA 50% reached: Invoice missing`);
    expect(mail.headers.get('auto-submitted')).toBe('auto-generated');
    for (const part of [`#${t.protocol}`, 'Invoice missing', 'Carla Cliente', 'open (SLA on time)', '50% of the ticket', DUE, `https://desk.example.com/tickets/${t.protocol}`]) {
      expect(mail.text).toContain(part);
    }
    expect((await deliveries(fired.firingId))[0]).toMatchObject({ status: 'delivered', attempts: 1, lastError: null, deliveredAt: expect.any(String) });
  });

  it('words the subject by threshold and kind', async () => {
    const t = await seedTicket({ emails: ['boss@example.com'] });
    const cases: [Partial<AlertFiringInput>, string][] = [
      [{ key: 'sla:100', threshold: 100 }, 'SLA breached'],
      [{ key: 'sla:150', threshold: 150 }, 'SLA 150% elapsed'],
      [{ key: 'step:80', kind: 'step_sla', threshold: 80, stepId: t.stepId }, 'Step "Check invoice" SLA 80% reached'],
      [{ key: 'pool_empty:a1', kind: 'pool_empty', threshold: null }, 'No one available to take ticket'],
    ];
    for (const [over, headline] of cases) {
      const fired = await act.recordAlertFiring(sla50(t, over));
      await act.deliverAlert({ firingId: fired.firingId, channel: 'email' });
      expect(smtp.messages.find((m) => m.messageId === `<alert-${fired.firingId}@mailtrack>`)?.subject).toBe(`[#${t.protocol}] ${headline}: Invoice missing`);
    }
  });

  it('signs the webhook with the alert secret over timestamp and raw body, with the delivery id', async () => {
    const hook = await webhookReceiver();
    const t = await seedTicket({ webhookUrl: hook.url, webhookSecret: 'whsec_test' });
    const fired = await act.recordAlertFiring({ ticketId: t.ticketId, key: `step:${t.stepId}:100`, kind: 'step_sla', threshold: 100, stepId: t.stepId, dueAt: DUE });
    expect(fired.channels).toEqual(['webhook']);
    expect(await act.deliverAlert({ firingId: fired.firingId, channel: 'webhook' })).toEqual({ delivered: true, already: false });
    expect(await act.deliverAlert({ firingId: fired.firingId, channel: 'webhook' })).toEqual({ delivered: true, already: true });
    expect(hook.requests).toHaveLength(1);
    const req = hook.requests[0]!;
    expect(req.method).toBe('POST');
    expect(req.headers['content-type']).toBe('application/json');
    expect(req.headers['mailtrack-delivery']).toBe(String(fired.firingId));
    const ts = req.headers['mailtrack-timestamp'] as string;
    expect(Math.abs(Number(ts) - Date.now() / 1000)).toBeLessThan(60);
    expect(req.headers['mailtrack-signature']).toBe(`sha256=${createHmac('sha256', 'whsec_test').update(`${ts}.${req.body}`).digest('hex')}`);
    expect(req.headers['mailtrack-signature']).not.toBe(`sha256=${createHmac('sha256', 'another').update(`${ts}.${req.body}`).digest('hex')}`);
    const firing = await getAlertFiring(sql, fired.firingId);
    expect(JSON.parse(req.body)).toEqual({
      id: String(fired.firingId),
      event: 'alert.fired',
      kind: 'step_sla',
      threshold: 100,
      dueAt: DUE,
      firedAt: firing!.firedAt,
      ticket: { protocol: t.protocol, subject: 'Invoice\r\n  missing', status: 'open', slaState: 'on_time', url: `https://desk.example.com/tickets/${t.protocol}` },
      step: { id: t.stepId, name: 'Check invoice' },
      alert: { id: t.alertId, name: expect.stringMatching(/^Alert-/) },
    });
    expect(req.body).not.toContain('whsec_test');
  });

  it('sends no signature when the alert has no secret', async () => {
    const hook = await webhookReceiver();
    const t = await seedTicket({ webhookUrl: hook.url });
    const fired = await act.recordAlertFiring(sla50(t));
    await act.deliverAlert({ firingId: fired.firingId, channel: 'webhook' });
    expect(hook.requests[0]!.headers['mailtrack-delivery']).toBe(String(fired.firingId));
    expect(hook.requests[0]!.headers).not.toHaveProperty('mailtrack-signature');
  });

  it('counts failed attempts with a short reason, then ends failed for good and sends nothing more', async () => {
    const hook = await webhookReceiver({ failFirst: 1000 });
    const t = await seedTicket({ webhookUrl: `${hook.url}?token=abc123`, webhookSecret: 'whsec_fail' });
    const fired = await act.recordAlertFiring(sla50(t));
    for (const attempt of [1, 2]) {
      const err = await failure(act.deliverAlert({ firingId: fired.firingId, channel: 'webhook' }));
      // A plain Error: activities/failures.ts leaves it retryable.
      expect(err).not.toBeInstanceOf(ApplicationFailure);
      expect(err.message).toMatch(/HTTP 500/);
      expect((await deliveries(fired.firingId))[0]).toMatchObject({ status: 'pending', attempts: attempt, lastError: 'webhook answered HTTP 500' });
    }
    await act.alertDeliveryFailed({ firingId: fired.firingId, channel: 'webhook', error: 'webhook answered HTTP 500' });
    expect((await deliveries(fired.firingId))[0]).toMatchObject({ status: 'failed', attempts: 2, deliveredAt: null });
    expect(await act.deliverAlert({ firingId: fired.firingId, channel: 'webhook' })).toEqual({ delivered: false, already: true });
    expect(hook.requests).toHaveLength(2);
    const stored = (await deliveries(fired.firingId))[0]!;
    for (const secret of ['abc123', 'whsec_fail']) expect(stored.lastError).not.toContain(secret);
  });

  it('keeps the SMTP password out of what it stores when the server cannot be reached', async () => {
    const closed = await startSmtpReceiver();
    const port = new URL(closed.url).port;
    await closed.close();
    const offline = createAlertActivities({ sql, secrets: testSecrets, smtp: { url: `smtp://mailer:pa55word@127.0.0.1:${port}`, from: FROM } });
    const t = await seedTicket({ emails: ['boss@example.com'] });
    const fired = await offline.recordAlertFiring(sla50(t));
    const err = await failure(offline.deliverAlert({ firingId: fired.firingId, channel: 'email' }));
    expect(err.message).toMatch(/ECONNREFUSED/);
    const row = (await deliveries(fired.firingId))[0]!;
    expect(row).toMatchObject({ status: 'pending', attempts: 1, lastError: expect.stringMatching(/ECONNREFUSED/) });
    expect(`${row.lastError} ${err.message}`).not.toContain('pa55word');
  });

  it('refuses e-mail for good when no SMTP server is configured, and still sends the webhook', async () => {
    const hook = await webhookReceiver();
    const noSmtp = createAlertActivities({ sql, secrets: testSecrets });
    const t = await seedTicket({ emails: ['boss@example.com'], webhookUrl: hook.url });
    const fired = await noSmtp.recordAlertFiring(sla50(t));
    const err = await failure(noSmtp.deliverAlert({ firingId: fired.firingId, channel: 'email' }));
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect((err as ApplicationFailure).nonRetryable).toBe(true);
    expect(err.message).toMatch(/no SMTP server is configured/);
    expect(await noSmtp.deliverAlert({ firingId: fired.firingId, channel: 'webhook' })).toEqual({ delivered: true, already: false });
    expect(hook.requests).toHaveLength(1);
  });
});

describe('the mail catcher of npm start', () => {
  it('saves each alert e-mail as an .eml file and says so in one line', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mailtrack-mail-'));
    const lines: string[] = [];
    const catcher = await startMailCatcher(join(dir, 'mail'), { log: (l) => lines.push(l) });
    try {
      const local = createAlertActivities({ sql, secrets: testSecrets, smtp: { url: catcher.url, from: FROM } });
      const t = await seedTicket({ emails: ['boss@example.com'] });
      const fired = await local.recordAlertFiring(sla50(t));
      await local.deliverAlert({ firingId: fired.firingId, channel: 'email' });
      const files = await readdir(join(dir, 'mail'));
      expect(files).toEqual([expect.stringMatching(/\.eml$/)]);
      const eml = await readFile(join(dir, 'mail', files[0]!), 'utf8');
      expect(eml).toContain(`Message-ID: <alert-${fired.firingId}@mailtrack>`);
      expect(eml).not.toContain('https://desk.example.com');
      expect(lines).toEqual([`alert mail to boss@example.com saved as ${join(dir, 'mail', files[0]!)}`]);
    } finally {
      await catcher.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('the deliverAlert workflow (real Temporal)', () => {
  const taskQueue = `alerts${uniqueSuffix()}`;
  let client: Client;

  beforeAll(async () => {
    installRuntime('ERROR', { coreLevel: 'ERROR' });
    const nativeConnection = await NativeConnection.connect({ address: inject('temporalAddress') });
    const worker = await Worker.create({
      connection: nativeConnection,
      taskQueue,
      workflowsPath: fileURLToPath(new URL('../harness/alert-workflows.ts', import.meta.url)),
      activities: withFailureClassification(createAlertActivities({ sql, secrets: testSecrets, smtp: { url: smtp.url, from: FROM }, publicUrl: PUBLIC_URL })),
    });
    const running = worker.run();
    const connection = await Connection.connect({ address: inject('temporalAddress') });
    client = new Client({ connection });
    closers.push(async () => {
      worker.shutdown();
      await running;
      await nativeConnection.close();
      await connection.close();
    });
  });

  const run = (firingId: number, channels: ('email' | 'webhook')[]) =>
    client.workflow.execute('deliverAlert', { taskQueue, workflowId: alertWorkflowId(firingId), args: [{ firingId, channels }] });

  it('retries a webhook that fails three times until it answers, and sends the e-mail beside it once', async () => {
    const hook = await webhookReceiver({ failFirst: 3 });
    const t = await seedTicket({ emails: ['boss@example.com'], webhookUrl: hook.url, webhookSecret: 'whsec_retry' });
    const fired = await act.recordAlertFiring(sla50(t, { key: 'sla:100', threshold: 100 }));
    const started = Date.now();
    const result = await run(fired.firingId, fired.channels);
    expect(result).toEqual([
      { channel: 'email', delivered: true },
      { channel: 'webhook', delivered: true },
    ]);
    expect(hook.requests.map((r) => r.status)).toEqual([500, 500, 500, 200]);
    expect(new Set(hook.requests.map((r) => r.headers['mailtrack-delivery']))).toEqual(new Set([String(fired.firingId)]));
    expect(new Set(hook.requests.map((r) => r.body)).size).toBe(1);
    // Backoff 1 s, 2 s, 4 s between the attempts.
    expect(hook.requests[3]!.at.getTime() - hook.requests[0]!.at.getTime()).toBeGreaterThanOrEqual(6_000);
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(smtp.messages.filter((m) => m.messageId === `<alert-${fired.firingId}@mailtrack>`)).toHaveLength(1);
    expect(await deliveries(fired.firingId)).toMatchObject([
      { channel: 'email', status: 'delivered', attempts: 1 },
      { channel: 'webhook', status: 'delivered', attempts: 4, lastError: 'webhook answered HTTP 500' },
    ]);
  });

  it('gives a channel up without failing when no retry can help, and delivers the other', async () => {
    const hook = await webhookReceiver();
    const otherKey = secretBox(createHash('sha256').update('another key').digest());
    const t = await seedTicket({ emails: ['boss@example.com'], webhookUrl: hook.url, sealedSecret: otherKey.seal('whsec_other') });
    const fired = await act.recordAlertFiring(sla50(t));
    const result = await run(fired.firingId, fired.channels);
    expect(result).toEqual([
      { channel: 'email', delivered: true },
      { channel: 'webhook', delivered: false, error: expect.stringMatching(/webhook secret cannot be opened/) },
    ]);
    expect(hook.requests).toHaveLength(0);
    expect(await deliveries(fired.firingId)).toMatchObject([
      { channel: 'email', status: 'delivered' },
      { channel: 'webhook', status: 'failed', attempts: 1, lastError: expect.stringMatching(/webhook secret cannot be opened/) },
    ]);
  });
});
