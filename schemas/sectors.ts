import { z } from 'zod';
import { id, idParam, pageQuery, searchParam, text, timestamp } from './common.js';

/** A sector (department); users belong to sectors, and a sector may name its business calendar. */
export const sector = z
  .object({
    id: z.number(),
    name: z.string(),
    calendarId: z.number().nullable().describe('the business calendar of its tickets; null = the default 24x7 calendar'),
    createdAt: timestamp,
  })
  .meta({ id: 'Sector' });

export const sectorCreate = z.strictObject({
  name: text(200),
  calendarId: id.nullable().optional(),
});
export const sectorUpdate = sectorCreate.partial();
export const sectorListQuery = pageQuery.extend({
  name: searchParam.optional().describe('part of the name, any case'),
  calendarId: idParam.optional(),
});

export type Sector = z.infer<typeof sector>;
export type SectorCreate = z.infer<typeof sectorCreate>;
export type SectorUpdate = z.infer<typeof sectorUpdate>;
export type SectorListQuery = z.infer<typeof sectorListQuery>;
