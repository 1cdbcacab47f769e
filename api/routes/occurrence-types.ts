import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { occurrenceTypes } from '../../db/occurrence-types.js';
import { occurrenceType, occurrenceTypeCreate, occurrenceTypeListQuery, occurrenceTypeUpdate } from '../../schemas/occurrence-types.js';
import { crudRoutes } from '../crud-routes.js';
import type { AppDeps } from '../deps.js';

/** What the API docs say about these routes, besides the schemas (decisions the spec leaves open). */
const DESCRIPTIONS: Record<string, string> = {
  'GET /occurrence-types': 'Filters: `name` (part of it, any case), `sectorId`, `solutionGroupId`; oldest first.',
  'POST /occurrence-types': '(name, sector) is unique: the same name may repeat in different sectors, and once without a sector; a repeat is a 409 naming `name` and `sectorId`. Flags default to false.',
  'PATCH /occurrence-types/:id': 'A change that makes (name, sector) repeat another type is a 409 naming both fields.',
  'DELETE /occurrence-types/:id': 'An occurrence type with occurrences (or named by a mailbox or a ticket) cannot be deleted: remove those first.',
};

export function occurrenceTypesRoutes(deps: AppDeps): FastifyPluginAsyncZod {
  return async (app) => {
    crudRoutes(app, {
      descriptions: DESCRIPTIONS,
      path: '/occurrence-types',
      noun: 'occurrence type',
      tag: 'occurrence types',
      schemas: { entity: occurrenceType, create: occurrenceTypeCreate, update: occurrenceTypeUpdate, listQuery: occurrenceTypeListQuery },
      store: occurrenceTypes,
      sql: deps.sql,
    });
  };
}
