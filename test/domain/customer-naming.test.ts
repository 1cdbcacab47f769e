import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { customerNameFromAddress, generatedCustomerCode } from '../../domain/customer-naming.js';
import { addressKey, splitAddress } from '../../domain/email-address.js';

describe('customer name from the sender address (SPEC §4.6)', () => {
  it.each([
    ['antonio.carlos@citrus.cx', 'antonio.carlos'],
    // Upper case is kept as written: the name shows what the sender typed.
    ['Antonio.Carlos@Citrus.CX', 'Antonio.Carlos'],
    // Plus-addressing is part of the local part and so of the name.
    ['ana+suporte@exemplo.com.br', 'ana+suporte'],
    // A quoted local part loses its quotes (and its escapes), nothing else.
    ['"john doe"@example.com', 'john doe'],
    ['"a\\"b"@example.com', 'a"b'],
    ['"ana@casa"@example.com', 'ana@casa'],
    // Internationalised addresses keep their Unicode.
    ['josé@ação.com.br', 'josé'],
  ])('%s → %s', (address, name) => {
    expect(customerNameFromAddress(address)).toBe(name);
  });

  it.each(['', 'no-at-sign', '@example.com', 'ana@', 'two words@example.com', '""@example.com'])('rejects %j', (address) => {
    expect(customerNameFromAddress(address)).toBeNull();
  });

  it('is never taken from the display name: only the address reaches it', () => {
    // mailparser hands us { name: 'Antonio Carlos', address: 'antonio.carlos@citrus.cx' }.
    expect(customerNameFromAddress('antonio.carlos@citrus.cx')).toBe('antonio.carlos');
  });
});

describe('address key: how senders are matched to customers', () => {
  it('ignores case in the local part and the domain', () => {
    expect(addressKey('Maria.Silva@Example.COM')).toBe(addressKey('maria.silva@example.com'));
  });

  it('keeps plus-addressed mailboxes apart', () => {
    expect(addressKey('ana+billing@example.com')).not.toBe(addressKey('ana@example.com'));
  });

  it('is null for what only looks like an address: an "@" in an unquoted local part, an empty domain label', () => {
    for (const broken of ['broken@@example.com', 'broken@@example..com', 'ana@example..com', 'ana@.example.com', 'ana@example.com.']) expect(addressKey(broken), broken).toBeNull();
    expect(addressKey('"ana@home"@example.com')).toBe('ana@home@example.com');
  });

  it('matches a quoted local part with its unquoted form', () => {
    expect(addressKey('"Ana"@example.com')).toBe(addressKey('ana@example.com'));
  });

  it('matches an internationalised domain with its punycode form', () => {
    expect(addressKey('josé@AÇÃO.com.br')).toBe('josé@xn--ao-siap.com.br');
    expect(addressKey('josé@xn--ao-siap.com.br')).toBe('josé@xn--ao-siap.com.br');
  });

  it('lower-cases a Unicode local part', () => {
    expect(addressKey('JOSÉ@example.com')).toBe('josé@example.com');
  });

  it('rejects what is not an address', () => {
    expect(addressKey('not an address')).toBeNull();
    expect(addressKey('ana@exa mple.com')).toBeNull();
  });

  it('splits at the last @, so a quoted local part may contain one', () => {
    expect(splitAddress('"a@b"@example.com')).toEqual({ local: '"a@b"', domain: 'example.com' });
  });

  it('property: the key of an ASCII address does not depend on case', () => {
    const atom = fc.stringMatching(/^[A-Za-z0-9._%+-]{1,20}$/);
    const label = fc.stringMatching(/^[A-Za-z0-9]{1,12}$/);
    const tld = fc.stringMatching(/^[A-Za-z]{2,6}$/);
    fc.assert(
      fc.property(atom, label, tld, (local, d1, d2) => {
        const address = `${local}@${d1}.${d2}`;
        const key = addressKey(address);
        expect(key).not.toBeNull();
        expect(addressKey(address.toUpperCase())).toBe(key);
        expect(addressKey(address.toLowerCase())).toBe(key);
        expect(customerNameFromAddress(address)).toBe(local);
      }),
    );
  });
});

describe('generated customer codes', () => {
  it('are C + six digits, growing past six when needed', () => {
    expect(generatedCustomerCode(42)).toBe('C000042');
    expect(generatedCustomerCode(1234567)).toBe('C1234567');
  });
});
