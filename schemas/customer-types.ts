import { z } from 'zod';
import { pageQuery, searchParam, text, timestamp } from './common.js';

/** A customer type (e.g. company, person, partner): a category of customers. */
export const customerType = z
  .object({
    id: z.number(),
    name: z.string(),
    createdAt: timestamp,
  })
  .meta({ id: 'CustomerType' });

export const customerTypeCreate = z.strictObject({
  name: text(200).describe('unique'),
});
export const customerTypeUpdate = customerTypeCreate.partial();
export const customerTypeListQuery = pageQuery.extend({
  name: searchParam.optional().describe('part of the name, any case'),
});

export type CustomerType = z.infer<typeof customerType>;
export type CustomerTypeCreate = z.infer<typeof customerTypeCreate>;
export type CustomerTypeUpdate = z.infer<typeof customerTypeUpdate>;
export type CustomerTypeListQuery = z.infer<typeof customerTypeListQuery>;
