import type { Me } from '../schemas/api-keys.js';
import type { TicketFilter, TicketFilterCreate, TicketFilterListQuery, TicketFilterUpdate } from '../schemas/ticket-filters.js';
import type { Queryable } from './client.js';
import { containing, defined, toPage, where, type Page } from './crud.js';

/**
 * Saved ticket filters. What a user sees: their own, those shared with a sector they belong
 * to (membership read from the database, not from the cached caller), and every one when
 * they are an admin. Who may change one is the routes' rule (owner or admin).
 */
const visibleTo = (sql: Queryable, me: Me) =>
  me.role === 'admin' ? sql`TRUE` : sql`(f.owner_user_id = ${me.id} OR f.sector_id IN (SELECT sector_id FROM user_sector WHERE user_id = ${me.id}))`;

/** The filters as stored: the set ones only. */
const json = (filters: TicketFilter['filters']) => defined(filters) as Record<string, string | number>;

const COLUMNS = (sql: Queryable) => sql`f.id, f.name, f.owner_user_id, f.sector_id, f.filters, f.created_at`;

export const ticketFilters = {
  async list(sql: Queryable, me: Me, q: TicketFilterListQuery): Promise<Page<TicketFilter>> {
    const rows = await sql<TicketFilter[]>`
      SELECT ${COLUMNS(sql)} FROM ticket_filter f
       WHERE ${where(sql, [
         visibleTo(sql, me),
         q.name !== undefined && sql`f.name ILIKE ${containing(q.name)}`,
         q.sectorId !== undefined && sql`f.sector_id = ${q.sectorId}`,
         q.ownerUserId !== undefined && sql`f.owner_user_id = ${q.ownerUserId}`,
         q.after !== undefined && sql`f.id > ${q.after}`,
       ])}
       ORDER BY f.id LIMIT ${q.limit + 1}`;
    return toPage(rows, q.limit);
  },

  /** The filter, if `me` may see it. */
  async get(sql: Queryable, me: Me, id: number): Promise<TicketFilter | undefined> {
    const [row] = await sql<TicketFilter[]>`SELECT ${COLUMNS(sql)} FROM ticket_filter f WHERE f.id = ${id} AND ${visibleTo(sql, me)}`;
    return row;
  },

  async create(sql: Queryable, ownerUserId: number, input: TicketFilterCreate): Promise<TicketFilter> {
    const [row] = await sql<TicketFilter[]>`
      INSERT INTO ticket_filter AS f (owner_user_id, name, sector_id, filters)
      VALUES (${ownerUserId}, ${input.name}, ${input.sectorId ?? null}, ${sql.json(json(input.filters))})
      RETURNING ${COLUMNS(sql)}`;
    return row!;
  },

  async update(sql: Queryable, id: number, patch: TicketFilterUpdate): Promise<TicketFilter | undefined> {
    const { filters, ...rest } = patch;
    const values: Record<string, unknown> = { ...defined(rest), ...(filters !== undefined ? { filters: sql.json(json(filters)) } : {}) };
    if (Object.keys(values).length === 0) {
      const [row] = await sql<TicketFilter[]>`SELECT ${COLUMNS(sql)} FROM ticket_filter f WHERE f.id = ${id}`;
      return row;
    }
    const [row] = await sql<TicketFilter[]>`UPDATE ticket_filter f SET ${sql(values)} WHERE f.id = ${id} RETURNING ${COLUMNS(sql)}`;
    return row;
  },

  async remove(sql: Queryable, id: number): Promise<boolean> {
    return (await sql`DELETE FROM ticket_filter WHERE id = ${id} RETURNING id`).length > 0;
  },

  /** Whether the user belongs to the sector (read now, not from the cached caller). */
  async isMember(sql: Queryable, userId: number, sectorId: number): Promise<boolean> {
    return (await sql`SELECT 1 FROM user_sector WHERE user_id = ${userId} AND sector_id = ${sectorId}`).length > 0;
  },
};
