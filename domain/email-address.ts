import { domainToASCII } from 'node:url';

/**
 * An e-mail address split at its last "@" (a quoted local part may itself contain "@").
 * Returns null for anything that is not `local@domain` with both parts present.
 */
export interface EmailAddress {
  /** The local part exactly as written, quotes included. */
  local: string;
  /** The domain exactly as written (may be Unicode). */
  domain: string;
}

export function splitAddress(address: string): EmailAddress | null {
  const trimmed = address.trim();
  const at = trimmed.lastIndexOf('@');
  if (at <= 0 || at === trimmed.length - 1) return null;
  const local = trimmed.slice(0, at);
  const domain = trimmed.slice(at + 1);
  if (/\s/.test(domain)) return null;
  if (/\s/.test(local) && !isQuoted(local)) return null;
  return { local, domain };
}

function isQuoted(local: string): boolean {
  return local.length >= 2 && local.startsWith('"') && local.endsWith('"');
}

/** The local part without the quotes of a quoted local part (`"john doe"` → `john doe`). */
export function unquotedLocal(local: string): string {
  return isQuoted(local) ? local.slice(1, -1).replace(/\\(.)/g, '$1') : local;
}

/**
 * The key two addresses are compared by (SPEC §4.6: case-insensitive):
 * - the local part is lower-cased and unquoted, so `"Ana"@x` and `ana@x` match;
 * - plus-addressing is kept: `ana+billing@x` is another mailbox than `ana@x` (the tag may
 *   route to another person on some servers, so merging them could leak tickets);
 * - the domain is lower-cased and converted to its ASCII (punycode) form, so
 *   `ação.com.br` and `xn--ao-xla8c.com.br` match.
 * Returns null when the address cannot be split, an unquoted local part holds an "@", or the
 * domain is not a valid host name (an empty label included).
 */
export function addressKey(address: string): string | null {
  const parts = splitAddress(address);
  if (!parts) return null;
  // An unquoted local part holds no "@" (`broken@@example.com` is no address).
  if (parts.local.includes('@') && !isQuoted(parts.local)) return null;
  const domain = domainToASCII(parts.domain.toLowerCase());
  // WHATWG host parsing lets empty labels through (`example..com`, `.example.com`): a mail domain has none.
  if (!domain || domain.split('.').some((label) => label === '')) return null;
  return `${unquotedLocal(parts.local).toLowerCase()}@${domain}`;
}
