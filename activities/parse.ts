import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { ApplicationFailure } from '@temporalio/common';
import { Joiner, Splitter } from '@zone-eu/mailsplit';
import { MailParser, type AddressObject, type AttachmentStream, type Headers, type MessageText } from 'mailparser';
import type { Sql } from '../db/client.js';
import { rawHead, rawRest, saveAttachment } from '../db/inbound-email-raw.js';
import { saveParsed, type StoredAttachment } from '../db/inbound-emails.js';
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
  /** The attachments, unless `parseMessage` handed each to `onAttachment` instead. */
  attachments: StoredAttachment[];
  attachmentCount: number;
}

function addresses(field: AddressObject | AddressObject[] | undefined): string[] {
  return [field ?? []].flat().flatMap((a) => a.value.map((v) => storableText(v.address ?? ''))).filter((a) => a.length > 0);
}

/** Bytes fed to the parse at a time: mailparser and mailsplit work through a stream, not one 30 MB chunk. */
const CHUNK = 64 * 1024;

function pieces(raw: Buffer): Readable {
  return Readable.from(
    (function* () {
      for (let at = 0; at < raw.length; at += CHUNK) yield raw.subarray(at, at + CHUNK);
    })(),
    { objectMode: false },
  );
}

async function collect(stream: NodeJS.ReadableStream): Promise<{ content: Buffer; sha256: string }> {
  const hash = createHash('sha256');
  const parts: Buffer[] = [];
  for await (const part of stream as AsyncIterable<Buffer>) {
    hash.update(part);
    parts.push(part);
  }
  return { content: Buffer.concat(parts), sha256: hash.digest('hex') };
}

function sender(headers: Headers): { address: string; name: string } {
  const from = (headers.get('from') as AddressObject | undefined)?.value[0];
  return { address: storableText(from?.address ?? ''), name: storableText(from?.name ?? '').normalize('NFC') };
}

/**
 * Parses a raw message (bytes, or a stream of them) with mailparser, through `MimeRepair`
 * (domain/mime-repair.ts) so that every character comes out right: UTF-7, raw 8-bit header
 * fields and encoded words with raw bytes, text without a charset that is not UTF-8. The
 * description is the text part; HTML is converted (domain/html-text.ts) where there is no
 * text, or where HTML body parts stand outside an alternative, and `[cid:…]` markers are
 * dropped. A text part with a file name is an attachment. Texts and file names are stored in
 * Unicode's composed form (NFC: Apple Mail writes `à` in file names as `a` + a combining accent).
 *
 * Nothing is held whole but the text parts and one attachment at a time: with `onAttachment`,
 * each attachment is handed over (and awaited) before the parse reads on, and not kept.
 * `onSender` sees the sender as soon as the header section is read (it may throw to stop).
 * `hint`: the message's declared charset (`charsetHint` of its first bytes), when `raw` is a
 * stream. Throws what mailparser throws for a message it cannot read, and whatever the source
 * or `onAttachment` throws.
 */
export async function parseMessage(
  raw: Buffer | Readable,
  opts: { hint?: string | null; onSender?: (from: { address: string; name: string }) => void; onAttachment?: (a: StoredAttachment, position: number) => Promise<void> } = {},
): Promise<ParsedMessage> {
  const source = Buffer.isBuffer(raw) ? pieces(raw) : raw;
  const repair = new MimeRepair(opts.hint !== undefined ? opts.hint : Buffer.isBuffer(raw) ? charsetHint(raw) : null);
  const parser = new MailParser({ skipImageLinks: true, skipHtmlToText: true, skipTextToHtml: true, skipTextLinks: true, checksumAlgo: false });
  // Piped, not pipeline()d: its end-of-stream bookkeeping cost more than the parse of a small message.
  const stages = [source, new Splitter(), repair, new Joiner()] as const;
  for (const stage of stages) (stage as NodeJS.EventEmitter).once('error', (err: Error) => parser.destroy(err));
  stages[0].pipe(stages[1]).pipe(stages[2]).pipe(stages[3]).pipe(parser);

  let headers: Headers = new Map();
  parser.on('headers', (h: Headers) => (headers = h));
  const attachments: StoredAttachment[] = [];
  let attachmentCount = 0;
  let text: MessageText | undefined;
  let senderSeen = false;
  try {
    for await (const data of parser as AsyncIterable<AttachmentStream | MessageText>) {
      if (!senderSeen) {
        senderSeen = true;
        opts.onSender?.(sender(headers));
      }
      if (data.type === 'text') {
        text = data;
        continue;
      }
      const { content, sha256 } = await collect(data.content);
      const attachment: StoredAttachment = {
        filename: storableOrNull(data.filename?.normalize('NFC')),
        contentType: storableText(data.contentType),
        size: content.length,
        sha256,
        contentId: storableOrNull(data.contentId),
        inline: data.contentDisposition === 'inline' || data.related === true,
        content,
      };
      if (opts.onAttachment) await opts.onAttachment(attachment, attachmentCount);
      else attachments.push(attachment);
      attachmentCount++;
      data.release?.();
    }
  } finally {
    for (const stage of stages) if (!stage.destroyed && !stage.readableEnded) stage.destroy();
  }
  const plain = text?.text?.trim() ? text.text : '';
  const html = () => (typeof text?.html === 'string' && text.html.trim() ? htmlToPlainText(text.html).trim() : '');
  const beside = plain && repair.shape.htmlOutsideAlternative ? html() : '';
  const body = !plain ? html() : beside ? `${plain.trimEnd()}\n\n${beside}` : plain;
  const date = headers.get('date');
  return {
    from: sender(headers),
    subject: storableOrNull((headers.get('subject') as string | undefined)?.trim().normalize('NFC')),
    toAddresses: addresses(headers.get('to') as AddressObject | AddressObject[] | undefined),
    sentAt: date instanceof Date ? date : null,
    textBody: storableText(withoutCidMarkers(body)).trim().normalize('NFC'),
    attachments,
    attachmentCount,
  };
}

/**
 * Bytes of raw message a process parses at once: a message waits while others would take it
 * past the limit (in the order they came), and one larger than the limit is parsed alone. The
 * parse of a message costs a few times its largest part, so this bounds a worker however many
 * large messages arrive together. Returns the release.
 */
export function createByteBudget(limit: number): (bytes: number) => Promise<() => void> {
  let inFlight = 0;
  const queue: { weight: number; admit: () => void }[] = [];
  const pump = () => {
    // First come, first served: a large message is not overtaken for ever by small ones.
    while (queue.length > 0 && (inFlight === 0 || inFlight + queue[0]!.weight <= limit)) {
      const next = queue.shift()!;
      inFlight += next.weight;
      next.admit();
    }
  };
  return async (bytes) => {
    const weight = Math.min(bytes, limit);
    await new Promise<void>((admit) => {
      queue.push({ weight, admit });
      pump();
    });
    let released = false;
    return () => {
      if (released) return;
      released = true;
      inFlight -= weight;
      pump();
    };
  };
}

/** See `createByteBudget`: two 30 MB messages at once, or any number of small ones. */
const PARSE_BUDGET_BYTES = 64 * 1024 * 1024;
const admit = createByteBudget(PARSE_BUDGET_BYTES);

export function createParseActivities(deps: { sql: Sql }) {
  const { sql } = deps;
  return {
    /**
     * Parses the stored raw message; a message without a usable sender is unprocessable.
     * Every text is stored without NUL characters (PostgreSQL text cannot hold them); the raw
     * message keeps every byte. The message is read from the database in pieces and each
     * attachment stored as the parse reaches it (db/inbound-email-raw.ts), so a 30 MB message
     * never sits whole in memory, nor do its attachments together; the fields are written
     * last, so an e-mail is never seen parsed without its attachments.
     */
    async parseEmail(emailId: number): Promise<Parsed> {
      const stored = await rawHead(sql, emailId);
      if (!stored) throw unprocessable(`e-mail ${emailId} was never stored`);
      const release = await admit(stored.size);
      try {
        return await parseStored(emailId, stored);
      } finally {
        release();
      }
    },
  };

  /** The parse of one stored e-mail, read from the database in pieces (its first one read already). */
  async function parseStored(emailId: number, { size, head }: { size: number; head: Buffer }): Promise<Parsed> {
    // A database error while reading or storing is thrown as it is (the activity is retried);
    // anything else the parse throws is the message's fault.
    let storageError: unknown;
    const stored = async function* () {
      try {
        yield head;
        yield* rawRest(sql, emailId, size);
      } catch (err) {
        storageError ??= err;
        throw err;
      }
    };
    const checkSender = (from: { address: string }) => {
      if (!from.address) throw unprocessable('the message has no sender address (From header missing or unreadable)');
      if (!addressKey(from.address)) throw unprocessable(`the sender address «${from.address}» is not a valid e-mail address`);
    };
    let mail: ParsedMessage;
    try {
      mail = await parseMessage(Readable.from(stored(), { objectMode: false }), {
        hint: charsetHint(head),
        onSender: checkSender,
        onAttachment: (a, position) =>
          saveAttachment(sql, emailId, position, a).catch((err: unknown) => {
            storageError ??= err;
            throw err;
          }),
      });
    } catch (err) {
      if (storageError) throw storageError;
      if (err instanceof ApplicationFailure) throw err;
      throw unprocessable(`the message cannot be parsed: ${(err as Error).message}`);
    }
    const { from, subject } = mail;
    // A message with no attachment and no text is read to its end before its sender is checked.
    checkSender(from);
    await saveParsed(
      sql,
      emailId,
      { subject, fromAddress: from.address, fromName: from.name || null, toAddresses: mail.toAddresses, sentAt: mail.sentAt, textBody: mail.textBody },
      [],
    );
    return { fromAddress: from.address, subject, attachments: mail.attachmentCount };
  }
}
