import { createHash } from 'node:crypto';
import { PassThrough, Readable, pipeline } from 'node:stream';
import { Joiner, Splitter } from '@zone-eu/mailsplit';
import { simpleParser, type AddressObject } from 'mailparser';
import type { Sql } from '../db/client.js';
import { getRaw, saveParsed, type StoredAttachment } from '../db/inbound-emails.js';
import { addressKey } from '../domain/email-address.js';
import { htmlToPlainText, withoutCidMarkers } from '../domain/html-text.js';
import { charsetHint } from '../domain/mail-charset.js';
import { MimeRepair } from '../domain/mime-repair.js';
import { storableOrNull, storableText } from '../domain/storable-text.js';
import { unprocessable } from './failures.js';

export interface Parsed {
  fromAddress: string;
  subject: string | null;
  attachments: number;
}

/** A message as the engine reads it: every text storable (no NUL), every attachment with its checksum. */
export interface ParsedMessage {
  from: { address: string; name: string };
  subject: string | null;
  toAddresses: string[];
  sentAt: Date | null;
  textBody: string;
  attachments: StoredAttachment[];
}

function addresses(field: AddressObject | AddressObject[] | undefined): string[] {
  return [field ?? []].flat().flatMap((a) => a.value.map((v) => storableText(v.address ?? ''))).filter((a) => a.length > 0);
}

/** Bytes fed to the parse at a time: mailparser and mailsplit work through a stream, not one 30 MB chunk. */
const CHUNK = 64 * 1024;

function chunks(raw: Buffer): Readable {
  return Readable.from(
    (function* () {
      for (let at = 0; at < raw.length; at += CHUNK) yield raw.subarray(at, at + CHUNK);
    })(),
    { objectMode: false },
  );
}

/**
 * Parses a raw message with mailparser, through `MimeRepair` (domain/mime-repair.ts) so that
 * every character comes out right: UTF-7, raw 8-bit header fields and encoded words with raw
 * bytes, text without a charset that is not UTF-8. The description is the text part; HTML is
 * converted (domain/html-text.ts) where there is no text, or where HTML body parts stand
 * outside an alternative, and `[cid:…]` markers are dropped. A text part with a file name is
 * an attachment. Throws what mailparser throws for a message it cannot read.
 */
export async function parseMessage(raw: Buffer): Promise<ParsedMessage> {
  const repair = new MimeRepair(charsetHint(raw));
  const repaired = new PassThrough();
  pipeline(chunks(raw), new Splitter(), repair, new Joiner(), repaired, (err) => {
    if (err) repaired.destroy(err);
  });
  const mail = await simpleParser(repaired, { skipImageLinks: true, keepCidLinks: true, skipHtmlToText: true, skipTextToHtml: true, skipTextLinks: true });

  const sender = mail.from?.value[0];
  const text = mail.text?.trim() ? mail.text : '';
  const html = typeof mail.html === 'string' && mail.html.trim() ? htmlToPlainText(mail.html).trim() : '';
  const body = !text ? html : repair.shape.htmlOutsideAlternative && html ? `${text.trimEnd()}\n\n${html}` : text;

  return {
    from: { address: storableText(sender?.address ?? ''), name: storableText(sender?.name ?? '') },
    subject: storableOrNull(mail.subject),
    toAddresses: addresses(mail.to),
    sentAt: mail.date ?? null,
    textBody: storableText(withoutCidMarkers(body)).trim(),
    attachments: mail.attachments.map((a) => ({
      filename: storableOrNull(a.filename),
      contentType: storableText(a.contentType),
      size: a.size,
      sha256: createHash('sha256').update(a.content).digest('hex'),
      contentId: storableOrNull(a.contentId),
      inline: a.contentDisposition === 'inline' || a.related === true,
      content: a.content,
    })),
  };
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
      let mail: ParsedMessage;
      try {
        mail = await parseMessage(stored.raw);
      } catch (err) {
        throw unprocessable(`the message cannot be parsed: ${(err as Error).message}`);
      }
      const { from, subject, attachments } = mail;
      if (!from.address) throw unprocessable('the message has no sender address (From header missing or unreadable)');
      if (!addressKey(from.address)) throw unprocessable(`the sender address «${from.address}» is not a valid e-mail address`);
      await saveParsed(
        sql,
        emailId,
        { subject, fromAddress: from.address, fromName: from.name || null, toAddresses: mail.toAddresses, sentAt: mail.sentAt, textBody: mail.textBody },
        attachments,
      );
      return { fromAddress: from.address, subject, attachments: attachments.length };
    },
  };
}
