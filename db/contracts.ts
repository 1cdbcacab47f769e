import type { Contract, ContractCreate, ContractListQuery, ContractUpdate } from '../schemas/contracts.js';
import type { Queryable } from './client.js';
import { defined, toPage, where, type Page } from './crud.js';

/**
 * Contracts: an aggregate of their own (their own id and number, unique across customers),
 * owned by a customer (deleted with it). `validToday` and `inForce` are computed by the
 * database on every read, against its current date, so they never go stale.
 */

const VALID_TODAY = 'starts_on <= current_date AND (ends_on IS NULL OR ends_on >= current_date)';
const COLUMNS = (sql: Queryable) =>
  sql`id, customer_id, name, number, starts_on, ends_on, active, sla_value, sla_unit, created_at,
      (${sql.unsafe(VALID_TODAY)}) AS valid_today, (active AND ${sql.unsafe(VALID_TODAY)}) AS in_force`;

export const contracts = {
  async list(sql: Queryable, customerId: number, q: ContractListQuery): Promise<Page<Contract>> {
    const rows = await sql<Contract[]>`
      SELECT ${COLUMNS(sql)} FROM contract
       WHERE ${where(sql, [
         sql`customer_id = ${customerId}`,
         q.inForce !== undefined && sql`(active AND ${sql.unsafe(VALID_TODAY)}) = ${q.inForce}`,
         q.after !== undefined && sql`id > ${q.after}`,
       ])}
       ORDER BY id LIMIT ${q.limit + 1}`;
    return toPage(rows, q.limit);
  },

  async get(sql: Queryable, id: number): Promise<Contract | undefined> {
    const [row] = await sql<Contract[]>`SELECT ${COLUMNS(sql)} FROM contract WHERE id = ${id}`;
    return row;
  },

  async create(sql: Queryable, customerId: number, input: ContractCreate): Promise<Contract> {
    const [row] = await sql<Contract[]>`INSERT INTO contract ${sql({ ...defined(input), customerId } as Record<string, unknown>)} RETURNING ${COLUMNS(sql)}`;
    return row!;
  },

  async update(sql: Queryable, id: number, patch: ContractUpdate): Promise<Contract | undefined> {
    const values = defined(patch) as Record<string, unknown>;
    if (Object.keys(values).length === 0) return this.get(sql, id);
    const [row] = await sql<Contract[]>`UPDATE contract SET ${sql(values)} WHERE id = ${id} RETURNING ${COLUMNS(sql)}`;
    return row;
  },

  async remove(sql: Queryable, id: number): Promise<boolean> {
    const rows = await sql`DELETE FROM contract WHERE id = ${id} RETURNING id`;
    return rows.length > 0;
  },
};
