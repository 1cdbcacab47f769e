/** Every e-mail read from a mailbox ends in exactly one of these (SPEC §4). */
export const EMAIL_OUTCOMES = ['ticket_created', 'appended_to_ticket', 'pre_ticket', 'ignored', 'quarantined'] as const;
export type EmailOutcome = (typeof EMAIL_OUTCOMES)[number];

export interface RecordedOutcome {
  outcome: EmailOutcome;
  reason: string;
  protocol?: string;
}
