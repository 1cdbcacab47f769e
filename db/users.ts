import type { User, UserCreate, UserListQuery, UserUpdate } from '../schemas/users.js';
import { inTransaction, type Queryable } from './client.js';
import { containing, defined, toPage, where, type Page } from './crud.js';

/**
 * Users with their sectors (user_sector, written in the same transaction and read back as
 * `sectorIds`, so a row is the entity). The registration order comes from a sequence and is
 * never written here.
 */

/** Raised when a change would leave no active admin (nobody could configure anything any more). */
export class LastActiveAdminError extends Error {
  constructor() {
    super('this would leave no active admin');
  }
}

const SELECT = (sql: Queryable) => sql`
  SELECT u.id, u.login, u.name, u.email, u.role,
         COALESCE((SELECT array_agg(s.sector_id ORDER BY s.sector_id) FROM user_sector s WHERE s.user_id = u.id), '{}') AS sector_ids,
         u.active, u.available, u.registration_order, u.created_at
    FROM app_user u`;

async function writeSectors(tx: Queryable, userId: number, sectorIds: number[] | undefined, replace: boolean): Promise<void> {
  if (sectorIds === undefined) return;
  if (replace) await tx`DELETE FROM user_sector WHERE user_id = ${userId}`;
  if (sectorIds.length === 0) return;
  await tx`
    INSERT INTO user_sector (user_id, sector_id)
    SELECT ${userId}, unnest(${tx.array(sectorIds)}::bigint[])
    ON CONFLICT DO NOTHING`;
}

/**
 * Before a change that may take away an admin: locks the active admins (in id order, so two
 * such changes queue instead of each seeing the other's admin still there); after it: refuses
 * when none is left.
 */
async function lockAdmins(tx: Queryable): Promise<void> {
  await tx`SELECT id FROM app_user WHERE role = 'admin' AND active ORDER BY id FOR UPDATE`;
}
async function someAdminLeft(tx: Queryable): Promise<void> {
  const [row] = await tx<{ n: number }[]>`SELECT count(*)::int AS n FROM app_user WHERE role = 'admin' AND active`;
  if (!row || row.n === 0) throw new LastActiveAdminError();
}

const takesAdminAway = (patch: UserUpdate) => patch.active === false || (patch.role !== undefined && patch.role !== 'admin');

/** The hashes of a user's API keys (so the API can drop them from its cache after a change). */
export async function keyHashesOf(sql: Queryable, userId: number): Promise<Buffer[]> {
  const rows = await sql<{ hash: Buffer }[]>`SELECT hash FROM api_key WHERE user_id = ${userId}`;
  return rows.map((r) => r.hash);
}

export const users = {
  async list(sql: Queryable, q: UserListQuery): Promise<Page<User>> {
    const rows = await sql<User[]>`
      ${SELECT(sql)}
       WHERE ${where(sql, [
         q.q !== undefined && sql`(u.login ILIKE ${containing(q.q)} OR u.name ILIKE ${containing(q.q)})`,
         q.role !== undefined && sql`u.role = ${q.role}`,
         q.sectorId !== undefined && sql`EXISTS (SELECT 1 FROM user_sector s WHERE s.user_id = u.id AND s.sector_id = ${q.sectorId})`,
         q.active !== undefined && sql`u.active = ${q.active}`,
         q.available !== undefined && sql`u.available = ${q.available}`,
         q.after !== undefined && sql`u.id > ${q.after}`,
       ])}
       ORDER BY u.id LIMIT ${q.limit + 1}`;
    return toPage(rows, q.limit);
  },

  async get(sql: Queryable, id: number): Promise<User | undefined> {
    const [row] = await sql<User[]>`${SELECT(sql)} WHERE u.id = ${id}`;
    return row;
  },

  async create(sql: Queryable, input: UserCreate): Promise<User> {
    const { sectorIds, ...columns } = defined(input);
    return inTransaction(sql, async (tx) => {
      const [row] = await tx<{ id: number }[]>`INSERT INTO app_user ${tx(columns as Record<string, unknown>)} RETURNING id`;
      await writeSectors(tx, row!.id, sectorIds, false);
      return (await users.get(tx, row!.id))!;
    });
  },

  /** Refuses (LastActiveAdminError) a change that would leave no active admin. */
  async update(sql: Queryable, id: number, patch: UserUpdate): Promise<User | undefined> {
    const { sectorIds, ...columns } = defined(patch);
    return inTransaction(sql, async (tx) => {
      const guard = takesAdminAway(patch);
      if (guard) await lockAdmins(tx);
      if (Object.keys(columns).length > 0) {
        const [row] = await tx`UPDATE app_user SET ${tx(columns as Record<string, unknown>)} WHERE id = ${id} RETURNING id`;
        if (!row) return undefined;
      } else if (!(await tx`SELECT 1 FROM app_user WHERE id = ${id} FOR UPDATE`).length) {
        return undefined;
      }
      await writeSectors(tx, id, sectorIds, true);
      if (guard) await someAdminLeft(tx);
      return users.get(tx, id);
    });
  },

  /**
   * False when there was nothing to delete. A user something still names (a ticket, a
   * mailbox) raises the database's 23503; their sectors, group memberships and API keys go
   * with them. Refuses (LastActiveAdminError) to delete the last active admin.
   */
  async remove(sql: Queryable, id: number): Promise<boolean> {
    return inTransaction(sql, async (tx) => {
      await lockAdmins(tx);
      const rows = await tx`DELETE FROM app_user WHERE id = ${id} RETURNING id`;
      if (rows.length > 0) await someAdminLeft(tx);
      return rows.length > 0;
    });
  },
};

/** A user's login (what the Temporal UI's Assignee search attribute shows). */
export async function getUserLogin(sql: Queryable, id: number): Promise<string | undefined> {
  const [row] = await sql<{ login: string }[]>`SELECT login FROM app_user WHERE id = ${id}`;
  return row?.login;
}

/** The logins of these users (those that exist). */
export async function userLogins(sql: Queryable, ids: number[]): Promise<{ id: number; login: string }[]> {
  return sql<{ id: number; login: string }[]>`SELECT id, login FROM app_user WHERE id = ANY(${[...new Set(ids)]}::bigint[])`;
}
