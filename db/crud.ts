import type postgres from 'postgres';
import type { Queryable } from './client.js';

/** A page of a list; `nextAfter` is the cursor of the following page, null on the last one. */
export interface Page<T> {
  items: T[];
  nextAfter: number | null;
}

export interface PageOptions {
  limit: number;
  after?: number;
}

/** Cuts `limit + 1` rows, ordered by id, into a page and its cursor. */
export function toPage<T extends { id: number }>(rows: T[], limit: number): Page<T> {
  const items = rows.slice(0, limit);
  return { items, nextAfter: rows.length > limit ? (items.at(-1)?.id ?? null) : null };
}

/** The entries of `o` that are set: a PATCH changes only what it names. */
export function defined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** `%text%` for ILIKE, with the pattern characters of `text` taken literally. */
export function containing(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/** AND of the conditions that are not `false`. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Fragment = postgres.PendingQuery<any>;

/** A timestamp column as the API writes instants inside JSON built in SQL: ISO 8601 in UTC, with milliseconds. */
export const iso = (sql: Queryable, column: Fragment) => sql`to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

/** AND of the conditions that are not `false` (TRUE when none is). */
export function where(sql: Queryable, conditions: (Fragment | false)[]): Fragment {
  return conditions.filter((c): c is Fragment => c !== false).reduce((acc, c) => sql`${acc} AND ${c}`, sql`TRUE`);
}

/**
 * Create, read, update, delete and list for a table whose rows are the resource itself
 * (columns in snake_case come out in camelCase). List filters: the `search` keys match a
 * case-insensitive substring, every other key must be equal.
 */
export function tableStore<E extends { id: number }, C extends object, U extends object, Q extends PageOptions>(
  table: string,
  opts: { search?: (keyof Q & string)[] } = {},
) {
  return {
    async list(sql: Queryable, q: Q): Promise<Page<E>> {
      const { limit, after, ...filters } = q;
      const conditions: Fragment[] = Object.entries(filters)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => (opts.search?.includes(k as keyof Q & string) ? sql`${sql(k)} ILIKE ${containing(String(v))}` : sql`${sql(k)} = ${v as string}`));
      if (after !== undefined) conditions.push(sql`id > ${after}`);
      const rows = await sql<E[]>`SELECT * FROM ${sql(table)} WHERE ${where(sql, conditions)} ORDER BY id LIMIT ${limit + 1}`;
      return toPage(rows, limit);
    },
    async get(sql: Queryable, id: number): Promise<E | undefined> {
      const [row] = await sql<E[]>`SELECT * FROM ${sql(table)} WHERE id = ${id}`;
      return row;
    },
    async create(sql: Queryable, input: C): Promise<E> {
      const values = defined(input);
      const [row] = await sql<E[]>`INSERT INTO ${sql(table)} ${sql(values as Record<string, unknown>)} RETURNING *`;
      return row!;
    },
    async update(sql: Queryable, id: number, patch: U): Promise<E | undefined> {
      const values = defined(patch);
      if (Object.keys(values).length === 0) return this.get(sql, id);
      const [row] = await sql<E[]>`UPDATE ${sql(table)} SET ${sql(values as Record<string, unknown>)} WHERE id = ${id} RETURNING *`;
      return row;
    },
    /** False when there was nothing to delete; a row still in use raises the database's 23503. */
    async remove(sql: Queryable, id: number): Promise<boolean> {
      const rows = await sql`DELETE FROM ${sql(table)} WHERE id = ${id} RETURNING id`;
      return rows.length > 0;
    },
  };
}

export type TableStore<E extends { id: number }, C extends object, U extends object, Q extends PageOptions> = ReturnType<typeof tableStore<E, C, U, Q>>;
