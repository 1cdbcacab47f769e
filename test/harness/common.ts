import { createHash, randomUUID } from 'node:crypto';
import { inject } from 'vitest';
import { secretBox, type SecretBox } from '../../config/secret-box.js';
import { createSql, type Sql } from '../../db/client.js';

export function testSql(): Sql {
  return createSql(inject('databaseUrl'), { max: 20 });
}

/** The one secrets key of the test run: the API seals IMAP secrets with it, test workers open them with it. */
export const testSecrets: SecretBox = secretBox(createHash('sha256').update('mailtrack test secrets key').digest());

export function uniqueSuffix(): string {
  return `-${randomUUID().slice(0, 8)}`;
}
