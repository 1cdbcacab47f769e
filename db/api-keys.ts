import { createHash, randomBytes } from 'node:crypto';
import type { Role } from '../domain/roles.js';
import type { ApiKey, ApiKeyListQuery, Me } from '../schemas/api-keys.js';
import type { Queryable, Sql } from './client.js';
import { toPage, where, type Page } from './crud.js';

/** `mt_` + 32 random bytes in base64url: 256 bits, so a plain SHA-256 is a safe thing to store. */
export function newKey(): string {
  return `mt_${randomBytes(32).toString('base64url')}`;
}

export function keyHash(key: string): Buffer {
  return createHash('sha256').update(key).digest();
}

const PREFIX_LENGTH = 8;

const COLUMNS = (sql: Queryable) => sql`id, name, user_id, prefix, created_at, last_used_at, revoked_at`;

export async function createKey(sql: Queryable, userId: number, name: string, key = newKey()): Promise<ApiKey & { key: string }> {
  const [row] = await sql<ApiKey[]>`
    INSERT INTO api_key (user_id, name, prefix, hash) VALUES (${userId}, ${name}, ${key.slice(0, PREFIX_LENGTH)}, ${keyHash(key)})
    RETURNING ${COLUMNS(sql)}`;
  return { ...row!, key };
}

export async function listKeys(sql: Queryable, q: ApiKeyListQuery): Promise<Page<ApiKey>> {
  const rows = await sql<ApiKey[]>`
    SELECT ${COLUMNS(sql)} FROM api_key
     WHERE ${where(sql, [q.userId !== undefined && sql`user_id = ${q.userId}`, q.after !== undefined && sql`id > ${q.after}`])}
     ORDER BY id LIMIT ${q.limit + 1}`;
  return toPage(rows, q.limit);
}

export async function getKey(sql: Queryable, id: number): Promise<ApiKey | undefined> {
  const [row] = await sql<ApiKey[]>`SELECT ${COLUMNS(sql)} FROM api_key WHERE id = ${id}`;
  return row;
}

/** Revoking twice keeps the first revocation time. */
export async function revokeKey(sql: Queryable, id: number): Promise<{ hash: Buffer } | undefined> {
  const [row] = await sql<{ hash: Buffer }[]>`
    UPDATE api_key SET revoked_at = COALESCE(revoked_at, now()) WHERE id = ${id} RETURNING hash`;
  return row;
}

/** Who calls: the key's user, and which key it is. */
export type Caller = Me & { keyId: number };

/** The active user a valid, unrevoked key belongs to; marks the key used (to the minute). */
export async function authenticate(sql: Sql, hash: Buffer): Promise<Caller | undefined> {
  const [row] = await sql<(Me & { keyId: number; stale: boolean })[]>`
    SELECT k.id AS key_id, u.id, u.login, u.name, u.role,
           COALESCE((SELECT array_agg(s.sector_id ORDER BY s.sector_id) FROM user_sector s WHERE s.user_id = u.id), '{}') AS sector_ids,
           (k.last_used_at IS NULL OR k.last_used_at < now() - interval '1 minute') AS stale
      FROM api_key k JOIN app_user u ON u.id = k.user_id
     WHERE k.hash = ${hash} AND k.revoked_at IS NULL AND u.active`;
  if (!row) return undefined;
  if (row.stale) await sql`UPDATE api_key SET last_used_at = now() WHERE id = ${row.keyId}`;
  const { stale: _s, ...caller } = row;
  return caller;
}

/**
 * Makes `key` a valid admin key (idempotent): the bootstrap admin user `admin` is created
 * when missing. How a new installation gets its first key without a manual step.
 */
export async function ensureAdminKey(sql: Sql, key: string): Promise<void> {
  await sql.begin(async (tx) => {
    await tx`SELECT pg_advisory_xact_lock(hashtext('mailtrack:bootstrap-admin'))`;
    const [found] = await tx`SELECT 1 FROM api_key WHERE hash = ${keyHash(key)}`;
    if (found) return;
    const [user] = await tx<{ id: number }[]>`
      INSERT INTO app_user (login, name, role) VALUES ('admin', 'Administrator', ${'admin' satisfies Role})
      ON CONFLICT (login) DO UPDATE SET login = excluded.login RETURNING id`;
    await createKey(tx, user!.id, 'bootstrap admin key', key);
  });
}
