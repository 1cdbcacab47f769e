import { splitAddress, unquotedLocal } from './email-address.js';

/**
 * The name of a customer created from an e-mail [SEED]: the local part of the sender's
 * address exactly as written (`Antonio.Carlos@citrus.cx` → `Antonio.Carlos`). The display
 * name is not used: the seeds name customers after the address, and display names are
 * often missing, shared ("Suporte") or spoofed. A quoted local part loses its quotes.
 */
export function customerNameFromAddress(address: string): string | null {
  const parts = splitAddress(address);
  if (!parts) return null;
  const name = unquotedLocal(parts.local).trim();
  return name.length > 0 ? name : null;
}

/**
 * Generated customer codes: `C` + the customer's id zero-padded to 6 digits. Stable,
 * readable over the phone, and unique because ids are.
 */
export function generatedCustomerCode(id: number): string {
  return `C${String(id).padStart(6, '0')}`;
}
