import { simpleParser } from 'mailparser';
import type { ParsedFields } from '../db/inbound-emails.js';
import { storableOrNull } from '../domain/storable-text.js';

export type ReadableFields = Pick<ParsedFields, 'subject' | 'fromAddress' | 'fromName' | 'sentAt'>;

/**
 * What can be read of a message's header section alone (subject, sender, date), decoded as the
 * full parse would; undefined when even that fails. For e-mails that are not parsed to the end
 * (ignored, quarantined), and for classifying mail before its parse.
 */
export async function readableFields(head: Buffer | undefined): Promise<ReadableFields | undefined> {
  if (!head || head.length === 0) return undefined;
  try {
    const mail = await simpleParser(Buffer.concat([head, Buffer.from('\r\n')]), { skipHtmlToText: true, skipTextToHtml: true, skipTextLinks: true, skipImageLinks: true });
    const sender = mail.from?.value[0];
    return { subject: storableOrNull(mail.subject), fromAddress: storableOrNull(sender?.address) || null, fromName: storableOrNull(sender?.name) || null, sentAt: mail.date ?? null };
  } catch {
    return undefined;
  }
}
