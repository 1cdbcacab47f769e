import { simpleParser } from 'mailparser';
import type { Sql } from '../db/client.js';
import { getRaw, settleIgnored, storedHeaderSection } from '../db/inbound-emails.js';
import { ourMail, recordBounce } from '../db/ticket-messages.js';
import { automaticMail } from '../domain/automatic-mail.js';
import { alertFiringIdOf, failedRecipients, quotedMessageIds } from '../domain/bounce.js';
import type { RecordedOutcome } from '../domain/email-outcome.js';
import { headerFields, headerSection } from '../domain/mail-headers.js';
import { referencedMessageIds } from '../domain/threading.js';
import { unprocessable } from './failures.js';
import { readableFields } from './readable-header.js';

type Headers = { name: string; value: string }[];

const headerValue = (headers: Headers, name: string) => headers.find((h) => h.name.toLowerCase() === name)?.value;

/** The texts of a bounce that may quote the returned message: its report parts, its text, and its raw body. */
async function bounceTexts(raw: Buffer): Promise<string[]> {
  const texts: string[] = [];
  try {
    const mail = await simpleParser(raw, { skipHtmlToText: true, skipTextToHtml: true, skipTextLinks: true, skipImageLinks: true });
    for (const a of mail.attachments) {
      if (/^(message\/|text\/rfc822-headers)/i.test(a.contentType)) texts.push(a.content.toString('utf8'));
    }
    if (mail.text) texts.push(mail.text);
  } catch {
    // A bounce that does not parse may still quote the message in its raw body.
  }
  texts.push(Buffer.from(raw.subarray(headerSection(raw).length)).toString('latin1'));
  return texts;
}

export function createClassifyActivities(deps: { sql: Sql }) {
  const { sql } = deps;

  /** The ticket whose mail (acknowledgement or alert) this bounce returns, and who did not get it. */
  async function bouncedMail(emailId: number, headers: Headers) {
    const stored = await getRaw(sql, emailId);
    if (!stored) return undefined;
    const texts = await bounceTexts(stored.raw);
    const ids = [...referencedMessageIds(headerValue(headers, 'in-reply-to') ?? null, headerValue(headers, 'references') ?? null), ...quotedMessageIds(texts)];
    const unique = [...new Set(ids)];
    const ours = await ourMail(sql, unique, unique.flatMap((id) => alertFiringIdOf(id) ?? []));
    if (!ours) return undefined;
    const recipient = failedRecipients(texts, headerValue(headers, 'x-failed-recipients'))[0] ?? ours.recipient;
    return { ...ours, recipient };
  }

  return {
    /**
     * SPEC §4.2: mail no person wrote (bounces, auto-replies, read receipts, abuse reports, bulk)
     * ends `ignored` here, with the kind and the header that gave it away, before it is parsed:
     * it never becomes a customer or a ticket. A bounce of mail we sent is put on its ticket's
     * timeline (`bounce_received`) in the same transaction as the outcome. Null: a person wrote it.
     */
    async classifyEmail(emailId: number): Promise<RecordedOutcome | null> {
      const head = await storedHeaderSection(sql, emailId);
      if (!head) throw unprocessable(`e-mail ${emailId} was never stored`);
      const headers = headerFields(head);
      const fields = await readableFields(head);
      const automatic = automaticMail({ headers, fromAddress: fields?.fromAddress ?? null, subject: fields?.subject ?? null });
      if (!automatic) return null;
      const bounced = automatic.kind === 'bounce' ? await bouncedMail(emailId, headers) : undefined;
      const reason =
        `automatic mail (${automatic.kind.replace('_', ' ')}): ${automatic.reason}` +
        (bounced ? `; it returns our ${bounced.kind} ${bounced.messageId} of ticket ${bounced.protocol}${bounced.recipient ? ` (not delivered to ${bounced.recipient})` : ''}` : '');
      await settleIgnored(sql, emailId, reason, fields, bounced && ((tx) => recordBounce(tx, { ticketId: bounced.ticketId, emailId, kind: bounced.kind, messageId: bounced.messageId, recipient: bounced.recipient })));
      return { outcome: 'ignored', reason };
    },
  };
}
