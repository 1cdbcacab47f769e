import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/**
 * The custom search attributes operators filter by in the Temporal UI (SPEC §9). Registered
 * by `npm start` and the test harness on the dev server, and by docker-compose's setup job.
 */
export const Protocol = defineSearchAttributeKey('Protocol', SearchAttributeType.KEYWORD);
export const CustomerEmail = defineSearchAttributeKey('CustomerEmail', SearchAttributeType.KEYWORD);
export const MailboxId = defineSearchAttributeKey('MailboxId', SearchAttributeType.KEYWORD);
export const Assignee = defineSearchAttributeKey('Assignee', SearchAttributeType.KEYWORD);
export const TicketStatus = defineSearchAttributeKey('TicketStatus', SearchAttributeType.KEYWORD);
export const SlaState = defineSearchAttributeKey('SlaState', SearchAttributeType.KEYWORD);
export const EmailOutcome = defineSearchAttributeKey('EmailOutcome', SearchAttributeType.KEYWORD);
export const SectorId = defineSearchAttributeKey('SectorId', SearchAttributeType.KEYWORD);

export const ALL_SEARCH_ATTRIBUTES = [Protocol, CustomerEmail, MailboxId, Assignee, TicketStatus, SlaState, EmailOutcome, SectorId];
