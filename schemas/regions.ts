import { z } from 'zod';
import { pageQuery, searchParam, text, timestamp } from './common.js';

/** A region: where a customer is (every customer has one). */
export const region = z
  .object({
    id: z.number(),
    name: z.string(),
    createdAt: timestamp,
  })
  .meta({ id: 'Region' });

export const regionCreate = z.strictObject({
  name: text(200).describe('unique'),
});
export const regionUpdate = regionCreate.partial();
export const regionListQuery = pageQuery.extend({
  name: searchParam.optional().describe('part of the name, any case'),
});

export type Region = z.infer<typeof region>;
export type RegionCreate = z.infer<typeof regionCreate>;
export type RegionUpdate = z.infer<typeof regionUpdate>;
export type RegionListQuery = z.infer<typeof regionListQuery>;
