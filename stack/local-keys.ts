import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { newSecretsKey } from '../config/secret-box.js';

/** The contents of `file`, created with `make()` (owner-only) when missing. */
async function keyFile(file: string, make: () => string): Promise<{ value: string; created: boolean }> {
  try {
    return { value: (await readFile(file, 'utf8')).trim(), created: false };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    const value = make();
    // `wx`: two starts racing cannot both create it.
    await writeFile(file, `${value}\n`, { mode: 0o600, flag: 'wx' });
    return { value, created: true };
  }
}

/** SECRETS_KEY, or the one `npm start` generated into the data directory on its first start. */
export async function localSecretsKey(dataDir: string, fromEnv: string | undefined): Promise<string> {
  return fromEnv ?? (await keyFile(join(dataDir, 'secrets.key'), newSecretsKey)).value;
}

/** ADMIN_API_KEY, or the admin key `npm start` generated on its first start (printed once). */
export async function localAdminKey(dataDir: string, fromEnv: string | undefined): Promise<{ key: string; created: boolean; file?: string }> {
  if (fromEnv) return { key: fromEnv, created: false };
  const file = join(dataDir, 'admin-api-key');
  const { value, created } = await keyFile(file, () => `mt_${randomBytes(32).toString('base64url')}`);
  return { key: value, created, file };
}
