import { Buffer, isUtf8 } from 'node:buffer';
import chardet from 'chardet';
import iconv from 'iconv-lite';
import libmime from 'libmime';

/**
 * Bytes of mail to text, as the best mail clients read them: the declared charset (UTF-7
 * included), then UTF-8 where the bytes are valid UTF-8, then the charset the message declares
 * elsewhere, a detected one, or windows-1252. A replacement character (U+FFFD) appears only
 * where no charset gives the bytes a reading.
 *
 * mailparser (through libmime) reads undeclared 8-bit bytes as UTF-8 and refuses UTF-7, which
 * it decodes as UTF-8: a subject in ISO-8859-1 without an encoded word, or a body from an old
 * Outlook in UTF-7, became replacement characters or `+AOk-`. Refusing UTF-7 guards renderers
 * that filter HTML by looking for `<`; nothing here renders HTML (it is converted to text, and
 * every text we store is escaped by whoever shows it), so UTF-7 is read as what it is.
 */

const JAPANESE = /^(?:iso-?2022-?jp|jis|euc-?jp|cseucpkdfmtjapanese)/i;
/** An ISO-2022-JP escape sequence: Japanese written in 7-bit bytes, which some mailers put in header fields without an encoded word. */
// eslint-disable-next-line no-control-regex
const ISO_2022_JP_ESCAPE = /\x1b(?:\$[@B]|\$\(D|\([BJI])/;
const UTF7 = new Set([iconv.getCodec('utf7'), iconv.getCodec('utf7imap')]);
const UTF8_NAMES = /^(?:(?:us-?)?ascii|ansi_x3\.4-1968|iso646-us|utf-?8|unicode-1-1-utf-8|x-unicode20utf8|7bit|8bit)$/;

/**
 * The charset a name stands for, as a name iconv-lite knows; `utf-8` for UTF-8 and US-ASCII
 * (whose 8-bit bytes are read as undeclared ones); null for no name or an unknown one.
 * ISO-8859-1 is read as windows-1252, its superset, as browsers and mail clients do: the bytes
 * 0x80–0x9F are quotes and dashes in real mail, never control characters.
 */
export function resolveCharset(name: string | null | undefined): string | null {
  const n = (name ?? '').trim().replace(/^["']|["']$/g, '').replace(/\*.*$/, '').toLowerCase();
  if (!n) return null;
  if (UTF8_NAMES.test(n)) return 'utf-8';
  for (const candidate of [n, libmime.normalizeCharset(n)]) {
    if (!iconv.encodingExists(candidate)) continue;
    if (iconv.getCodec(candidate) === iconv.getCodec('latin1')) return 'windows-1252';
    return candidate.toLowerCase();
  }
  // ISO-2022-JP and the other Japanese charsets iconv-lite lacks, which libmime reads.
  return JAPANESE.test(n) && libmime.createDecodeStream(n).supported ? n : null;
}

/** Whether undeclared 7-bit text is ISO-2022-JP (mailparser would keep its escape sequences). */
export function isIso2022Jp(text: string): boolean {
  return ISO_2022_JP_ESCAPE.test(text);
}

export function isUtf7(charset: string | null): boolean {
  return charset !== null && charset !== 'utf-8' && iconv.encodingExists(charset) && UTF7.has(iconv.getCodec(charset));
}

/** Charsets whose characters take more than one byte: a detector must be surer of them, and their text is never read piecemeal. */
const MULTI_BYTE = /^(?:shift|sjis|cp932|ms932|windows-31j|euc|cp949|ks_c|big5|gb|cp936|cp950|iso-2022|utf-16|utf-32|ucs)/i;

/** Detected charsets taken when the detector is at least this sure (chardet's 0–100; a multi-byte one: 90)... */
const DETECTION_CONFIDENCE = 40;
const DETECTION_CONFIDENCE_MULTI_BYTE = 90;
/** ...and has at least this many 8-bit bytes to go by: on a name or a word it guesses at random. */
const DETECTION_MIN_BYTES = 8;
const NOT_A_FALLBACK = /^(?:utf|ascii|iso-2022)/i;

/**
 * The charset for 8-bit bytes that are not UTF-8 and carry no charset of their own: the one
 * the message declares elsewhere (`hint`, e.g. its body's), else what a detector makes of the
 * bytes when it has enough of them and is sure enough, else windows-1252 (what most such mail is written in).
 */
export function fallbackCharset(bytes: Uint8Array, hint: string | null = null): string {
  const declared = resolveCharset(hint);
  if (declared && declared !== 'utf-8' && !isUtf7(declared)) return declared;
  let high = 0;
  for (const b of bytes) if (b >= 0x80 && ++high >= DETECTION_MIN_BYTES) break;
  if (high < DETECTION_MIN_BYTES) return 'windows-1252';
  const guess = chardet.analyse(bytes).find((m) => !NOT_A_FALLBACK.test(m.name));
  const sure = guess && guess.confidence >= (MULTI_BYTE.test(guess.name) ? DETECTION_CONFIDENCE_MULTI_BYTE : DETECTION_CONFIDENCE);
  if (guess && sure) return resolveCharset(guess.name) ?? 'windows-1252';
  return 'windows-1252';
}

/** Where valid UTF-8 runs and invalid bytes alternate, and how many multi-byte characters the valid runs hold. */
function utf8Runs(b: Uint8Array): { runs: { start: number; end: number; valid: boolean }[]; multibyte: number } {
  const runs: { start: number; end: number; valid: boolean }[] = [];
  let multibyte = 0;
  const mark = (start: number, end: number, valid: boolean) => {
    const last = runs.at(-1);
    if (last && last.valid === valid && last.end === start) last.end = end;
    else runs.push({ start, end, valid });
  };
  const cont = (i: number, lo = 0x80, hi = 0xbf) => i < b.length && b[i]! >= lo && b[i]! <= hi;
  let i = 0;
  while (i < b.length) {
    const c = b[i]!;
    let len = 0;
    if (c < 0x80) len = 1;
    else if (c >= 0xc2 && c <= 0xdf) len = cont(i + 1) ? 2 : 0;
    else if (c >= 0xe0 && c <= 0xef) {
      const [lo, hi] = c === 0xe0 ? [0xa0, 0xbf] : c === 0xed ? [0x80, 0x9f] : [0x80, 0xbf];
      len = cont(i + 1, lo, hi) && cont(i + 2) ? 3 : 0;
    } else if (c >= 0xf0 && c <= 0xf4) {
      const [lo, hi] = c === 0xf0 ? [0x90, 0xbf] : c === 0xf4 ? [0x80, 0x8f] : [0x80, 0xbf];
      len = cont(i + 1, lo, hi) && cont(i + 2) && cont(i + 3) ? 4 : 0;
    }
    if (len > 1) multibyte++;
    mark(i, i + Math.max(len, 1), len > 0);
    i += Math.max(len, 1);
  }
  return { runs, multibyte };
}

/**
 * Bytes in a charset, where a single-byte charset leaves a byte undefined (windows-1252's 0x81,
 * 0x8D, 0x8F, 0x90, 0x9D) read as the code point of the same number, as browsers do, rather
 * than U+FFFD.
 */
function legacy(buf: Buffer, charset: string): string {
  // The Japanese charsets iconv-lite lacks (ISO-2022-JP, …): libmime reads them with encoding-japanese.
  if (!iconv.encodingExists(charset)) return libmime.decodeWord(charset, 'B', buf.toString('base64'));
  const text = iconv.decode(buf, charset);
  if (!text.includes('\ufffd') || text.length !== buf.length) return text;
  let out = '';
  for (let i = 0; i < text.length; i++) out += text[i] === '\ufffd' ? String.fromCharCode(buf[i]!) : text[i];
  return out;
}

/**
 * 8-bit bytes with no usable charset of their own: UTF-8 when they are valid UTF-8; in the
 * fallback charset (`fallbackCharset`) when it is a multi-byte one that reads them, or when
 * they are mostly not UTF-8 (more than three invalid bytes to a UTF-8 character: a few byte
 * pairs of KOI8-R text are valid UTF-8 by chance); otherwise UTF-8 with the stray bytes read in the single-byte charset the message
 * declares, or windows-1252 (a signature pasted from another program, a header field written
 * by another one). No byte becomes U+FFFD where a single-byte charset reads it. 7-bit text with
 * ISO-2022-JP escape sequences (old Japanese mailers) is read as ISO-2022-JP.
 */
export function decodeUndeclared(bytes: Uint8Array, hint: string | null = null): string {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (isUtf8(buf)) return ISO_2022_JP_ESCAPE.test(buf.toString('latin1')) ? legacy(buf, 'ISO-2022-JP') : buf.toString('utf8');
  const fallback = fallbackCharset(buf, hint);
  if (MULTI_BYTE.test(fallback)) {
    const text = legacy(buf, fallback);
    if (!text.includes('\ufffd')) return text;
  }
  const single = MULTI_BYTE.test(fallback) ? 'windows-1252' : fallback;
  const { runs, multibyte } = utf8Runs(buf);
  const invalid = runs.reduce((n, r) => n + (r.valid ? 0 : r.end - r.start), 0);
  if (invalid > 3 * multibyte) return legacy(buf, single);
  const declared = resolveCharset(hint);
  const stray = declared && declared !== 'utf-8' && !isUtf7(declared) && !MULTI_BYTE.test(declared) ? declared : 'windows-1252';
  return runs.map((r) => (r.valid ? buf.toString('utf8', r.start, r.end) : legacy(buf.subarray(r.start, r.end), stray))).join('');
}

/**
 * Text in a declared charset (a part's `charset`, an encoded word's): that charset when it is
 * known and reads the bytes (a multi-byte charset whose sequences are broken, while the bytes
 * are valid UTF-8, was mislabelled UTF-8); otherwise as undeclared bytes (`decodeUndeclared`).
 */
export function decodeText(bytes: Uint8Array, declared: string | null | undefined, hint: string | null = null): string {
  const charset = resolveCharset(declared);
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (charset && charset !== 'utf-8') {
    const text = legacy(buf, charset);
    return text.includes('\ufffd') && isUtf8(buf) ? buf.toString('utf8') : text;
  }
  return decodeUndeclared(buf, hint);
}

/**
 * The first charset a message declares that is not UTF-8, US-ASCII or UTF-7, from the
 * `charset` parameters of its first 64 KiB: the charset its program most likely also wrote its
 * raw 8-bit header fields in (Thunderbird reads them so).
 */
export function charsetHint(raw: Uint8Array): string | null {
  const head = Buffer.from(raw.buffer, raw.byteOffset, Math.min(raw.byteLength, 64 * 1024)).toString('latin1');
  for (const m of head.matchAll(/\bcharset\s*=\s*["']?([^\s"';]+)/gi)) {
    const charset = resolveCharset(m[1]);
    if (charset && charset !== 'utf-8' && !isUtf7(charset)) return charset;
  }
  return null;
}

/** An RFC 2047 encoded word; the text may hold raw 8-bit bytes and spaces (broken encoders write them). */
const ENCODED_WORD = /=\?([^?\s]+)\?([QqBb])\?([^?]*)\?=/g;

function wordBytes(encoding: string, text: string): Buffer {
  if (encoding.toUpperCase() === 'B') {
    // Several padded pieces (`YQ==Yg==`) are decoded one by one, as libmime does.
    return Buffer.concat((text.match(/[^=]+=*|=+/g) ?? []).map((piece) => Buffer.from(piece, 'base64')));
  }
  const bytes: number[] = [];
  const t = text.replace(/=\s+([0-9a-fA-F])/g, '=$1');
  for (let i = 0; i < t.length; i++) {
    const c = t.charCodeAt(i);
    if (c === 0x3d && /^[0-9a-fA-F]{2}$/.test(t.slice(i + 1, i + 3))) {
      bytes.push(parseInt(t.slice(i + 1, i + 3), 16));
      i += 2;
    } else bytes.push(c === 0x5f || c === 0x20 || c === 0x09 ? 0x20 : c & 0xff);
  }
  return Buffer.from(bytes);
}

type Token = { kind: 'raw'; text: string } | { kind: 'words'; charset: string; bytes: Buffer[] };

/**
 * A header field's value (its bytes as a latin1 "binary" string, as mailsplit keeps them) cut
 * into raw text and runs of adjacent encoded words in one charset. The whitespace between
 * adjacent encoded words is not part of the text (RFC 2047 §6.2); the bytes of one run are
 * decoded together, so a character split across two words (as some encoders split) survives.
 */
function tokens(value: string): Token[] {
  const out: Token[] = [];
  let last = 0;
  for (const m of value.matchAll(ENCODED_WORD)) {
    const between = value.slice(last, m.index);
    const prev = out.at(-1);
    const charset = m[1]!.replace(/\*.*$/, '');
    const bytes = wordBytes(m[2]!, m[3]!);
    const adjacent = prev?.kind === 'words' && /^[ \t\r\n]*$/.test(between);
    if (!adjacent && between) out.push({ kind: 'raw', text: between });
    if (adjacent && prev.kind === 'words' && (resolveCharset(prev.charset) ?? prev.charset.toLowerCase()) === (resolveCharset(charset) ?? charset.toLowerCase())) prev.bytes.push(bytes);
    else out.push({ kind: 'words', charset, bytes: [bytes] });
    last = m.index + m[0].length;
  }
  if (last < value.length) out.push({ kind: 'raw', text: value.slice(last) });
  return out;
}

function rawText(text: string, hint: string | null): string {
  // eslint-disable-next-line no-control-regex
  return /[^\x00-\x7f]/.test(text) || ISO_2022_JP_ESCAPE.test(text) ? decodeUndeclared(Buffer.from(text, 'latin1'), hint) : text;
}

function tokenText(t: Token, hint: string | null): string {
  return t.kind === 'raw' ? rawText(t.text, hint) : decodeText(Buffer.concat(t.bytes), t.charset, hint);
}

/**
 * A header field's value as text: encoded words decoded in their charset (UTF-7 included; raw
 * 8-bit bytes inside a word read in the word's charset), raw 8-bit text as undeclared bytes
 * (`decodeUndeclared`, with the message's `hint`). Takes the bytes, or a latin1 string of them.
 */
export function decodeHeaderValue(value: Uint8Array | string, hint: string | null = null): string {
  const binary = typeof value === 'string' ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('latin1');
  return tokens(binary).map((t) => tokenText(t, hint)).join('');
}

/**
 * What mailparser makes of a header value (a latin1 string of its bytes): unfolded and trimmed
 * as latin1 (so a trailing 0xA0 byte, the end of a UTF-8 `à`, goes as if it were a no-break
 * space), then UTF-8, then libmime's encoded words.
 */
function mailparserReading(binary: string): string {
  const text = Buffer.from(binary.trim(), 'latin1').toString('utf8');
  try {
    return libmime.decodeWords(text).trim();
  } catch {
    return text.trim();
  }
}

const unfold = (value: string) => value.replace(/(?:\r?\n|\r)[ \t]*/g, ' ');

/**
 * A header line (`Name: value`, a latin1 string of its bytes, folding kept) rewritten so that
 * mailparser reads it as `decodeHeaderValue` does, or null when it already does. Each run of
 * encoded words becomes one UTF-8 encoded word (so a decoded comma or quote cannot change the
 * structure of an address field) and raw 8-bit text becomes UTF-8 (RFC 6532); a last word whose
 * UTF-8 ends in the byte 0xA0 (which mailparser would trim) becomes an encoded word too.
 */
export function repairHeaderLine(line: string, hint: string | null = null): string | null {
  const colon = line.indexOf(':');
  if (colon <= 0) return null;
  const value = line.slice(colon + 1);
  if (!/[^\x20-\x7e\t\r\n]/.test(value) && !value.includes('=?')) return null;
  const parts = tokens(value);
  if (decodeHeaderValue(unfold(value), hint).trim() === mailparserReading(unfold(value))) return null;
  const rebuilt = parts.map((t) => {
    const s = tokenText(t, hint);
    if (t.kind === 'raw') return Buffer.from(s, 'utf8').toString('latin1');
    return s ? `=?UTF-8?B?${Buffer.from(s, 'utf8').toString('base64')}?=` : '';
  });
  const last = rebuilt.length - 1;
  const tail = /^([\s\S]*?)([ \t\r\n]*)([^ \t\r\n]*\xa0)([ \t\r\n]*)$/.exec(rebuilt[last] ?? '');
  if (tail && parts[last]?.kind === 'raw') {
    // Right after an encoded word, the whitespace goes into the new word: between two words it would vanish.
    const [, head, space, word, after] = tail as unknown as [string, string, string, string, string];
    const joined = !head && last > 0;
    const encoded = `=?UTF-8?B?${Buffer.from((joined ? space : '') + word, 'latin1').toString('base64')}?=`;
    rebuilt[last] = `${head}${joined ? '' : space}${encoded}${after}`;
  }
  return line.slice(0, colon + 1) + rebuilt.join('');
}

/**
 * A header section with every line that mailparser would misread rewritten (`repairHeaderLine`),
 * the rest byte for byte, for parsing a header section on its own.
 */
export function repairHeaderSection(block: Uint8Array, hint: string | null = charsetHint(block)): Buffer {
  const text = Buffer.from(block.buffer, block.byteOffset, block.byteLength).toString('latin1');
  const pieces = text.split(/(\r?\n)(?![ \t])/);
  for (let i = 0; i < pieces.length; i += 2) pieces[i] = repairHeaderLine(pieces[i]!, hint) ?? pieces[i]!;
  return Buffer.from(pieces.join(''), 'latin1');
}
