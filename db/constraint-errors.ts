import type postgres from 'postgres';
import type { Queryable } from './client.js';

/**
 * What a constraint the database enforced means to the person who sent the request. The
 * database is the one judge of uniqueness and references (no read-then-write race); this
 * turns its answer into words that name the field and, for a refused delete, what uses it.
 */
export type ConstraintProblem =
  | { kind: 'duplicate'; fields: string[]; values: string }
  | { kind: 'missing-reference'; field: string; value: string; noun: string }
  | { kind: 'in-use'; noun: string; id: string; usedBy: string[] }
  | { kind: 'invalid'; detail: string };

const camel = (s: string) => s.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());

/**
 * Columns a request names otherwise: a child table's reference is an entry of its parent's list
 * field (`user_sector.sector_id` → `sectorIds`), a comparison key is the field it is made from.
 */
const FIELD_OF: Record<string, string> = {
  'user_sector.sector_id': 'sectorIds',
  'solution_group_member.user_id': 'memberIds',
  'customer_observer.user_id': 'observerIds',
  'customer.email_key': 'email',
};
const field = (table: string | undefined, column: string) => FIELD_OF[`${table}.${column}`] ?? camel(column);

/** Table names in the glossary's words (`app_user` → user, `occurrence_type` → occurrence type). */
export const noun = (table: string) => (table === 'app_user' ? 'user' : table.replace(/_/g, ' '));

const LABEL_COLUMNS = ['protocol', 'name', 'login', 'number', 'code'];

/** Up to three rows of `table` that point at `id` through the constraint, named. */
async function referencingRows(sql: Queryable, constraint: string, table: string, id: string): Promise<string[]> {
  const [fk] = await sql<{ column: string; labels: string[] }[]>`
    SELECT a.attname AS column,
           ARRAY(SELECT attname::text FROM pg_attribute WHERE attrelid = c.conrelid AND attname = ANY(${LABEL_COLUMNS}) AND NOT attisdropped) AS labels
      FROM pg_constraint c JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
     WHERE c.conname = ${constraint} AND c.conrelid = ${table}::regclass`;
  if (!fk) return [];
  const label = LABEL_COLUMNS.find((l) => fk.labels.includes(l));
  const hasId = (await sql`SELECT 1 FROM pg_attribute WHERE attrelid = ${table}::regclass AND attname = 'id'`).length > 0;
  const rows = await sql<{ id: unknown; label: unknown }[]>`
    SELECT ${hasId ? sql`id` : sql`NULL AS id`}, ${label ? sql(label) : sql`NULL`} AS label
      FROM ${sql(table)} WHERE ${sql(fk.column)} = ${id} LIMIT 4`;
  const named = rows.slice(0, 3).map((r) => [noun(table), r.label !== null ? `«${String(r.label)}»` : '', r.id !== null && r.id !== undefined ? `(id ${String(r.id)})` : ''].filter(Boolean).join(' '));
  return rows.length > 3 ? [...named, 'and more'] : named;
}

export function isPostgresError(err: unknown): err is postgres.PostgresError {
  return err instanceof Error && err.name === 'PostgresError' && typeof (err as { code?: unknown }).code === 'string';
}

/** The meaning of a constraint violation, or undefined for any other error. */
export async function constraintProblem(sql: Queryable, err: unknown): Promise<ConstraintProblem | undefined> {
  if (!isPostgresError(err)) return undefined;
  const detail = err.detail ?? '';
  if (err.code === '23505') {
    const m = /^Key \((.+?)\)=\((.*)\) already exists\.$/s.exec(detail);
    const columns = m?.[1]?.split(', ').map((c) => c.replace(/^lower\((.*)\)$/, '$1')) ?? [];
    return { kind: 'duplicate', fields: columns.map((c) => field(err.table_name, c)), values: m?.[2] ?? '' };
  }
  if (err.code === '23503') {
    const missing = /^Key \((.+?)\)=\((.*)\) is not present in table "(.+)"\.$/s.exec(detail);
    if (missing) return { kind: 'missing-reference', field: field(err.table_name, missing[1]!), value: missing[2]!, noun: noun(missing[3]!) };
    const used = /^Key \((.+?)\)=\((.*)\) is still referenced from table "(.+)"\.$/s.exec(detail);
    const deletedFrom = /^update or delete on table "(.+?)"/.exec(err.message)?.[1];
    if (used && deletedFrom) {
      const usedBy = await referencingRows(sql, err.constraint_name ?? '', used[3]!, used[2]!).catch(() => []);
      return { kind: 'in-use', noun: noun(deletedFrom), id: used[2]!, usedBy: usedBy.length ? usedBy : [`${noun(used[3]!)} records`] };
    }
  }
  if (err.code === '23514' || err.code === '23502' || err.code.startsWith('22')) return { kind: 'invalid', detail: err.message };
  return undefined;
}
