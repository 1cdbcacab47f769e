import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { sectors } from '../../db/sectors.js';
import { sector, sectorCreate, sectorListQuery, sectorUpdate } from '../../schemas/sectors.js';
import { crudRoutes } from '../crud-routes.js';
import type { AppDeps } from '../deps.js';
import { replanTickets } from '../sla-sources.js';

export function sectorRoutes(deps: AppDeps): FastifyPluginAsyncZod {
  return async (app) => {
    crudRoutes(app, {
      path: '/sectors',
      noun: 'sector',
      tag: 'sectors',
      schemas: { entity: sector, create: sectorCreate, update: sectorUpdate, listQuery: sectorListQuery },
      store: sectors,
      sql: deps.sql,
      // Live tickets computed from it re-plan their SLA timers (a create concerns none), in the
      // background: a change touching thousands of tickets does not hold the request.
      changed: async ({ id, deleted }) => void (deleted || replanTickets(app.log, deps, { sectorId: id }, `sector ${id} changed`)),
    });
  };
}
