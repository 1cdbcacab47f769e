import type postgres from 'postgres';
import { sortedHolidays, sortedWeek } from '../domain/business-calendar.js';
import type { Calendar, CalendarCreate, CalendarListQuery, CalendarUpdate } from '../schemas/calendars.js';
import type { Queryable } from './client.js';
import { containing, defined, toPage, where, type Page } from './crud.js';

/**
 * Business calendars. Weekly hours and holidays are jsonb documents (written with sql.json,
 * stored in time and date order); the default 24x7 calendar comes from the migration.
 */

/** The columns of a change, the documents as jsonb. */
function columns(sql: Queryable, input: CalendarUpdate): Record<string, unknown> {
  const { weeklyHours, holidays, ...rest } = defined(input);
  return {
    ...rest,
    ...(weeklyHours ? { weeklyHours: sql.json(sortedWeek(weeklyHours) as unknown as postgres.JSONValue) } : {}),
    ...(holidays ? { holidays: sql.json(sortedHolidays(holidays) as unknown as postgres.JSONValue) } : {}),
  };
}

export const calendars = {
  async list(sql: Queryable, q: CalendarListQuery): Promise<Page<Calendar>> {
    const rows = await sql<Calendar[]>`
      SELECT * FROM calendar
       WHERE ${where(sql, [q.name !== undefined && sql`name ILIKE ${containing(q.name)}`, q.after !== undefined && sql`id > ${q.after}`])}
       ORDER BY id LIMIT ${q.limit + 1}`;
    return toPage(rows, q.limit);
  },
  async get(sql: Queryable, id: number): Promise<Calendar | undefined> {
    const [row] = await sql<Calendar[]>`SELECT * FROM calendar WHERE id = ${id}`;
    return row;
  },
  /** The default 24x7 calendar (there is always exactly one). */
  async getDefault(sql: Queryable): Promise<Calendar> {
    const [row] = await sql<Calendar[]>`SELECT * FROM calendar WHERE is_default`;
    if (!row) throw new Error('the default calendar is missing: migration 1764100000000_admin-api creates it');
    return row;
  },
  async create(sql: Queryable, input: CalendarCreate): Promise<Calendar> {
    const [row] = await sql<Calendar[]>`INSERT INTO calendar ${sql(columns(sql, input))} RETURNING *`;
    return row!;
  },
  async update(sql: Queryable, id: number, patch: CalendarUpdate): Promise<Calendar | undefined> {
    const values = columns(sql, patch);
    if (Object.keys(values).length === 0) return this.get(sql, id);
    const [row] = await sql<Calendar[]>`UPDATE calendar SET ${sql(values)} WHERE id = ${id} RETURNING *`;
    return row;
  },
  /** False when there was nothing to delete; a calendar a sector names raises the database's 23503. */
  async remove(sql: Queryable, id: number): Promise<boolean> {
    const rows = await sql`DELETE FROM calendar WHERE id = ${id} RETURNING id`;
    return rows.length > 0;
  },
};
