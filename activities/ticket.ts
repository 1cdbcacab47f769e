import type { Sql } from '../db/client.js';
import { getEmailForTicket } from '../db/inbound-emails.js';
import { getConversionSettings } from '../db/mailboxes.js';
import { getClient, Context } from '@temporalio/activity';
import { requestAssignment } from '../clients/assigner.js';
import { startTicketWorkflow } from '../clients/ticket.js';
import type { TicketInput } from '../contracts/ticket.js';
import { createTicketFromEmail, recordAssignments, ticketDistribution } from '../db/tickets.js';
import { ticketOfEmail } from '../db/ticket-messages.js';
import { getUserLogin } from '../db/users.js';
import { poolFor } from '../domain/distribution.js';
import { emailTicketContent } from '../domain/email-ticket.js';
import { ticketSector } from '../domain/ticket-sector.js';
import { unprocessable } from './failures.js';

export interface OpenedTicket {
  protocol: string;
  created: boolean;
  /**
   * The e-mail's outcome, recorded with the ticket: `appended_to_ticket` when its sender was past
   * the mailbox's hourly limit of new tickets. Absent in histories recorded before it existed.
   */
  outcome?: 'ticket_created' | 'appended_to_ticket';
  reason?: string;
}

/** Where a ticket went: to a user (`login` for the Temporal UI's Assignee), or nowhere yet and why. */
export interface DistributedTicket {
  /** False when the mailbox does not distribute (or the ticket had an assignee already). */
  distributed: boolean;
  userId: number | null;
  login: string | null;
  reason: string;
}

export function createTicketActivities(deps: { sql: Sql; now?: () => Date }) {
  const { sql } = deps;
  const now = deps.now ?? (() => new Date());
  return {
    /**
     * SPEC §4.7: one ticket per e-mail, with the mailbox's conversion settings, its outcome recorded
     * in the same transaction. `followsUp`: the closed or cancelled ticket the e-mail replied to.
     * Past the mailbox's limit of new tickets per sender and hour, the e-mail is appended to the
     * sender's latest ticket instead (loop protection).
     */
    async openTicketFromEmail(input: { emailId: number; customerId: number; followsUp?: { ticketId: number; protocol: string; status: string } | null }): Promise<OpenedTicket> {
      const email = await getEmailForTicket(sql, input.emailId);
      if (!email) throw unprocessable(`e-mail ${input.emailId} was never stored`);
      const s = await getConversionSettings(sql, email.mailboxId);
      if (!s?.autoConvert) {
        // Its ticket made before the mailbox stopped converting (an attempt that died after it): found, not refused.
        const done = await ticketOfEmail(sql, input.emailId);
        if (done) return { protocol: done.protocol, created: false, outcome: done.appended ? 'appended_to_ticket' : 'ticket_created', reason: done.reason };
        throw unprocessable(`mailbox ${email.mailboxId} does not convert e-mails automatically`);
      }
      const openedAt = now();
      const ticket = await createTicketFromEmail(sql, {
        sourceEmailId: input.emailId,
        ...emailTicketContent(email, s, openedAt),
        customerId: input.customerId,
        mailboxId: email.mailboxId,
        creatorUserId: s.creatorUserId,
        occurrenceTypeId: s.occurrenceTypeId,
        occurrenceId: s.occurrenceId,
        sectorId: ticketSector(s),
        openedAt,
        followsUp: input.followsUp ?? null,
        senderLimit: email.fromAddress ? { perHour: email.senderTicketLimit, sender: email.fromAddress } : null,
      });
      return { protocol: ticket.protocol, created: ticket.created, outcome: ticket.outcome, reason: ticket.reason };
    },

    /**
     * SPEC §5: hands the ticket to the least loaded member of its pool, through the pool's
     * assignment workflow (update-with-start), when its mailbox distributes automatically.
     * An empty or missing pool leaves it unassigned with the reason recorded; never fails.
     */
    async assignTicket(input: { protocol: string }): Promise<DistributedTicket> {
      const t = await ticketDistribution(sql, input.protocol);
      if (!t) throw unprocessable(`there is no ticket ${input.protocol}`);
      if (t.assigneeUserId !== null) return { distributed: false, userId: t.assigneeUserId, login: t.assigneeLogin, reason: 'already assigned' };
      if (!t.autoDistribute) return { distributed: false, userId: null, login: null, reason: 'automatic distribution is off for its mailbox' };
      const pool = poolFor(t.distributionTarget, { solutionGroupId: t.occurrenceSolutionGroupId, sectorId: t.occurrenceSectorId });
      if (!pool) {
        const reason = 'its occurrence has neither a solution group nor a sector to distribute among';
        await recordAssignments(sql, [{ ticketId: t.ticketId, userId: null, reason, detail: {} }]);
        return { distributed: true, userId: null, login: null, reason };
      }
      const answer = await requestAssignment({ client: getClient(), taskQueue: Context.current().info.taskQueue, pool, request: { ticketId: t.ticketId, protocol: t.protocol } });
      return { distributed: true, userId: answer.userId, login: answer.userId === null ? null : ((await getUserLogin(sql, answer.userId)) ?? null), reason: answer.reason };
    },

    /**
     * The ticket's own workflow takes over (SPEC §6–§8) and outlives the e-mail's. Started from
     * here, not as the e-mail workflow's child, so that the e-mail's workflow ends in the task
     * it began in (a child's start costs the parent a second task on the server).
     */
    async handOverTicket(input: TicketInput): Promise<void> {
      await startTicketWorkflow(getClient(), Context.current().info.taskQueue, input);
    },
  };
}
