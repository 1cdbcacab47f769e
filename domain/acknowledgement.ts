/**
 * The acknowledgement a mailbox sends for each new ticket (SPEC §4.11): its text from the
 * mailbox's templates (or ours), its fixed Message-ID, and who never gets one. Pure.
 */

/** The values a template may name as `{{protocol}}`, `{{subject}}`, `{{customerName}}`, `{{mailbox}}`. */
export interface AcknowledgementValues {
  protocol: string;
  /** The subject of the e-mail that opened the ticket. */
  subject: string;
  customerName: string;
  mailbox: string;
}

export const DEFAULT_ACKNOWLEDGEMENT_SUBJECT = '[#{{protocol}}] {{subject}}';
export const DEFAULT_ACKNOWLEDGEMENT_BODY = [
  'Hello {{customerName}},',
  '',
  'We received your message and opened ticket #{{protocol}} for it. We will get back to you as soon as we can.',
  '',
  'To add anything, reply to this e-mail and keep [#{{protocol}}] in the subject.',
  '',
  '-- ',
  '{{mailbox}}',
  '(This message was sent automatically.)',
].join('\n');

const PLACEHOLDER = /\{\{\s*(protocol|subject|customerName|mailbox)\s*\}\}/g;

function render(template: string, v: AcknowledgementValues): string {
  return template.replace(PLACEHOLDER, (_, name: keyof AcknowledgementValues) => v[name]);
}

/** One line, reasonably short: header values come partly from what customers wrote. */
function oneLine(s: string, max = 200): string {
  const line = s.replace(/\s+/g, ' ').trim();
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

/**
 * Subject and text of the acknowledgement. The subject always carries `[#<protocol>]` (added in
 * front when the mailbox's template leaves it out), so that replies thread to the ticket.
 */
export function acknowledgementMail(templates: { subject: string | null; body: string | null }, v: AcknowledgementValues): { subject: string; text: string } {
  const values = { ...v, subject: oneLine(v.subject) || '(no subject)' };
  const rendered = oneLine(render(templates.subject?.trim() || DEFAULT_ACKNOWLEDGEMENT_SUBJECT, values), 250);
  const tag = `[#${v.protocol}]`;
  const subject = rendered.includes(tag) ? rendered : `${tag} ${rendered}`.trim();
  const body = render(templates.body?.trim() ? templates.body : DEFAULT_ACKNOWLEDGEMENT_BODY, values).replace(/\r?\n/g, '\n');
  return { subject, text: body.endsWith('\n') ? body : `${body}\n` };
}

/**
 * The acknowledgement's Message-ID, the same on every attempt (a receiver that got it twice
 * sees one message; replies name it in In-Reply-To): the protocol and the ticket's creation
 * instant, at the domain of our From address.
 */
export function acknowledgementMessageId(protocol: string, ticketCreatedAt: Date, fromHeader: string): string {
  return `<ack-${protocol}.${ticketCreatedAt.getTime()}@${domainOf(fromHeader)}>`;
}

/** The domain of a From header (`Support <help@example.com>` → `example.com`), or `mailtrack`. */
export function domainOf(fromHeader: string): string {
  const address = /<([^<>]+)>\s*$/.exec(fromHeader)?.[1] ?? fromHeader.trim();
  const domain = address.slice(address.lastIndexOf('@') + 1).toLowerCase();
  return address.includes('@') && /^[a-z0-9.-]+$/.test(domain) ? domain : 'mailtrack';
}

/**
 * Why an address gets no acknowledgement, or undefined: addresses nobody reads (`no-reply@`,
 * mail system mailboxes) would only bounce it, and our own address would loop.
 */
export function noAcknowledgementReason(to: string, fromHeader: string): string | undefined {
  const local = to.slice(0, to.lastIndexOf('@')).toLowerCase();
  if (/^(no-?reply|do-?not-?reply|donotreply|mailer-daemon|postmaster|mail-daemon)(\+.*)?$/.test(local)) return `${to} is an address nobody reads`;
  const ours = (/<([^<>]+)>\s*$/.exec(fromHeader)?.[1] ?? fromHeader).trim().toLowerCase();
  if (ours === to.trim().toLowerCase()) return `${to} is our own address`;
  return undefined;
}
