import { Buffer, isUtf8 } from 'node:buffer';
import { Transform, type TransformCallback } from 'node:stream';
import type { MimeNode, SplitterChunk } from '@zone-eu/mailsplit';
import libmime from 'libmime';
import { decodeText, isIso2022Jp, isUtf7, repairHeaderLine, resolveCharset } from './mail-charset.js';

/** The content types mailparser reads as the message's text when they are inline. */
const TEXT_TYPES = new Set(['text/plain', 'text/html', 'message/delivery-status']);

/** What the parse learnt of the message's structure while repairing it. */
export interface MimeShape {
  /** An HTML body part that is not one of the alternatives of a multipart/alternative (Apple Mail's text–image–HTML). */
  htmlOutsideAlternative: boolean;
  /** Text parts with a file name turned into attachments. */
  promoted: number;
  /** Text parts re-encoded as UTF-8 (UTF-7, or 8-bit bytes that are not UTF-8 without a charset that reads them). */
  reencoded: number;
  /** Header lines rewritten. */
  headerLines: number;
}

function underAlternative(node: MimeNode): boolean {
  for (let p = node.parentNode; p; p = p.parentNode) if (p.multipart === 'alternative') return true;
  return false;
}

/**
 * How mailparser will take a leaf part: as text of the message, as an attachment, or (a text
 * part with a file name, not the whole message and not an alternative of its body) as text it
 * should take as an attachment: Apple Mail and others attach files `inline; filename=notes.txt`,
 * and every client shows those as attachments, not as part of the message.
 */
function partKind(node: MimeNode): 'text' | 'promote' | 'other' {
  if (node.multipart || node.rfc822) return 'other';
  const type = node.contentType || 'text/plain';
  if (!TEXT_TYPES.has(type)) return 'other';
  if (node.disposition && node.disposition !== 'inline') return 'other';
  if (node.filename && !node.root && node.parentNode && node.parentNode.multipart !== 'alternative' && type !== 'message/delivery-status') return 'promote';
  return 'text';
}

function headerLines(node: MimeNode) {
  return node.headers ? node.headers.getList() : [];
}

function promote(node: MimeNode): void {
  const headers = node.headers;
  if (!headers) return;
  const disposition = headers.getList().find((l) => l.key === 'content-disposition');
  if (disposition) disposition.line = disposition.line.replace(/^(content-disposition[ \t]*:\s*)inline\b/i, '$1attachment');
  else headers.add('Content-Disposition', 'attachment');
  headers.changed = true;
}

/**
 * The text of a text part, when mailparser would not read it right (null when it would): a
 * UTF-7 part, or a part without a charset libmime reads (none, US-ASCII, UTF-8, an unknown
 * name) whose bytes are not UTF-8 or are ISO-2022-JP.
 */
function rereadText(bytes: Buffer, declared: string | false, hint: string | null): string | null {
  const charset = resolveCharset(declared || null);
  if (isUtf7(charset)) return decodeText(bytes, charset, hint);
  const libmimeReads = Boolean(declared) && charset !== 'utf-8' && libmime.createDecodeStream(declared).supported;
  if (libmimeReads || (isUtf8(bytes) && !isIso2022Jp(bytes.toString('latin1')))) return null;
  return decodeText(bytes, charset, hint);
}

async function transferDecoded(node: MimeNode, chunks: Buffer[]): Promise<Buffer> {
  const decoder = node.getDecoder();
  const out: Buffer[] = [];
  decoder.on('data', (c: Buffer) => out.push(c));
  const done = new Promise<void>((resolve, reject) => decoder.once('end', resolve).once('error', reject));
  for (const c of chunks) decoder.write(c);
  decoder.end();
  await done;
  return Buffer.concat(out);
}

/**
 * Sits between mailsplit's Splitter and Joiner, so that mailparser, reading the joined stream,
 * gets every character right: header lines it would misread are rewritten
 * (`repairHeaderLine`), text parts it would misread are re-encoded as base64 UTF-8, and text
 * parts with a file name become attachments. Every other byte passes through untouched and
 * unbuffered: attachments stream on; only one text part is held at a time.
 */
export class MimeRepair extends Transform {
  readonly shape: MimeShape = { htmlOutsideAlternative: false, promoted: 0, reencoded: 0, headerLines: 0 };
  private held: { node: MimeNode; chunks: Buffer[]; boundaryless?: true } | null = null;

  /** `hint`: the charset the message declares (`charsetHint`), for raw 8-bit text that declares none. */
  constructor(private readonly hint: string | null) {
    super({ objectMode: true });
  }

  override _transform(chunk: SplitterChunk, _encoding: BufferEncoding, done: TransformCallback): void {
    if ((chunk.type === 'body' || (chunk.type === 'data' && this.held?.boundaryless)) && this.held && chunk.node === this.held.node) {
      this.held.chunks.push(chunk.value);
      done();
      return;
    }
    this.release().then(() => {
      this.forward(chunk);
      done();
    }, done);
  }

  override _flush(done: TransformCallback): void {
    this.release().then(() => done(), done);
  }

  private forward(chunk: SplitterChunk): void {
    if (chunk.type !== 'node') {
      this.push(chunk);
      return;
    }
    const node = chunk;
    for (const line of headerLines(node)) {
      const repaired = repairHeaderLine(line.line, this.hint);
      if (repaired === null) continue;
      line.line = repaired;
      this.shape.headerLines++;
      if (node.headers) node.headers.changed = true;
    }
    if (node.multipart && !node._boundary && node.headers) {
      // A multipart with no boundary: mailparser finds no part and no text. Its body is held
      // until the boundary its parts use can be read from it.
      this.held = { node, chunks: [], boundaryless: true };
      return;
    }
    const kind = partKind(node);
    if (kind === 'promote') {
      promote(node);
      this.shape.promoted++;
    }
    if (kind !== 'text') {
      this.push(node);
      return;
    }
    if (node.contentType === 'text/html' && !node.root && !underAlternative(node)) this.shape.htmlOutsideAlternative = true;
    this.held = { node, chunks: [] };
  }

  /**
   * A multipart with no boundary parameter gets the boundary its body's first delimiter line
   * uses (`--sep_1763997246`), as Thunderbird guesses it; without one it is read as plain text.
   */
  private pushBoundaryless(node: MimeNode, chunks: Buffer[]): void {
    const body = Buffer.concat(chunks);
    const delimiter = /^--([^\s"]{1,200}?)(?:--)?[ \t]*\r?$/m.exec(body.subarray(0, 64 * 1024).toString('latin1'));
    const line = node.headers ? node.headers.getList().find((l) => l.key === 'content-type') : undefined;
    if (line && node.headers) {
      line.line = delimiter ? `${line.line.replace(/\s*;?\s*$/, '')}; boundary="${delimiter[1]}"` : 'Content-Type: text/plain';
      node.headers.changed = true;
      this.shape.headerLines++;
    }
    this.push(node);
    this.push({ node, type: 'data', value: body });
  }

  private async release(): Promise<void> {
    const held = this.held;
    if (!held) return;
    this.held = null;
    const { node, chunks } = held;
    if (held.boundaryless) {
      this.pushBoundaryless(node, chunks);
      return;
    }
    const text = rereadText(await transferDecoded(node, chunks), node.charset, this.hint);
    if (text === null) {
      this.push(node);
      for (const value of chunks) this.push({ node, type: 'body', value });
      return;
    }
    this.shape.reencoded++;
    node.setCharset('utf-8');
    if (node.headers) node.headers.update('Content-Transfer-Encoding', 'base64');
    this.push(node);
    this.push({ node, type: 'body', value: Buffer.from(`${Buffer.from(text, 'utf8').toString('base64').replace(/.{76}/g, '$&\r\n')}\r\n`) });
  }
}
