import { getClient } from '@temporalio/activity';
import { WorkflowNotFoundError } from '@temporalio/client';
import { replyReceivedSignal } from '../contracts/ticket.js';
import { ticketWorkflowId } from '../contracts/workflow-ids.js';
import type { Sql } from '../db/client.js';
import { getEmailForThreading } from '../db/inbound-emails.js';
import { addTicketEvent, appendEmail, lockedTicketStatus, ticketByMessageIds, ticketByProtocols, ticketOfEmail } from '../db/ticket-messages.js';
import { addressKey } from '../domain/email-address.js';
import { headerFields } from '../domain/mail-headers.js';
import { protocolsInSubject, referencedMessageIds, threadDecision, type KnownTicket, type ThreadDecision } from '../domain/threading.js';
import { unprocessable } from './failures.js';

/** Where threading left an e-mail (SPEC §4.4). */
export type Threaded =
  /** Appended to the ticket, its outcome recorded with it: the ticket's workflow is to be told. */
  | { appended: true; protocol: string; reason: string }
  /** Not a continuation: a new ticket (linked to `followsUp`, a closed or cancelled ticket it replied to) or a pre-ticket. */
  | { appended: false; followsUp: { ticketId: number; protocol: string; status: string } | null; reason: string };

export function createThreadActivities(deps: { sql: Sql }) {
  const { sql } = deps;
  return {
    /**
     * SPEC §4.4: a reply to a known ticket (In-Reply-To or References naming one of its e-mails or
     * our acknowledgement; or `[#<protocol>]` in the subject from its customer or a participant)
     * is appended to it, with the outcome `appended_to_ticket`, in one transaction. A reply to a
     * closed or cancelled ticket is not: it opens a new ticket that links to it.
     */
    async threadEmail(emailId: number): Promise<Threaded> {
      const done = await ticketOfEmail(sql, emailId);
      if (done?.appended) return { appended: true, protocol: done.protocol, reason: done.reason };
      const email = await getEmailForThreading(sql, emailId);
      if (!email) throw unprocessable(`e-mail ${emailId} was never stored`);
      const headers = headerFields(email.headerBlock);
      const header = (name: string) => headers.find((h) => h.name.toLowerCase() === name)?.value ?? null;
      const messageIds = referencedMessageIds(header('in-reply-to'), header('references'));
      const protocols = protocolsInSubject(email.subject);
      if (messageIds.length === 0 && protocols.length === 0) return { appended: false, followsUp: null, reason: 'not a reply to a known ticket' };

      return sql.begin(async (tx): Promise<Threaded> => {
        const [byHeader, bySubject] = [await ticketByMessageIds(tx, messageIds, email.mailboxId, emailId), await ticketByProtocols(tx, protocols)];
        const known = (t: typeof byHeader, participants: string[] = []): KnownTicket | undefined => t && { protocol: t.protocol, status: t.status, participants };
        const senderKey = addressKey(email.fromAddress ?? '') ?? '';
        const participants = bySubject?.addresses.flatMap((a) => addressKey(a) ?? []) ?? [];
        const decide = () => threadDecision(senderKey, known(byHeader), known(bySubject, participants));
        let decision: ThreadDecision = decide();
        if (decision.kind === 'append') {
          // The ticket may have been closed since it was read: decide again on its locked status.
          const target = decision.by === 'header' ? byHeader! : bySubject!;
          target.status = await lockedTicketStatus(tx, target.ticketId);
          decision = decide();
        }
        if (decision.kind === 'new_ticket') {
          const linked = decision.linkedTo === null ? null : [byHeader, bySubject].find((t) => t?.protocol === decision.linkedTo);
          return { appended: false, followsUp: linked ? { ticketId: linked.ticketId, protocol: linked.protocol, status: linked.status } : null, reason: decision.reason };
        }
        const target = decision.by === 'header' ? byHeader! : bySubject!;
        const reason =
          `reply to ticket ${target.protocol} (${decision.by === 'header' ? 'In-Reply-To/References name its mail' : `[#${target.protocol}] in the subject, from its customer or a participant`})` +
          (decision.reopens ? '; the ticket was resolved: it reopens' : '');
        await appendEmail(tx, { ticketId: target.ticketId, emailId, via: decision.by, reason });
        return { appended: true, protocol: target.protocol, reason };
      });
    },

    /**
     * Tells the ticket's workflow `ticket:<protocol>` that a reply arrived (it reopens a resolved
     * ticket, ends a wait for the customer). A ticket whose workflow is not running keeps the
     * message, and its timeline says the workflow was not told.
     */
    async tellTicketOfReply(input: { protocol: string; emailId: number }): Promise<{ told: boolean }> {
      try {
        await getClient().workflow.getHandle(ticketWorkflowId(input.protocol)).signal(replyReceivedSignal, { emailId: input.emailId });
        return { told: true };
      } catch (err) {
        if (!(err instanceof WorkflowNotFoundError)) throw err;
        await addTicketEvent(sql, { ticket: input.protocol, kind: 'reply_not_signalled', key: `reply_not_signalled:${input.emailId}`, data: { emailId: input.emailId, reason: 'the ticket\'s workflow is not running' } });
        return { told: false };
      }
    },
  };
}
