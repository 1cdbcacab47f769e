import { slaDueAt, type SlaUnit } from './sla.js';

/**
 * What a ticket opened from an e-mail starts with (SPEC §4.7), whether the e-mail's workflow
 * opens it or an admin or agent converts its pre-ticket: the e-mail's subject (a placeholder
 * when it has none), its body as the description (empty when it is: a placeholder would read as
 * the customer's words), and the due time of the occurrence's SLA, when it has one.
 */
export function emailTicketContent(
  email: { subject: string | null; textBody: string | null },
  sla: { slaValue: number | null; slaUnit: SlaUnit | null },
  openedAt: Date,
): { subject: string; description: string; slaDueAt: Date | null } {
  return {
    subject: email.subject?.trim() || '(no subject)',
    description: email.textBody ?? '',
    slaDueAt: sla.slaValue && sla.slaUnit ? slaDueAt(openedAt, sla.slaValue, sla.slaUnit) : null,
  };
}
