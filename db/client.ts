import postgres from 'postgres';

export type Sql = postgres.Sql;
/** Either the pool or an open transaction: queries that can run inside a caller's transaction take this. */
export type Queryable = postgres.Sql | postgres.TransactionSql;

/** timestamptz values come back as ISO 8601 strings (what the API shows); dates stay `YYYY-MM-DD`. */
const timestamps = {
  to: 1184,
  from: [1082, 1114, 1184],
  serialize: (x: Date | string) => (x instanceof Date ? x.toISOString() : x),
  parse: (x: string) => (x.length === 10 ? x : new Date(x).toISOString()),
};

/**
 * The one postgres.js instance of a process. Columns come back in camelCase and `sql(object)`
 * writes camelCase keys to snake_case columns, so a row is the resource without a mapping;
 * bigint ids come back as numbers (they stay < 2^53).
 */
export function createSql(databaseUrl: string, options: { max?: number } = {}): Sql {
  return postgres(databaseUrl, {
    max: options.max ?? 10,
    onnotice: () => {},
    types: {
      bigint: { to: 20, from: [20], serialize: (n: number) => String(n), parse: (s: string) => Number(s) },
      date: timestamps,
    },
    transform: { ...postgres.camel, undefined: null },
  });
}

/** Runs `fn` in a transaction: a new one on the pool, a savepoint inside the caller's. */
export function inTransaction<T>(sql: Queryable, fn: (tx: postgres.TransactionSql) => Promise<T>): Promise<T> {
  return ('begin' in sql ? sql.begin(fn) : sql.savepoint(fn)) as Promise<T>;
}
