import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { regions } from '../../db/regions.js';
import { region, regionCreate, regionListQuery, regionUpdate } from '../../schemas/regions.js';
import { crudRoutes } from '../crud-routes.js';
import type { AppDeps } from '../deps.js';

/** What the API docs say about these routes, besides the schemas. */
const DESCRIPTIONS: Record<string, string> = {
  'GET /regions': 'Filter: `name` (part of it, any case); oldest first.',
  'POST /regions': 'The name is unique (as written: `South` and `south` are two names); a repeat is a 409 naming `name`.',
  'DELETE /regions/:id': 'A region given to customers or named by a mailbox cannot be deleted: change those first.',
};

export function regionsRoutes(deps: AppDeps): FastifyPluginAsyncZod {
  return async (app) => {
    crudRoutes(app, {
      descriptions: DESCRIPTIONS,
      path: '/regions',
      noun: 'region',
      tag: 'regions',
      schemas: { entity: region, create: regionCreate, update: regionUpdate, listQuery: regionListQuery },
      store: regions,
      sql: deps.sql,
    });
  };
}
