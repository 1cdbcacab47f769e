import type { Sql } from '../db/client.js';
import { getEmailForTicket, recordOutcome } from '../db/inbound-emails.js';
import { getConversionSettings } from '../db/mailboxes.js';
import { createTicketFromEmail } from '../db/tickets.js';
import { slaDueAt } from '../domain/sla.js';
import { ticketSector } from '../domain/ticket-sector.js';
import { unprocessable } from './failures.js';

export interface OpenedTicket {
  protocol: string;
  created: boolean;
}

export function createTicketActivities(deps: { sql: Sql; now?: () => Date }) {
  const { sql } = deps;
  const now = deps.now ?? (() => new Date());
  return {
    /** SPEC §4.7: one ticket per e-mail, with the mailbox's conversion settings. */
    async openTicketFromEmail(input: { emailId: number; customerId: number }): Promise<OpenedTicket> {
      const email = await getEmailForTicket(sql, input.emailId);
      if (!email) throw unprocessable(`e-mail ${input.emailId} was never stored`);
      const s = await getConversionSettings(sql, email.mailboxId);
      if (!s?.autoConvert) throw unprocessable(`mailbox ${email.mailboxId} does not convert e-mails automatically`);
      const openedAt = now();
      const ticket = await createTicketFromEmail(sql, {
        sourceEmailId: input.emailId,
        subject: email.subject?.trim() || '(no subject)',
        description: email.textBody || '(empty message)',
        customerId: input.customerId,
        mailboxId: email.mailboxId,
        creatorUserId: s.creatorUserId,
        occurrenceTypeId: s.occurrenceTypeId,
        occurrenceId: s.occurrenceId,
        sectorId: ticketSector(s),
        slaDueAt: s.slaValue && s.slaUnit ? slaDueAt(openedAt, s.slaValue, s.slaUnit) : null,
        openedAt,
      });
      await recordOutcome(sql, input.emailId, 'ticket_created', `ticket ${ticket.protocol}`);
      return { protocol: ticket.protocol, created: ticket.created };
    },
  };
}
