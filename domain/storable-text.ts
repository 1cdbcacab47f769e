/**
 * Text as PostgreSQL can store it. A `text` value cannot hold U+0000 (SQLSTATE 22021), yet
 * decoded mail can: quoted-printable `=00`, an RFC 2047 word, a base64 part. The NUL carries
 * nothing a reader would miss, so it is dropped; the raw message (bytea) keeps every byte.
 * Lone UTF-16 surrogates need no care here: they are sent as U+FFFD by the UTF-8 encoder.
 */
export function storableText(text: string): string {
  return text.includes('\u0000') ? text.replaceAll('\u0000', '') : text;
}

/** `storableText` for an optional field: null and undefined stay null. */
export function storableOrNull(text: string | null | undefined): string | null {
  return text == null ? null : storableText(text);
}
