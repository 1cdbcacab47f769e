import type { Alert, AlertCreate, AlertListQuery, AlertUpdate } from '../schemas/alerts.js';
import type { Queryable } from './client.js';
import { containing, defined, toPage, where, type Page } from './crud.js';

/** Every column but the webhook secret, which never leaves the database (only whether there is one). */
const columns = (sql: Queryable) =>
  sql`id, name, thresholds, notify_assignee, notify_sector, emails, webhook_url, webhook_secret IS NOT NULL AS has_webhook_secret, created_at`;

/**
 * Alerts (SPEC §3, §6). `webhookSecret` arrives here already sealed (config/secret-box.ts);
 * removing the webhook URL removes its secret with it.
 */
export const alerts = {
  async list(sql: Queryable, q: AlertListQuery): Promise<Page<Alert>> {
    const conditions = [q.name !== undefined && sql`name ILIKE ${containing(q.name)}`, q.after !== undefined && sql`id > ${q.after}`];
    const rows = await sql<Alert[]>`SELECT ${columns(sql)} FROM alert WHERE ${where(sql, conditions)} ORDER BY id LIMIT ${q.limit + 1}`;
    return toPage(rows, q.limit);
  },

  async get(sql: Queryable, id: number): Promise<Alert | undefined> {
    const [row] = await sql<Alert[]>`SELECT ${columns(sql)} FROM alert WHERE id = ${id}`;
    return row;
  },

  async create(sql: Queryable, input: AlertCreate): Promise<Alert> {
    const [row] = await sql<Alert[]>`INSERT INTO alert ${sql(defined(input))} RETURNING ${columns(sql)}`;
    return row!;
  },

  async update(sql: Queryable, id: number, patch: AlertUpdate): Promise<Alert | undefined> {
    const values = defined(patch);
    if (values.webhookUrl === null && values.webhookSecret === undefined) values.webhookSecret = null;
    if (Object.keys(values).length === 0) return alerts.get(sql, id);
    const [row] = await sql<Alert[]>`UPDATE alert SET ${sql(values)} WHERE id = ${id} RETURNING ${columns(sql)}`;
    return row;
  },

  /** A row still in use by an occurrence raises the database's 23503. */
  async remove(sql: Queryable, id: number): Promise<boolean> {
    const rows = await sql`DELETE FROM alert WHERE id = ${id} RETURNING id`;
    return rows.length > 0;
  },
};
