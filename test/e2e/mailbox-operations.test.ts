import { randomUUID } from 'node:crypto';
import { Worker } from '@temporalio/worker';
import { describe, expect, it } from 'vitest';
import { withImap } from '../../activities/imap.js';
import { emailWorkflowId } from '../../contracts/workflow-ids.js';
import type { ImapSettings } from '../../db/mailboxes.js';
import { storePushed } from '../../db/inbound-email-operations.js';
import type { RecordedOutcome } from '../../domain/email-outcome.js';
import type { TicketDetail } from '../../schemas/tickets.js';
import { useE2E } from '../harness/e2e.js';
import { appendMail, eventually, rawMail, seedConfig, uniqueSuffix } from '../harness/fixtures.js';

/**
 * Issue 8, "mailboxes people can run" and "push inbound", through the whole engine (Dovecot →
 * Temporal → PostgreSQL → API): mail pushed over HTTP, a quarantined e-mail re-processed after a
 * fix, a message moved on the server once its ticket exists, attachments and inline images
 * downloaded from the ticket, and the live status of a watched mailbox.
 */
const e2e = useE2E('mailboxops');
const { outcomeOf, get: api } = e2e;

const admin = (method: 'GET' | 'POST' | 'PATCH', url: string, payload?: object) => e2e.api.as('admin', { method, url, ...(payload ? { payload } : {}) });
const result = (workflowId: string) => e2e.client.workflow.getHandle(workflowId).result() as Promise<RecordedOutcome>;

/** A demo mailbox on its own Dovecot folder, made active through the API (its watcher runs on this file's worker), with these settings. */
async function activeMailbox(settings: Record<string, unknown> = {}) {
  const cfg = await seedConfig(e2e.sql);
  const res = await admin('PATCH', `/mailboxes/${cfg.mailboxId}`, { active: true, ...settings });
  expect(res.statusCode, res.body).toBe(200);
  return cfg;
}

const emailIdOf = async (mailboxId: number, uid: number) =>
  (await e2e.sql<{ id: number }[]>`SELECT id FROM inbound_email WHERE mailbox_id = ${mailboxId} AND uid = ${uid}`)[0]!.id;

/** UIDs in a folder of the test Dovecot. */
async function uidsIn(imap: ImapSettings, folder: string): Promise<number[]> {
  return withImap(imap, async (c) => {
    const lock = await c.getMailboxLock(folder, { readOnly: true });
    try {
      return (c.mailbox && c.mailbox.exists ? await c.search({ all: true }, { uid: true }) : []) || [];
    } finally {
      lock.release();
    }
  });
}

describe('POST /inbound/:mailbox: raw mail pushed over HTTP', () => {
  const SECRET = `push-${randomUUID()}`;
  const push = (mailboxId: number, raw: string | Buffer, headers: Record<string, string> = {}) =>
    e2e.api.app.inject({ method: 'POST', url: `/inbound/${mailboxId}`, headers: { 'content-type': 'message/rfc822', authorization: `Bearer ${SECRET}`, ...headers }, payload: raw });

  it('runs a pushed message through the same workflow and Message-ID dedupe as IMAP mail', async () => {
    const cfg = await activeMailbox({ pushSecret: SECRET });
    const raw = rawMail({ from: 'Pushed Person <pushed@push-e2e.example>', subject: 'Pushed by the MTA', body: 'It came over HTTP.', messageId: `<pushed${uniqueSuffix()}@test>` });
    const res = await push(cfg.mailboxId, raw);
    expect(res.statusCode, res.body).toBe(202);
    const accepted = res.json();
    expect(accepted).toEqual({ emailId: expect.any(Number), workflowId: expect.stringMatching(new RegExp(`^email:${cfg.mailboxId}:0:\\d+$`)), repeated: false });
    const outcome = await result(accepted.workflowId);
    expect(outcome).toMatchObject({ outcome: 'ticket_created', protocol: expect.any(String) });
    const { body: ticket } = await api<TicketDetail>(`/tickets/${outcome.protocol}`);
    expect(ticket).toMatchObject({ subject: 'Pushed by the MTA', description: 'It came over HTTP.', customer: { email: 'pushed@push-e2e.example' }, mailbox: { id: cfg.mailboxId } });
    const [stored] = await e2e.sql<{ raw: Buffer; uidValidity: number; postProcessing: string }[]>`SELECT raw, uid_validity, post_processing FROM inbound_email WHERE id = ${accepted.emailId}`;
    expect(stored).toEqual({ raw: Buffer.from(raw), uidValidity: 0, postProcessing: 'none' });

    // Pushed again once processed (HTTP Basic this time, as a URL with credentials sends it): stored, and ignored as a duplicate.
    const again = await push(cfg.mailboxId, raw, { authorization: `Basic ${Buffer.from(`push:${SECRET}`).toString('base64')}` });
    expect(again.statusCode, again.body).toBe(202);
    expect(again.json().emailId).not.toBe(accepted.emailId);
    expect(await result(again.json().workflowId)).toMatchObject({ outcome: 'ignored', reason: `duplicate of e-mail ${accepted.emailId} (same Message-ID)` });

    // The same message read over IMAP as well: one ticket.
    const ref = await appendMail(cfg.imap, raw);
    expect(await outcomeOf({ mailboxId: cfg.mailboxId, ...ref })).toMatchObject({ outcome: 'ignored' });
    const [count] = await e2e.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM ticket WHERE mailbox_id = ${cfg.mailboxId}`;
    expect(count!.n).toBe(1);
  });

  it('refuses, before reading the body: no such mailbox or no push secret (404), a wrong secret (401), an inactive mailbox (409), another type (415), too large (413)', async () => {
    const cfg = await activeMailbox({ pushSecret: SECRET, maxMessageBytes: 65536 });
    const plain = await seedConfig(e2e.sql);
    const raw = rawMail({ subject: 'refused' });
    const problem = async (res: Promise<{ statusCode: number; headers: Record<string, unknown>; json(): { detail: string } }>, status: number, detail: RegExp) => {
      const r = await res;
      expect(r.statusCode, JSON.stringify(r.json())).toBe(status);
      expect(r.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(r.json().detail).toMatch(detail);
    };
    await problem(push(999999999, raw), 404, /no mailbox 999999999 that accepts pushed mail/);
    await problem(push(plain.mailboxId, raw), 404, /accepts pushed mail/);
    await problem(push(cfg.mailboxId, raw, { authorization: 'Bearer wrong-secret-0123456789' }), 401, /push secret/);
    await problem(push(cfg.mailboxId, raw, { authorization: '' }), 401, /push secret/);
    // An API key is no push secret, not even an admin's.
    await problem(push(cfg.mailboxId, raw, { authorization: `Bearer ${e2e.api.keys.admin}` }), 401, /push secret/);
    await problem(push(cfg.mailboxId, raw, { 'content-type': 'text/plain' }), 415, /Content-Type: message\/rfc822 \(not text\/plain\)/);
    await problem(push(cfg.mailboxId, rawMail({ body: 'y'.repeat(70_000) })), 413, /takes at most 65536/);
    await problem(push(cfg.mailboxId, ''), 400, /empty/);
    await problem(e2e.api.app.inject({ method: 'POST', url: '/inbound/0', headers: { 'content-type': 'message/rfc822' }, payload: raw }), 400, /params\.mailbox/);
    expect((await admin('PATCH', `/mailboxes/${cfg.mailboxId}`, { active: false })).statusCode).toBe(200);
    await problem(push(cfg.mailboxId, raw), 409, /inactive/);
    const [count] = await e2e.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM inbound_email WHERE mailbox_id IN (${cfg.mailboxId}, ${plain.mailboxId})`;
    expect(count!.n).toBe(0);
  });

  it('gives a sender retrying a Message-ID that has no outcome yet the first copy, not a duplicate of it', async () => {
    const cfg = await seedConfig(e2e.sql);
    const messageId = `<retry${uniqueSuffix()}@test>`;
    const raw = rawMail({ subject: 'Sent twice', messageId });
    // The first push was stored, and its answer (or its workflow's start) was lost.
    const first = await storePushed(e2e.sql, cfg.mailboxId, Buffer.from(raw), messageId);
    expect(await storePushed(e2e.sql, cfg.mailboxId, Buffer.from(raw), messageId)).toEqual({ ...first, existing: true });
    // The sender tries again: the first copy is the one processed.
    expect((await admin('PATCH', `/mailboxes/${cfg.mailboxId}`, { active: true, pushSecret: SECRET })).statusCode).toBe(200);
    const retry = await push(cfg.mailboxId, raw);
    expect(retry.statusCode, retry.body).toBe(202);
    expect(retry.json()).toEqual({ emailId: first.emailId, workflowId: emailWorkflowId(first.ref), repeated: true });
    expect(await result(retry.json().workflowId)).toMatchObject({ outcome: 'ticket_created' });
    const [count] = await e2e.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM inbound_email WHERE mailbox_id = ${cfg.mailboxId}`;
    expect(count!.n).toBe(1);
  });
});

describe('POST /emails/:id/reprocess', () => {
  it('runs a quarantined e-mail again after a fix, under a new workflow id, to a new outcome', async () => {
    const cfg = await activeMailbox({ maxMessageBytes: 65536 });
    const raw = rawMail({ from: 'big@reprocess-e2e.example', subject: 'Too big at first', body: 'z'.repeat(76).concat('\r\n').repeat(1000) });
    const ref = await appendMail(cfg.imap, raw);
    const first = await outcomeOf({ mailboxId: cfg.mailboxId, ...ref });
    expect(first).toMatchObject({ outcome: 'quarantined', reason: expect.stringMatching(/above this mailbox's limit of 65536 bytes/) });
    const emailId = await emailIdOf(cfg.mailboxId, ref.uid);

    expect((await e2e.api.as('agent', { method: 'POST', url: `/emails/${emailId}/reprocess` })).statusCode).toBe(403);
    // The fix: a larger limit. Then the same e-mail, from the bytes kept, becomes a ticket.
    expect((await admin('PATCH', `/mailboxes/${cfg.mailboxId}`, { maxMessageBytes: 1024 * 1024 })).statusCode).toBe(200);
    const res = await admin('POST', `/emails/${emailId}/reprocess`);
    expect(res.statusCode, res.body).toBe(202);
    const workflowId = `${emailWorkflowId({ mailboxId: cfg.mailboxId, ...ref })}:reprocess-1`;
    expect(res.json()).toEqual({ emailId, attempt: 1, workflowId, previous: { outcome: 'quarantined', reason: first.reason } });
    const second = await result(workflowId);
    expect(second).toMatchObject({ outcome: 'ticket_created', protocol: expect.any(String) });
    const { body: email } = await api<{ outcome: string; protocol: string; subject: string }>(`/emails/${emailId}`);
    expect(email).toMatchObject({ outcome: 'ticket_created', protocol: second.protocol, subject: 'Too big at first' });
    const history = await e2e.sql`SELECT outcome, outcome_reason, replaced_by FROM email_outcome_history WHERE email_id = ${emailId}`;
    expect([...history]).toEqual([{ outcome: 'quarantined', outcomeReason: first.reason, replacedBy: 'admin' }]);

    // Only a quarantined e-mail: this one has its ticket now.
    const refused = await admin('POST', `/emails/${emailId}/reprocess`);
    expect(refused.statusCode).toBe(409);
    expect(refused.json().detail).toBe(`E-mail ${emailId} is ticket_created: only a quarantined e-mail can be re-processed.`);
    expect((await admin('POST', '/emails/999999999/reprocess')).statusCode).toBe(404);
  });

  it('numbers each attempt; one that fails again is quarantined again', async () => {
    const cfg = await activeMailbox();
    const ref = await appendMail(cfg.imap, 'not an e-mail\r\nat all\r\n');
    expect(await outcomeOf({ mailboxId: cfg.mailboxId, ...ref })).toMatchObject({ outcome: 'quarantined' });
    const emailId = await emailIdOf(cfg.mailboxId, ref.uid);
    for (const attempt of [1, 2]) {
      const res = await admin('POST', `/emails/${emailId}/reprocess`);
      expect(res.statusCode, res.body).toBe(202);
      expect(res.json().attempt).toBe(attempt);
      expect(await result(res.json().workflowId)).toMatchObject({ outcome: 'quarantined', reason: expect.stringMatching(/no sender address/) });
    }
    const [row] = await e2e.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM email_outcome_history WHERE email_id = ${emailId}`;
    expect(row!.n).toBe(2);
  });
});

describe('the message on the server after its outcome, and the status of the mailbox', () => {
  it('moves the message to the folder once its ticket exists; the status shows the watcher at work', async () => {
    const done = `Handled${uniqueSuffix()}`;
    const cfg = await activeMailbox({ afterProcessing: 'move', afterProcessingFolder: done });
    const ref = await appendMail(cfg.imap, rawMail({ subject: 'Move me when done' }));
    expect(await outcomeOf({ mailboxId: cfg.mailboxId, ...ref })).toMatchObject({ outcome: 'ticket_created' });
    await eventually(async () => ((await uidsIn(cfg.imap, cfg.imap.folder)).length === 0 ? true : undefined), 20_000, 'the message to be moved');
    expect(await uidsIn(cfg.imap, done)).toHaveLength(1);

    const { status, body } = await api<Record<string, unknown>>(`/mailboxes/${cfg.mailboxId}/status`);
    expect(status).toBe(200);
    expect(body).toMatchObject({
      active: true,
      connected: true,
      lastError: null,
      lastMessage: { uidValidity: ref.uidValidity, uid: ref.uid },
      cursor: { uidValidity: ref.uidValidity, lastUid: ref.uid },
      backlog: { onServer: 0, unprocessed: 0, afterProcessing: 0 },
    });
  }, 60_000);
});

describe('attachments and inline images, downloaded from the ticket', () => {
  it('serves each with its type and its name as written (RFC 6266)', async () => {
    const cfg = await activeMailbox();
    const png = Buffer.from('89504e470d0a1a0a0000000d4948445200000001000000010806000000', 'hex');
    const pdf = Buffer.from('%PDF-1.4\n% test\n');
    const raw = [
      'From: Ana <ana@attach-e2e.example>',
      'To: support@mailtrack.test',
      'Subject: Files for you',
      `Message-ID: <files${uniqueSuffix()}@test>`,
      'MIME-Version: 1.0',
      'Content-Type: multipart/mixed; boundary="outer"',
      '',
      '--outer',
      'Content-Type: multipart/related; boundary="inner"',
      '',
      '--inner',
      'Content-Type: text/html; charset=utf-8',
      '',
      '<p>See the logo <img src="cid:logo@test"> and the invoice.</p>',
      '--inner',
      'Content-Type: image/png',
      'Content-Disposition: inline; filename="logo.png"',
      'Content-ID: <logo@test>',
      'Content-Transfer-Encoding: base64',
      '',
      png.toString('base64'),
      '--inner--',
      '--outer',
      'Content-Type: application/pdf',
      "Content-Disposition: attachment; filename*=utf-8''fatura%20mar%C3%A7o.pdf",
      'Content-Transfer-Encoding: base64',
      '',
      pdf.toString('base64'),
      '--outer--',
      '',
    ].join('\r\n');
    const ref = await appendMail(cfg.imap, raw);
    const outcome = await outcomeOf({ mailboxId: cfg.mailboxId, ...ref });
    expect(outcome.outcome).toBe('ticket_created');
    const { body: ticket } = await api<{ attachments: { filename: string; contentType: string; inline: boolean; url: string; size: number }[] }>(`/tickets/${outcome.protocol}`);
    const byName = Object.fromEntries(ticket.attachments.map((a) => [a.filename, a]));
    expect(byName['logo.png']).toMatchObject({ contentType: 'image/png', inline: true, size: png.length });
    expect(byName['fatura março.pdf']).toMatchObject({ contentType: 'application/pdf', inline: false, size: pdf.length });

    for (const [name, bytes, type, encoded] of [
      ['logo.png', png, 'image/png', 'logo.png'],
      ['fatura março.pdf', pdf, 'application/pdf', 'fatura%20mar%C3%A7o.pdf'],
    ] as const) {
      const res = await e2e.api.as('agent', byName[name]!.url);
      expect(res.statusCode).toBe(200);
      expect(res.rawPayload.equals(bytes)).toBe(true);
      expect(res.headers['content-type']).toBe(type);
      expect(res.headers['content-disposition']).toContain(`filename*=UTF-8''${encoded}`);
    }
    expect((await e2e.api.as('none', byName['logo.png']!.url)).statusCode).toBe(401);
  });
});

describe('workflow determinism', () => {
  it('replays the histories this file produced with the current workflow code', async () => {
    const histories = [];
    for await (const wf of e2e.client.workflow.list({ query: `TaskQueue = '${e2e.taskQueue}' AND ExecutionStatus = 'Completed'` })) {
      histories.push({ workflowId: wf.workflowId, history: await e2e.client.workflow.getHandle(wf.workflowId, wf.runId).fetchHistory() });
    }
    expect(histories.length).toBeGreaterThan(0);
    for (const h of histories) await Worker.runReplayHistory({ workflowBundle: e2e.bundle }, h.history, h.workflowId);
  });
});
