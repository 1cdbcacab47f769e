import { z } from 'zod';
import { id, idParam, longText, pageQuery, searchParam, text, timestamp } from './common.js';

/** An occurrence type (subject category): its occurrences carry the SLA. (name, sector) is unique. */
export const occurrenceType = z
  .object({
    id: z.number(),
    name: z.string(),
    sectorId: z.number().nullable().describe('null = usable by every sector'),
    solutionGroupId: z.number().nullable(),
    description: z.string().nullable(),
    anonymous: z.boolean(),
    confidential: z.boolean(),
    dynamicSectorFromCreator: z.boolean().describe("the ticket's sector is its creator's sector"),
    createdAt: timestamp,
  })
  .meta({ id: 'OccurrenceType' });

export const occurrenceTypeCreate = z.strictObject({
  name: text(200).describe('unique within its sector (the same name may repeat in different sectors, and once without a sector)'),
  sectorId: id.nullable().optional(),
  solutionGroupId: id.nullable().optional(),
  description: longText().nullable().optional(),
  anonymous: z.boolean().optional().describe('default false'),
  confidential: z.boolean().optional().describe('default false'),
  dynamicSectorFromCreator: z.boolean().optional().describe('default false'),
});
export const occurrenceTypeUpdate = occurrenceTypeCreate.partial();
export const occurrenceTypeListQuery = pageQuery.extend({
  name: searchParam.optional().describe('part of the name, any case'),
  sectorId: idParam.optional(),
  solutionGroupId: idParam.optional(),
});

export type OccurrenceType = z.infer<typeof occurrenceType>;
export type OccurrenceTypeCreate = z.infer<typeof occurrenceTypeCreate>;
export type OccurrenceTypeUpdate = z.infer<typeof occurrenceTypeUpdate>;
export type OccurrenceTypeListQuery = z.infer<typeof occurrenceTypeListQuery>;
