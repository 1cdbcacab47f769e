import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/**
 * Secrets at rest (IMAP passwords, webhook secrets): AES-256-GCM with a key from the
 * environment (`SECRETS_KEY`, 32 bytes in base64; `npm start` generates one into the data
 * directory). Stored as `v1.<iv>.<tag>.<ciphertext>` in base64url, so a later key rotation
 * can tell versions apart. A tampered or foreign value fails to open instead of decrypting
 * to garbage.
 */
export interface SecretBox {
  seal(plain: string): string;
  open(sealed: string): string;
}

export class SecretKeyError extends Error {}

export function parseSecretsKey(base64: string): Buffer {
  const key = Buffer.from(base64.trim(), 'base64');
  if (key.length !== 32) throw new SecretKeyError(`SECRETS_KEY must be 32 bytes in base64 (44 characters); this one decodes to ${key.length} bytes`);
  return key;
}

export function newSecretsKey(): string {
  return randomBytes(32).toString('base64');
}

export function secretBox(key: Buffer): SecretBox {
  return {
    seal(plain) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
      return ['v1', iv, cipher.getAuthTag(), body].map((p) => (typeof p === 'string' ? p : p.toString('base64url'))).join('.');
    },
    open(sealed) {
      const [version, iv, tag, body] = sealed.split('.');
      if (version !== 'v1' || iv === undefined || tag === undefined || body === undefined) {
        throw new SecretKeyError('a stored secret is not in the v1 sealed format (was it written without encryption?)');
      }
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      try {
        return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
      } catch {
        throw new SecretKeyError('a stored secret does not open with SECRETS_KEY (another key was used to seal it)');
      }
    },
  };
}
