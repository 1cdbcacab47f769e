import { charsetHint, decodeUndeclared } from './mail-charset.js';

/**
 * The header fields of a message's header block (everything before the first empty line),
 * unfolded (RFC 5322 §2.2.3), in order, encoded words left as they are. Bytes are read as
 * UTF-8 (RFC 6532) where they are UTF-8, and 8-bit bytes that are not (a raw ISO-8859-1 subject)
 * in the charset the block declares, a detected one or windows-1252 (domain/mail-charset.ts),
 * never as U+FFFD; a line that is not `name: value` is skipped (the raw message keeps it).
 */
export function headerFields(block: Uint8Array): { name: string; value: string }[] {
  const text = decodeUndeclared(block, charsetHint(block));
  const fields: { name: string; value: string }[] = [];
  for (const line of text.split(/\r?\n(?![ \t])/)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim();
    if (!/^[\x21-\x39\x3b-\x7e]+$/.test(name)) continue;
    fields.push({ name, value: line.slice(colon + 1).replace(/\r?\n(?=[ \t])/g, '').trim() });
  }
  return fields;
}

/**
 * The message's own header section: everything before its first empty line, whatever the line
 * endings (CRLF as RFC 5322 says, bare LF as many scripts and some servers write, or a mix).
 * Without an empty line the whole message is header. The body (and any message attached or
 * quoted in it) is never read, so a forwarded message's header fields are never taken for
 * the message's own.
 */
export function headerSection(raw: Uint8Array): Uint8Array {
  let lineStart = 0;
  for (let i = 0; i < raw.length; i++) {
    if (raw[i] !== 0x0a) continue;
    const empty = i === lineStart || (i === lineStart + 1 && raw[lineStart] === 0x0d);
    if (empty) return raw.subarray(0, lineStart);
    lineStart = i + 1;
  }
  return raw;
}

/** The value of the message's own Message-ID field (the first one), or null. */
export function ownMessageId(raw: Uint8Array): string | null {
  const field = headerFields(headerSection(raw)).find((f) => f.name.toLowerCase() === 'message-id');
  const value = field?.value.replace(/\s+/g, ' ').trim();
  return value ? value : null;
}
