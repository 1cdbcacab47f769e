import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { customerTypes } from '../../db/customer-types.js';
import { customerType, customerTypeCreate, customerTypeListQuery, customerTypeUpdate } from '../../schemas/customer-types.js';
import { crudRoutes } from '../crud-routes.js';
import type { AppDeps } from '../deps.js';

/** What the API docs say about these routes, besides the schemas. */
const DESCRIPTIONS: Record<string, string> = {
  'GET /customer-types': 'Filter: `name` (part of it, any case); oldest first.',
  'POST /customer-types': 'The name is unique (as written: `VIP` and `vip` are two names); a repeat is a 409 naming `name`.',
  'DELETE /customer-types/:id': 'A customer type given to customers or named by a mailbox cannot be deleted: change those first.',
};

export function customerTypesRoutes(deps: AppDeps): FastifyPluginAsyncZod {
  return async (app) => {
    crudRoutes(app, {
      descriptions: DESCRIPTIONS,
      path: '/customer-types',
      noun: 'customer type',
      tag: 'customer types',
      schemas: { entity: customerType, create: customerTypeCreate, update: customerTypeUpdate, listQuery: customerTypeListQuery },
      store: customerTypes,
      sql: deps.sql,
    });
  };
}
