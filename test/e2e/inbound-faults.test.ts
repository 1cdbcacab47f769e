import type { ChildProcess } from 'node:child_process';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMailboxWatcher } from '../../clients/mailbox-watchers.js';
import { emailWorkflowId } from '../../contracts/workflow-ids.js';
import type { Sql } from '../../db/client.js';
import type { RecordedOutcome } from '../../domain/email-outcome.js';
import type { ImapSettings } from '../../db/mailboxes.js';
import { startDovecot, type Dovecot } from '../../stack/dovecot.js';
import { seedDemo, viaInject } from '../../stack/demo-seed.js';
import { testApi } from '../harness/api.js';
import { appendMail, eventually, rawMail, testSql, uniqueSuffix } from '../harness/fixtures.js';
import { kickImapUser } from '../harness/imap-cut.js';
import { startPersistentTemporal, type PersistentTemporal } from '../harness/persistent-temporal.js';
import { startSmtpReceiver, type SmtpReceiver } from '../harness/receivers.js';
import { useWorkerProcesses } from '../harness/spawn-worker.js';

// Issue 8, "Must show": the inbound path through real parts (Dovecot, a Temporal dev server of
// this file's own with its state on disk, PostgreSQL, a worker in its own process, a real SMTP
// receiver) while faults are injected under a steady stream of mail.
const workerProcess = useWorkerProcesses();

const TOTAL = 300;
const SENDERS = 60;
/** One APPEND every PACE_MS: 300 e-mails over about a minute. */
const PACE_MS = 200;

let sql: Sql;
let dovecot: Dovecot;
let temporal: PersistentTemporal;
let smtp: SmtpReceiver;
let connection: Connection;
let client: Client;
beforeAll(async () => {
  sql = testSql();
  // A Dovecot of its own too: cutting the IMAP connections of its user touches no other test file's.
  [temporal, smtp, dovecot] = await Promise.all([startPersistentTemporal(), startSmtpReceiver(), startDovecot({ users: [{ user: 'faults', password: 'faults-secret' }] })]);
  connection = await Connection.connect({ address: temporal.address });
  client = new Client({ connection });
});
afterAll(async () => {
  await connection?.close();
  await temporal?.stop();
  await dovecot?.stop();
  await smtp?.close();
  await sql?.end();
});

type Planned =
  | { kind: 'new'; messageId: string; from: string }
  | { kind: 'reply'; messageId: string; from: string; to: { messageId: string; protocol: string } }
  | { kind: 'auto'; messageId: string; from: string };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('inbound mail under faults', () => {
  it('300 e-mails arriving while the worker is SIGKILLed three times, Temporal restarts and the IMAP connection is cut: one outcome each, no duplicate ticket or acknowledgement', { timeout: 330_000 }, async () => {
    const imap: ImapSettings = { host: dovecot.host, port: dovecot.port, tls: false, user: 'faults', secret: 'faults-secret', folder: 'INBOX' };
    const api = await testApi(sql);
    const { mailboxId } = await seedDemo(viaInject(api.app, api.keys.admin), imap, { suffix: uniqueSuffix(), activeMailbox: false }).finally(() => api.close());
    const cfg = { mailboxId, imap };
    await sql`UPDATE mailbox SET acknowledge = true WHERE id = ${mailboxId}`;
    const sfx = uniqueSuffix();
    const customers = Array.from({ length: SENDERS }, (_, n) => `customer${n}${sfx}@client${n % 7}.example`);
    const taskQueue = `inbound-faults${sfx}`;
    const env = { TEMPORAL_ADDRESS: temporal.address, SMTP_URL: smtp.url };

    // The worker of the moment; one that exits without being killed by us is a failure.
    let worker: ChildProcess = await workerProcess(taskQueue, env);
    const killedByUs = new Set<number>();
    const unexpectedExits: string[] = [];
    const watch = (w: ChildProcess) => w.once('exit', (code, signal) => {
      if (!killedByUs.has(w.pid!)) unexpectedExits.push(`worker ${w.pid} exited by itself (code ${code}, signal ${signal})`);
    });
    watch(worker);
    await startMailboxWatcher({ client, taskQueue, idleSeconds: 30, mailboxId });

    const started = Date.now();
    const at = () => `t+${((Date.now() - started) / 1000).toFixed(1)}s`;
    const withOutcome = async () => (await sql<{ n: number }[]>`SELECT count(*)::int AS n FROM inbound_email WHERE mailbox_id = ${mailboxId} AND outcome IS NOT NULL`)[0]!.n;
    const plan: Planned[] = [];
    const appendedAtFault: number[] = [];
    const faultLog = async (what: string) => {
      appendedAtFault.push(plan.length);
      console.log(`[inbound-faults] ${at()}, ${plan.length} appended, ${await withOutcome()} with an outcome: ${what}`);
    };

    const killWorker = async (n: number) => {
      const old = worker;
      killedByUs.add(old.pid!);
      old.kill('SIGKILL');
      worker = await workerProcess(taskQueue, env);
      watch(worker);
      await faultLog(`worker SIGKILLed (${n} of 3, pid ${old.pid}), a new one started (pid ${worker.pid})`);
    };
    let imapCut = false;
    // The appender's own connection is left out of the cut: an APPEND cut midway would leave
    // unknown whether the message arrived.
    let appending: Promise<void> = Promise.resolve();
    let paused: Promise<void> = Promise.resolve();
    /** Cuts the watcher's IMAP connection from the server side, once it has one (it reconnects after a worker kill's heartbeat timeout). */
    const cutImap = async () => {
      await eventually(async () => {
        let resume = () => {};
        paused = new Promise<void>((r) => (resume = r));
        try {
          // An APPEND that began just as the pause did is waited for too.
          for (let current = appending; ; current = appending) {
            await current;
            if (current === appending) break;
          }
          imapCut = await kickImapUser(cfg.imap.port, cfg.imap.user);
        } finally {
          resume();
        }
        return imapCut || undefined;
      }, 60_000, 'an IMAP connection of the watcher to cut');
      await faultLog(`the watcher's IMAP connection cut by the server (doveadm kick)`);
    };
    const restartTemporal = async () => {
      const t0 = Date.now();
      await temporal.restart();
      await faultLog(`Temporal server restarted on its database file (down ${((Date.now() - t0) / 1000).toFixed(1)} s)`);
    };

    // A reply names a mail whose ticket exists by then (threading needs the ticket it replies to).
    const createdSoFar = () => sql<{ messageId: string; protocol: string; fromAddress: string }[]>`
      SELECT e.message_id, t.protocol, e.from_address FROM inbound_email e JOIN ticket t ON t.source_email_id = e.id
       WHERE e.mailbox_id = ${mailboxId} AND e.outcome = 'ticket_created'`;
    const automatic = (i: number, messageId: string): { raw: string; from: string } => {
      const customer = customers[i % SENDERS]!;
      switch (i % 4) {
        case 0: return { from: customer, raw: rawMail({ from: customer, messageId, subject: 'Out of office', extraHeaders: ['Auto-Submitted: auto-replied (vacation)'] }) };
        case 1: return { from: `postmaster@client${i % 7}.example`, raw: rawMail({ from: `Microsoft Outlook <postmaster@client${i % 7}.example>`, messageId, subject: 'Undeliverable: hello', extraHeaders: ['X-MS-Exchange-Message-Is-Ndr:'] }) };
        case 2: return { from: `MAILER-DAEMON@mx${i}.example`, raw: rawMail({ from: `MAILER-DAEMON@mx${i}.example`, messageId, subject: 'failure notice', body: 'Hi. This is the qmail-send program.\n\n<gone@example.org>:\nSorry, no mailbox here by that name.' }) };
        default: return { from: customer, raw: rawMail({ from: customer, messageId, subject: 'Read: invoice', extraHeaders: ['X-Auto-Response-Suppress: All'] }) };
      }
    };
    const appendNext = async (i: number) => {
      const messageId = `<m${i}${sfx}@mail.example>`;
      if (i % 23 === 11) {
        const a = automatic(i, messageId);
        await appendMail(cfg.imap, a.raw);
        plan.push({ kind: 'auto', messageId, from: a.from });
        return;
      }
      const candidates = i % 5 === 3 ? await createdSoFar() : [];
      if (candidates.length > 0) {
        const to = candidates[(i * 7) % candidates.length]!;
        const from = to.fromAddress;
        await appendMail(cfg.imap, rawMail({ from, messageId, subject: `Re: question ${to.messageId}`, body: `More about it (${i}).`, extraHeaders: [`In-Reply-To: ${to.messageId}`, `References: ${to.messageId}`] }));
        plan.push({ kind: 'reply', messageId, from, to: { messageId: to.messageId, protocol: to.protocol } });
        return;
      }
      const from = customers[(i * 13) % SENDERS]!;
      await appendMail(cfg.imap, rawMail({ from: `Customer ${i % SENDERS} <${from}>`, messageId, subject: `Question ${i}`, body: `Question number ${i}.` }));
      plan.push({ kind: 'new', messageId, from });
    };

    // The faults, on their own clock, while the mail keeps arriving (kill → restart is immediate;
    // a killed worker's activities come back after their timeouts: 30 s heartbeat for the
    // watcher, 2 min start-to-close for an e-mail's steps).
    const faults = (async () => {
      // First the IMAP cut, while the watcher is surely connected: after a kill it is away
      // until its heartbeat times out.
      await sleep(3_000);
      await cutImap();
      await sleep(5_000);
      await killWorker(1);
      await sleep(7_000);
      await restartTemporal();
      await sleep(6_000);
      await killWorker(2);
      await sleep(12_000);
      await killWorker(3);
    })();
    // Awaited after the last APPEND; a failure meanwhile is not an unhandled rejection.
    faults.catch(() => {});
    for (let i = 0; i < TOTAL; i++) {
      const due = started + i * PACE_MS;
      if (due > Date.now()) await sleep(due - Date.now());
      await paused;
      appending = appendNext(i);
      await appending;
    }
    console.log(`[inbound-faults] ${at()}: all ${TOTAL} appended (${plan.filter((p) => p.kind === 'reply').length} replies, ${plan.filter((p) => p.kind === 'auto').length} automatic)`);
    await faults;

    // Every e-mail's workflow ends (none failed), each with the outcome stored for it.
    await eventually(async () => ((await withOutcome()) === TOTAL ? true : undefined), 200_000, 'an outcome for every e-mail');
    const rows = await sql<{ id: number; uidValidity: number; uid: number; messageId: string; outcome: string }[]>`
      SELECT id, uid_validity, uid, message_id, outcome FROM inbound_email WHERE mailbox_id = ${mailboxId} ORDER BY uid`;
    const results = await Promise.all(rows.map((r) => client.workflow.getHandle(emailWorkflowId({ mailboxId, uidValidity: r.uidValidity, uid: r.uid })).result() as Promise<RecordedOutcome>));
    console.log(`[inbound-faults] ${at()}: every e-mail's workflow completed`);

    // Exactly the 300 e-mails, each once, each with the outcome its kind calls for.
    expect(rows.map((r) => r.messageId).sort()).toEqual(plan.map((p) => p.messageId).sort());
    const byMessageId = new Map(rows.map((r, n) => [r.messageId, { ...r, result: results[n]! }]));
    const expected = { new: 'ticket_created', reply: 'appended_to_ticket', auto: 'ignored' } as const;
    expect(plan.map((p) => [p.messageId, byMessageId.get(p.messageId)!.outcome])).toEqual(plan.map((p) => [p.messageId, expected[p.kind]]));
    expect(results.map((r) => r.outcome)).toEqual(rows.map((r) => r.outcome));
    const replaced = await sql`SELECT 1 FROM email_outcome_history h JOIN inbound_email e ON e.id = h.email_id WHERE e.mailbox_id = ${mailboxId}`;
    expect(replaced).toHaveLength(0);

    // One ticket per new e-mail, none from a reply or an automatic one, none twice.
    const tickets = await sql<{ id: number; protocol: string; messageId: string }[]>`
      SELECT t.id, t.protocol, e.message_id FROM ticket t JOIN inbound_email e ON e.id = t.source_email_id WHERE t.mailbox_id = ${mailboxId}`;
    const [{ n: allTickets }] = await sql<[{ n: number }]>`SELECT count(*)::int AS n FROM ticket WHERE mailbox_id = ${mailboxId}`;
    const news = plan.filter((p) => p.kind === 'new');
    expect(allTickets).toBe(news.length);
    expect(tickets.map((t) => t.messageId).sort()).toEqual(news.map((p) => p.messageId).sort());
    for (const p of news) expect(byMessageId.get(p.messageId)!.result.protocol).toBe(tickets.find((t) => t.messageId === p.messageId)!.protocol);

    // Each reply on the ticket of the e-mail it answers, once.
    const appended = await sql<{ messageId: string; protocol: string }[]>`
      SELECT e.message_id, t.protocol FROM ticket_message m JOIN inbound_email e ON e.id = m.email_id JOIN ticket t ON t.id = m.ticket_id WHERE e.mailbox_id = ${mailboxId}`;
    const replies = plan.filter((p) => p.kind === 'reply');
    expect(replies.length).toBeGreaterThan(20);
    expect(appended.map((a) => [a.messageId, a.protocol]).sort()).toEqual(replies.map((p) => [p.messageId, p.to.protocol]).sort());

    // At most one acknowledgement per new ticket, recorded once and received at most once; a
    // worker killed mid-send leaves it `uncertain` rather than sending it again.
    const outbound = await sql<{ ticketId: number; messageId: string; status: string }[]>`
      SELECT o.ticket_id, o.message_id, o.status FROM outbound_email o JOIN ticket t ON t.id = o.ticket_id WHERE t.mailbox_id = ${mailboxId}`;
    expect(outbound.map((o) => o.ticketId).sort((a, b) => a - b)).toEqual(tickets.map((t) => t.id).sort((a, b) => a - b));
    expect(outbound.filter((o) => o.status !== 'sent' && o.status !== 'uncertain')).toEqual([]);
    const ours = new Set(outbound.map((o) => o.messageId));
    const received = smtp.messages.map((m) => m.messageId ?? '(none)');
    const times = new Map<string, number>();
    for (const id of received) times.set(id, (times.get(id) ?? 0) + 1);
    expect([...times].filter(([, n]) => n > 1)).toEqual([]);
    expect(received.filter((id) => !ours.has(id))).toEqual([]);
    for (const o of outbound.filter((r) => r.status === 'sent')) expect(times.get(o.messageId), o.messageId).toBe(1);
    const uncertain = outbound.filter((o) => o.status === 'uncertain').length;
    expect(received.length).toBeGreaterThanOrEqual(outbound.length - uncertain);
    console.log(`[inbound-faults] ${received.length} acknowledgements received for ${tickets.length} tickets, ${uncertain} left uncertain by a kill mid-send`);

    // Every workflow on the task queue completed or is running (ticket workflows); none failed.
    const emailRuns = await client.workflow.count(`TaskQueue = '${taskQueue}' AND WorkflowType = 'processEmail' AND ExecutionStatus = 'Completed'`);
    expect(emailRuns.count).toBe(TOTAL);
    const broken = [];
    for await (const wf of client.workflow.list({ query: `TaskQueue = '${taskQueue}' AND ExecutionStatus IN ('Failed', 'Terminated', 'TimedOut', 'Canceled')` })) broken.push(`${wf.workflowId}: ${wf.status.name}`);
    expect(broken).toEqual([]);

    // The faults landed mid-stream and the worker never died on its own.
    expect(appendedAtFault).toHaveLength(5);
    expect(appendedAtFault.every((n) => n > 0 && n < TOTAL)).toBe(true);
    expect(imapCut).toBe(true);
    expect(killedByUs.size).toBe(3);
    expect(unexpectedExits).toEqual([]);
    killedByUs.add(worker.pid!);
    worker.kill('SIGKILL');
  });
});
