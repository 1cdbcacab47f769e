import { z } from 'zod';
import { id, idParam, page, pageQuery, searchParam, text, timestamp } from './common.js';
import { savedTicketFilters, shownTicketFilters } from './tickets.js';

/** A saved ticket filter: a named set of the ticket list's filters, personal or shared with a sector. */
export const ticketFilter = z
  .object({
    id: z.number(),
    name: z.string(),
    ownerUserId: z.number().describe('who saved it; only they (or an admin) may change or delete it'),
    sectorId: z.number().nullable().describe('shared with the members of this sector; null = personal'),
    filters: shownTicketFilters.describe('the ticket list\'s filters it applies (GET /tickets?filterId=...)'),
    createdAt: timestamp,
  })
  .meta({ id: 'TicketFilter' });

export const ticketFilterCreate = z.strictObject({
  name: text(200),
  filters: savedTicketFilters,
  sectorId: id.nullable().optional().describe('share it with the members of this sector (one of yours, unless you are an admin)'),
});
export const ticketFilterUpdate = ticketFilterCreate.partial();
export const ticketFilterListQuery = pageQuery.extend({
  name: searchParam.optional().describe('part of the name, any case'),
  sectorId: idParam.optional().describe('those shared with this sector'),
  ownerUserId: idParam.optional().describe('those saved by this user'),
});
export const ticketFilterPage = page(ticketFilter);

export type TicketFilter = z.infer<typeof ticketFilter>;
export type TicketFilterCreate = z.infer<typeof ticketFilterCreate>;
export type TicketFilterUpdate = z.infer<typeof ticketFilterUpdate>;
export type TicketFilterListQuery = z.infer<typeof ticketFilterListQuery>;
