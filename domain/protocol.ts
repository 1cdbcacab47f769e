/**
 * Ticket protocols: the year the ticket was opened followed by a sequence number of at
 * least six digits (`2026000042`). Numeric only, so a customer can read it over the phone
 * or type it on a keypad; the sequence never restarts, so a protocol is never reused.
 */
export function formatProtocol(year: number, sequence: number): string {
  if (!Number.isInteger(year) || year < 1000 || year > 9999) throw new RangeError(`bad protocol year ${year}`);
  if (!Number.isInteger(sequence) || sequence < 1) throw new RangeError(`bad protocol sequence ${sequence}`);
  return `${year}${String(sequence).padStart(6, '0')}`;
}

export const PROTOCOL_PATTERN = /^\d{10,20}$/;

export function isProtocol(value: string): boolean {
  return PROTOCOL_PATTERN.test(value);
}
