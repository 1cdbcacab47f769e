/**
 * The header fields of a message's header block (everything before the first empty line),
 * unfolded (RFC 5322 §2.2.3), in order. Bytes are read as UTF-8 (RFC 6532); a line that is
 * not `name: value` is skipped (the raw message keeps it).
 */
export function headerFields(block: Uint8Array): { name: string; value: string }[] {
  const text = new TextDecoder('utf-8').decode(block);
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
