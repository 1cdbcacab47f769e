import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACKNOWLEDGEMENT_ATTEMPTS, createAcknowledgeActivities } from '../../activities/acknowledge.js';
import { createActivities } from '../../activities/index.js';
import type { Sql } from '../../db/client.js';
import { freePort } from '../../stack/free-port.js';
import { appendMail, rawMail, seedConfig, testSecrets, testSql, uniqueSuffix } from '../harness/fixtures.js';
import { startSmtpReceiver, type SmtpReceiver } from '../harness/receivers.js';

const FROM = 'Mailtrack Support <help@mailtrack.test>';

let sql: Sql;
let smtp: SmtpReceiver;
let cfg: Awaited<ReturnType<typeof seedConfig>>;
let act: ReturnType<typeof createActivities>;

beforeAll(async () => {
  sql = testSql();
  smtp = await startSmtpReceiver();
  cfg = await seedConfig(sql);
  await sql`UPDATE mailbox SET acknowledge = true WHERE id = ${cfg.mailboxId}`;
  act = createActivities({ sql, secrets: testSecrets, alerts: { smtp: { url: smtp.url, from: FROM } } });
});
afterAll(async () => {
  await smtp?.close();
  await sql?.end();
});

/** An e-mail through the steps before the acknowledgement, as the workflow runs them: its ticket's protocol. */
async function ticketFrom(from: string, subject = `Question ${uniqueSuffix()}`): Promise<{ protocol: string; messageId: string }> {
  const messageId = `<ack-test${uniqueSuffix()}@customer.example>`;
  const { uid, uidValidity } = await appendMail(cfg.imap, rawMail({ from, subject, messageId }));
  const { emailId } = await act.receiveEmail({ mailboxId: cfg.mailboxId, uidValidity, uid });
  await act.parseEmail(emailId);
  const customer = await act.resolveCustomer(emailId);
  const ticket = await act.openTicketFromEmail({ emailId, customerId: customer.customerId });
  return { protocol: ticket.protocol, messageId };
}

const outbound = (protocol: string) =>
  sql<{ status: string; attempts: number; lastError: string | null; messageId: string }[]>`
    SELECT o.status, o.attempts, o.last_error, o.message_id FROM outbound_email o JOIN ticket t ON t.id = o.ticket_id WHERE t.protocol = ${protocol}`;
const events = async (protocol: string) =>
  (await sql<{ kind: string }[]>`SELECT e.kind FROM ticket_event e JOIN ticket t ON t.id = e.ticket_id WHERE t.protocol = ${protocol} ORDER BY e.id`).map((e) => e.kind);
const sentTo = (address: string) => smtp.messages.filter((m) => m.envelope.to.includes(address));

describe('acknowledgeTicket (SPEC §4.11; real PostgreSQL and SMTP)', () => {
  it('sends one e-mail with the protocol, Auto-Submitted and a fixed Message-ID, and never a second', async () => {
    const to = `ana${uniqueSuffix()}@customer.example`;
    const { protocol, messageId: original } = await ticketFrom(`Ana Souza <${to}>`, 'Printer on fire');
    const env = new MockActivityEnvironment();
    expect(await env.run(act.acknowledgeTicket, { protocol })).toEqual({ sent: true, reason: `sent to ${to}` });

    const [mail] = sentTo(to);
    expect(mail!.subject).toBe(`[#${protocol}] Printer on fire`);
    expect(mail!.headers.get('auto-submitted')).toBe('auto-replied');
    expect(mail!.inReplyTo).toBe(original);
    expect(mail!.replyTo?.value[0]?.address).toBe('support@mailtrack.test');
    const [row] = await outbound(protocol);
    expect(row).toMatchObject({ status: 'sent', attempts: 1, messageId: mail!.messageId });
    expect(mail!.messageId).toMatch(new RegExp(`^<ack-${protocol}\\.\\d+@mailtrack\\.test>$`));

    // A retry (a lost activity result) finds it sent.
    expect(await env.run(act.acknowledgeTicket, { protocol })).toEqual({ sent: true, reason: 'already sent' });
    expect(sentTo(to)).toHaveLength(1);
    expect(await events(protocol)).toEqual(['created', 'acknowledgement_sent']);
  });

  it('does not send again after an attempt that stopped during its send (at most once)', async () => {
    const to = `crash${uniqueSuffix()}@customer.example`;
    const { protocol } = await ticketFrom(to);
    // What a worker killed between its claim and the SMTP server's answer leaves behind.
    const [ticket] = await sql<{ id: number }[]>`SELECT id FROM ticket WHERE protocol = ${protocol}`;
    await sql`INSERT INTO outbound_email (ticket_id, kind, message_id, recipient, subject, status, attempts)
              VALUES (${ticket!.id}, 'acknowledgement', ${`<ack-${protocol}.1@mailtrack.test>`}, ${to}, 'x', 'sending', 1)`;
    const result = await new MockActivityEnvironment({ attempt: 2 }).run(act.acknowledgeTicket, { protocol });
    expect(result).toEqual({ sent: false, reason: 'an earlier attempt stopped while sending it: not sent again' });
    expect(sentTo(to)).toHaveLength(0);
    expect((await outbound(protocol))[0]!.status).toBe('uncertain');
    expect(await events(protocol)).toContain('acknowledgement_uncertain');
  });

  it('retries while the SMTP server is unreachable, then gives up without failing the ticket', async () => {
    const to = `down${uniqueSuffix()}@customer.example`;
    const { protocol } = await ticketFrom(to);
    const down = createAcknowledgeActivities({ sql, smtp: { url: `smtp://127.0.0.1:${await freePort()}`, from: FROM } });
    // The worker's own line for a failed activity, kept here instead of printed with its stack.
    const logged: string[] = [];
    const logger = new DefaultLogger('WARN', ({ level, message }) => void logged.push(`${level} ${message}`));
    const first = await new MockActivityEnvironment({ attempt: 1 }, { logger }).run(down.acknowledgeTicket, { protocol }).then(() => undefined, (e: unknown) => e as Error);
    expect(logged).toEqual(['WARN Activity failed']);
    expect(first?.message).toMatch(new RegExp(`the acknowledgement of ticket ${protocol} was not sent: .*ECONNREFUSED`));
    expect(await outbound(protocol)).toEqual([expect.objectContaining({ status: 'pending', attempts: 1, lastError: expect.stringMatching(/ECONNREFUSED/) })]);

    const last = await new MockActivityEnvironment({ attempt: ACKNOWLEDGEMENT_ATTEMPTS }).run(down.acknowledgeTicket, { protocol });
    expect(last).toEqual({ sent: false, reason: expect.stringMatching(`given up after ${ACKNOWLEDGEMENT_ATTEMPTS} attempts`) });
    expect((await outbound(protocol))[0]).toMatchObject({ status: 'failed', attempts: 2 });
    expect(await events(protocol)).toContain('acknowledgement_failed');
  });

  it('sends nothing to addresses nobody reads, nor when the mailbox does not acknowledge', async () => {
    const noReply = `no-reply${uniqueSuffix().replace('-', '+')}@shop.example`;
    const { protocol } = await ticketFrom(noReply);
    expect(await new MockActivityEnvironment().run(act.acknowledgeTicket, { protocol })).toEqual({ sent: false, reason: `${noReply} is an address nobody reads` });
    expect(await events(protocol)).toContain('acknowledgement_skipped');

    await sql`UPDATE mailbox SET acknowledge = false WHERE id = ${cfg.mailboxId}`;
    try {
      const to = `quiet${uniqueSuffix()}@customer.example`;
      const off = await ticketFrom(to);
      expect(await new MockActivityEnvironment().run(act.acknowledgeTicket, { protocol: off.protocol })).toEqual({ sent: false, reason: 'the mailbox does not acknowledge' });
      expect(sentTo(to)).toHaveLength(0);
      expect(await outbound(off.protocol)).toEqual([]);
    } finally {
      await sql`UPDATE mailbox SET acknowledge = true WHERE id = ${cfg.mailboxId}`;
    }
  });
});
