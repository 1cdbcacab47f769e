import { createHash } from 'node:crypto';
import { convert as htmlToText } from 'html-to-text';
import { simpleParser, type AddressObject } from 'mailparser';
import type { Sql } from '../db/client.js';
import { getRaw, saveParsed, type StoredAttachment } from '../db/inbound-emails.js';
import { addressKey } from '../domain/email-address.js';
import { storableOrNull, storableText } from '../domain/storable-text.js';
import { unprocessable } from './failures.js';

export interface Parsed {
  fromAddress: string;
  subject: string | null;
  attachments: number;
}

function addresses(field: AddressObject | AddressObject[] | undefined): string[] {
  return [field ?? []].flat().flatMap((a) => a.value.map((v) => storableText(v.address ?? ''))).filter((a) => a.length > 0);
}

export function createParseActivities(deps: { sql: Sql }) {
  const { sql } = deps;
  return {
    /**
     * Parses the stored raw message; a message without a usable sender is unprocessable.
     * Every text is stored without NUL characters (PostgreSQL text cannot hold them); the raw
     * message keeps every byte.
     */
    async parseEmail(emailId: number): Promise<Parsed> {
      const stored = await getRaw(sql, emailId);
      if (!stored) throw unprocessable(`e-mail ${emailId} was never stored`);
      let mail;
      try {
        mail = await simpleParser(stored.raw, { skipImageLinks: true });
      } catch (err) {
        throw unprocessable(`the message cannot be parsed: ${(err as Error).message}`);
      }
      const sender = mail.from?.value[0];
      const from = { address: storableText(sender?.address ?? ''), name: storableText(sender?.name ?? '') };
      if (!from.address) throw unprocessable('the message has no sender address (From header missing or unreadable)');
      if (!addressKey(from.address)) throw unprocessable(`the sender address «${from.address}» is not a valid e-mail address`);
      const subject = storableOrNull(mail.subject);

      const attachments: StoredAttachment[] = mail.attachments.map((a) => ({
        filename: storableOrNull(a.filename),
        contentType: storableText(a.contentType),
        size: a.size,
        sha256: createHash('sha256').update(a.content).digest('hex'),
        contentId: storableOrNull(a.contentId),
        inline: a.contentDisposition === 'inline' || a.related === true,
        content: a.content,
      }));
      await saveParsed(
        sql,
        emailId,
        {
          subject,
          fromAddress: from.address,
          fromName: from.name || null,
          toAddresses: addresses(mail.to),
          sentAt: mail.date ?? null,
          // mailparser only derives text from HTML for single-part messages.
          textBody: storableText(mail.text ?? (typeof mail.html === 'string' ? htmlToText(mail.html, { wordwrap: false }) : '')).trim(),
        },
        attachments,
      );
      return { fromAddress: from.address, subject, attachments: attachments.length };
    },
  };
}
