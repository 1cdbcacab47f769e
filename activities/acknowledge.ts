import { Context } from '@temporalio/activity';
import { createMailer, type SmtpSettings } from '../clients/smtp.js';
import type { Sql } from '../db/client.js';
import { acknowledgementFacts, claimOutbound, markOutboundFailed, markOutboundSent, markOutboundUncertain, recordOutboundSkipped } from '../db/outbound-emails.js';
import { acknowledgementMail, acknowledgementMessageId, noAcknowledgementReason } from '../domain/acknowledgement.js';
import { addressKey } from '../domain/email-address.js';
import { unprocessable } from './failures.js';

/** How the acknowledgement of one ticket ended. */
export interface Acknowledged {
  sent: boolean;
  /** Why not, or that it had been sent before. */
  reason: string;
}

/** Attempts (Temporal's, with the e-mail workflow's backoff) before an acknowledgement is given up: about 8 minutes. */
export const ACKNOWLEDGEMENT_ATTEMPTS = 10;

/** A header value from what a customer wrote: one line, no longer than a header line may be. */
const headerSafe = (v: string | null) => (v && v.length < 900 && !/[\r\n]/.test(v) ? v : undefined);

/** An SMTP error as stored and thrown: one line, short, without the SMTP URL's password. */
function describe(err: unknown, smtpUrl: string): string {
  let message = (err instanceof Error ? err.message : String(err)).replace(/\s+/g, ' ').trim().slice(0, 300) || 'unknown error';
  const password = URL.canParse(smtpUrl) ? decodeURIComponent(new URL(smtpUrl).password) : '';
  if (password) message = message.split(password).join('***');
  return message;
}

export function createAcknowledgeActivities(deps: { sql: Sql; smtp?: SmtpSettings }) {
  const { sql, smtp } = deps;
  const mailer = smtp ? createMailer(smtp) : undefined;
  return {
    /**
     * SPEC §4.11: one e-mail to the customer of a new ticket, when its mailbox acknowledges, with
     * `[#<protocol>]` in the subject and `Auto-Submitted: auto-replied`. At most once: recorded
     * before it is sent (db/outbound-emails.ts); an attempt that finds an earlier one stopped
     * mid-send does not send again. Never throws for a delivery given up: the ticket stands.
     */
    async acknowledgeTicket(input: { protocol: string }): Promise<Acknowledged> {
      const facts = await acknowledgementFacts(sql, input.protocol);
      if (!facts) throw unprocessable(`there is no e-mail ticket ${input.protocol}`);
      if (!facts.acknowledge) return { sent: false, reason: 'the mailbox does not acknowledge' };
      const skip = async (reason: string) => {
        await recordOutboundSkipped(sql, facts.ticketId, 'acknowledgement', reason);
        return { sent: false, reason };
      };
      if (!facts.recipient || !addressKey(facts.recipient)) return skip('the sender has no usable address');
      if (!smtp || !mailer) return skip('no SMTP server is configured (SMTP_URL)');
      const unread = noAcknowledgementReason(facts.recipient, smtp.from);
      if (unread) return skip(unread);

      const messageId = acknowledgementMessageId(facts.protocol, new Date(facts.createdAt), smtp.from);
      const mail = acknowledgementMail(
        { subject: facts.subjectTemplate, body: facts.bodyTemplate },
        { protocol: facts.protocol, subject: facts.subject, customerName: facts.customerName, mailbox: facts.mailboxName },
      );
      const claim = await claimOutbound(sql, { ticketId: facts.ticketId, kind: 'acknowledgement', messageId, recipient: facts.recipient, subject: mail.subject });
      if (!claim.claimed) {
        if (claim.status === 'sending') {
          await markOutboundUncertain(sql, facts.ticketId, 'acknowledgement');
          return { sent: false, reason: 'an earlier attempt stopped while sending it: not sent again' };
        }
        return { sent: claim.status === 'sent', reason: `already ${claim.status}` };
      }
      const inReplyTo = headerSafe(facts.sourceMessageId);
      // Replies should reach the mailbox the customer wrote to, when the e-mail names exactly one.
      const replyTo = facts.sourceTo.length === 1 ? headerSafe(facts.sourceTo[0]!) : undefined;
      try {
        await mailer.send({
          to: [facts.recipient],
          subject: mail.subject,
          text: mail.text,
          messageId,
          headers: {
            // RFC 3834: an automatic reply; Exchange reads its own header for the same.
            'Auto-Submitted': 'auto-replied',
            'X-Auto-Response-Suppress': 'All',
            ...(inReplyTo ? { 'In-Reply-To': inReplyTo, References: inReplyTo } : {}),
            ...(replyTo ? { 'Reply-To': replyTo } : {}),
          },
        });
      } catch (err) {
        const error = describe(err, smtp.url);
        const giveUp = Context.current().info.attempt >= ACKNOWLEDGEMENT_ATTEMPTS;
        await markOutboundFailed(sql, facts.ticketId, 'acknowledgement', error, giveUp);
        if (giveUp) return { sent: false, reason: `given up after ${ACKNOWLEDGEMENT_ATTEMPTS} attempts: ${error}` };
        // Without the cause: Temporal would store its message and stack unredacted.
        // eslint-disable-next-line preserve-caught-error
        throw new Error(`the acknowledgement of ticket ${facts.protocol} was not sent: ${error}`);
      }
      await markOutboundSent(sql, facts.ticketId, 'acknowledgement', { messageId, to: facts.recipient });
      return { sent: true, reason: `sent to ${facts.recipient}` };
    },
  };
}
