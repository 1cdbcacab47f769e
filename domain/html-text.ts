import { compile } from 'html-to-text';

/**
 * The text of an HTML body, for a ticket's description: what a reader sees, without the
 * markup's noise. Images are left out (an inline image's `[cid:image001.png@01D9…]`, a
 * tracking pixel's URL), headings keep their case, a link shows its address once.
 */

/** Markup converted at most (characters); the rest of a larger body is cut, with an ellipsis. */
export const MAX_HTML_CHARS = 2 * 1024 * 1024;

/**
 * Element nesting the converter is given at most. htmlparser2's work grows with the square of
 * the nesting depth and html-to-text walks the tree recursively (about 2,000 levels overflow
 * its stack); real mail stays far below this (browsers flatten anything past 512 levels).
 */
export const MAX_HTML_DEPTH = 512;

const VOID = new Set(['area', 'base', 'br', 'col', 'embed', 'hr', 'img', 'input', 'link', 'meta', 'param', 'source', 'track', 'wbr']);
/** Elements a following sibling closes (HTML's implied end tags), so an unclosed run does not nest. */
const IMPLIED_END = new Set(['p', 'li', 'dt', 'dd', 'option', 'optgroup', 'tr', 'td', 'th', 'thead', 'tbody', 'tfoot', 'rt', 'rp']);

/** Whether `html` nests elements deeper than `max`: one linear pass, stopping as soon as it does. */
export function nestsDeeperThan(html: string, max: number): boolean {
  const stack: string[] = [];
  const open = new Map<string, number>();
  let i = html.indexOf('<');
  while (i >= 0) {
    if (html.startsWith('<!--', i)) {
      const end = html.indexOf('-->', i + 4);
      if (end < 0) return false;
      i = html.indexOf('<', end + 3);
      continue;
    }
    const m = /^<(\/?)([a-zA-Z][a-zA-Z0-9:_-]*)/.exec(html.slice(i, i + 64));
    if (!m) {
      i = html.indexOf('<', i + 1);
      continue;
    }
    const end = html.indexOf('>', i);
    if (end < 0) return false;
    const name = m[2]!.toLowerCase();
    if (!VOID.has(name) && !IMPLIED_END.has(name) && html[end - 1] !== '/') {
      if (!m[1]) {
        stack.push(name);
        open.set(name, (open.get(name) ?? 0) + 1);
        if (stack.length > max) return true;
      } else if (open.get(name)) {
        let popped: string;
        do {
          popped = stack.pop()!;
          open.set(popped, open.get(popped)! - 1);
        } while (popped !== name);
      }
    }
    i = html.indexOf('<', end + 1);
  }
  return false;
}

/** Text between tags, for markup too deep to convert: a tag becomes a space (a block's end a line break). */
function flattened(html: string): string {
  return html.replace(/<(?:br|\/p|\/div|\/tr|\/li|\/h\d)\b[^<>]*>/gi, '\n').replace(/<[^<>]*>/g, ' ');
}

const convert = compile({
  wordwrap: false as const,
  limits: { maxDepth: MAX_HTML_DEPTH, maxInputLength: MAX_HTML_CHARS + 16 },
  selectors: [
    { selector: 'img', format: 'skip' },
    { selector: 'a', options: { hideLinkHrefIfSameAsText: true } },
    ...['h1', 'h2', 'h3', 'h4', 'h5', 'h6'].map((selector) => ({ selector, options: { uppercase: false } })),
    { selector: 'table', options: { uppercaseHeaderCells: false } },
  ],
});

/** `[cid:…]` references to inline parts, as Outlook writes them into the text of a message with inline images. */
const CID_MARKER = /[ \t]*\[cid:[^\]\s]{1,512}\][ \t]*/g;

/** Text without `[cid:…]` markers: they name inline images the reader cannot see in a description. */
export function withoutCidMarkers(text: string): string {
  return text.includes('[cid:') ? text.replace(CID_MARKER, (m) => (m.startsWith(' ') && m.endsWith(' ') ? ' ' : '')) : text;
}

/** The text of an HTML body (see the file's comment); at most `MAX_HTML_CHARS` of markup is read. */
export function htmlToPlainText(html: string): string {
  const cut = html.length > MAX_HTML_CHARS;
  let markup = cut ? html.slice(0, MAX_HTML_CHARS) : html;
  if (nestsDeeperThan(markup, MAX_HTML_DEPTH)) markup = flattened(markup);
  // Empty paragraphs (an image's, a spacer's) leave runs of blank lines.
  const text = withoutCidMarkers(convert(markup)).replace(/\n{3,}/g, '\n\n');
  return cut ? `${text}\n[…]` : text;
}
