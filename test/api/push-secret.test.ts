import { describe, expect, it } from 'vitest';
import { presentedSecret } from '../../api/routes/inbound.js';

const basic = (userPass: string) => `Basic ${Buffer.from(userPass, 'utf8').toString('base64')}`;

describe('the push secret a request presents', () => {
  it('is the Bearer token, or the password of HTTP Basic whatever the user name', () => {
    expect(presentedSecret('Bearer s3cret-value')).toBe('s3cret-value');
    expect(presentedSecret('bearer   s3cret-value ')).toBe('s3cret-value');
    expect(presentedSecret(basic('push:s3cret'))).toBe('s3cret');
    // Only the first colon separates (RFC 7617): the password may hold more.
    expect(presentedSecret(basic('push:a:b:c'))).toBe('a:b:c');
    expect(presentedSecret(basic(':ünïcødé'))).toBe('ünïcødé');
  });

  it('is nothing for a missing or malformed header', () => {
    expect(presentedSecret(undefined)).toBeUndefined();
    expect(presentedSecret('')).toBeUndefined();
    expect(presentedSecret('Bearer')).toBeUndefined();
    expect(presentedSecret('Bearer two words')).toBeUndefined();
    expect(presentedSecret(basic('no-colon'))).toBeUndefined();
    expect(presentedSecret('Basic !!!')).toBeUndefined();
    expect(presentedSecret('Digest username="x"')).toBeUndefined();
  });
});
