import postgres from 'postgres';

export type Sql = postgres.Sql;
/** Either the pool or an open transaction: queries that can run inside a caller's transaction take this. */
export type Queryable = postgres.Sql | postgres.TransactionSql;

/** The one postgres.js instance of a process. bigint ids come back as numbers (they stay < 2^53). */
export function createSql(databaseUrl: string, options: { max?: number } = {}): Sql {
  return postgres(databaseUrl, {
    max: options.max ?? 10,
    onnotice: () => {},
    types: {
      bigint: { to: 20, from: [20], serialize: (n: number) => String(n), parse: (s: string) => Number(s) },
    },
    transform: { undefined: null },
  });
}
