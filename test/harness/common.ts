import { randomUUID } from 'node:crypto';
import { inject } from 'vitest';
import { createSql, type Sql } from '../../db/client.js';

export function testSql(): Sql {
  return createSql(inject('databaseUrl'), { max: 20 });
}

export { testSecrets } from './secrets.js';

export function uniqueSuffix(): string {
  return `-${randomUUID().slice(0, 8)}`;
}
