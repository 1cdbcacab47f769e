/**
 * Which ticket an e-mail continues (SPEC §4.4), decided from what the mail says and what the
 * database found for it. Pure: the lookups (a stored Message-ID, a protocol's ticket and its
 * participants) are the caller's.
 *
 * - A reply by header: In-Reply-To or References naming the Message-ID of an e-mail stored
 *   for a ticket (or one we sent for it) continues that ticket, whoever sends it: only the
 *   people the thread went to know those ids.
 * - A reply by subject: `[#<protocol>]` continues the ticket only when the sender is its
 *   customer or a known participant (a person who wrote to it before, an observer): a
 *   stranger quoting someone else's protocol opens a new ticket, so nobody reads or reopens
 *   another customer's ticket by guessing its number.
 * - A closed or cancelled ticket is never continued: the mail opens a new ticket linked to it.
 */

/** `[#2026000042]` anywhere in a subject, as acknowledgements and alerts write it. */
const SUBJECT_PROTOCOL = /\[#(\d{10,20})\]/g;

/** The protocols a subject quotes, in order, each once. */
export function protocolsInSubject(subject: string | null): string[] {
  return [...new Set([...(subject ?? '').matchAll(SUBJECT_PROTOCOL)].map((m) => m[1]!))];
}

/**
 * The message ids of In-Reply-To and References (RFC 5322 §3.6.4), nearest first: In-Reply-To,
 * then References from the last. Ids are compared as written between the angle brackets.
 */
export function referencedMessageIds(inReplyTo: string | null, references: string | null): string[] {
  const ids = (value: string | null) => [...(value ?? '').matchAll(/<([^<>\s]+)>/g)].map((m) => `<${m[1]}>`);
  return [...new Set([...ids(inReplyTo), ...ids(references).reverse()])];
}

export interface KnownTicket {
  protocol: string;
  status: 'open' | 'waiting_customer' | 'resolved' | 'closed' | 'cancelled';
  /** Address keys (domain/email-address.ts addressKey) of its customer and known participants. */
  participants: string[];
}

export type ThreadDecision =
  | { kind: 'append'; protocol: string; by: 'header' | 'subject'; reopens: boolean }
  | { kind: 'new_ticket'; linkedTo: string | null; reason: string };

/**
 * The decision for one e-mail: `byHeader` is the ticket a referenced Message-ID belongs to,
 * `bySubject` the ticket of the first protocol in the subject (each undefined when none).
 */
export function threadDecision(senderKey: string, byHeader: KnownTicket | undefined, bySubject: KnownTicket | undefined): ThreadDecision {
  const continues = (t: KnownTicket, by: 'header' | 'subject'): ThreadDecision =>
    t.status === 'closed' || t.status === 'cancelled'
      ? { kind: 'new_ticket', linkedTo: t.protocol, reason: `ticket ${t.protocol} is ${t.status}: a new ticket, linked to it` }
      : { kind: 'append', protocol: t.protocol, by, reopens: t.status === 'resolved' };
  if (byHeader) return continues(byHeader, 'header');
  if (bySubject) {
    if (bySubject.participants.includes(senderKey)) return continues(bySubject, 'subject');
    return { kind: 'new_ticket', linkedTo: null, reason: `the subject names ticket ${bySubject.protocol}, but the sender is not its customer nor a participant` };
  }
  return { kind: 'new_ticket', linkedTo: null, reason: 'not a reply to a known ticket' };
}
