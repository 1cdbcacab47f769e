import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ticketFilters } from '../../db/ticket-filters.js';
import { ANY_ROLE } from '../../domain/roles.js';
import type { Me } from '../../schemas/api-keys.js';
import { idPath } from '../../schemas/common.js';
import { ticketFilter, ticketFilterCreate, ticketFilterListQuery, ticketFilterPage, ticketFilterUpdate, type TicketFilter } from '../../schemas/ticket-filters.js';
import type { AppDeps } from '../deps.js';
import { caller } from '../plugins/auth.js';
import { HttpProblem, notFound } from '../plugins/errors.js';

const TAG = 'ticket filters';

export function ticketFiltersRoutes(deps: AppDeps): FastifyPluginAsyncZod {
  return async (app) => {
    const { sql } = deps;
    const missing = (id: number) => notFound(`There is no ticket filter with id ${id} that you can see.`);

    /** The filter, if `me` may see it; refused with 403 unless `me` owns it or is an admin. */
    const changeable = async (me: Me, id: number): Promise<TicketFilter> => {
      const found = await ticketFilters.get(sql, me, id);
      if (!found) throw missing(id);
      if (found.ownerUserId !== me.id && me.role !== 'admin') {
        throw new HttpProblem(403, 'Forbidden', `The ticket filter ${id} is shared with your sector; only the user who saved it (or an admin) may change or delete it.`);
      }
      return found;
    };

    /** Sharing with a sector: one of the caller's own, unless they are an admin. */
    const checkSharing = async (me: Me, sectorId: number | null | undefined) => {
      if (sectorId == null || me.role === 'admin') return;
      if (!(await ticketFilters.isMember(sql, me.id, sectorId))) {
        const message = `you do not belong to the sector ${sectorId}: share with one of your sectors, or ask an admin`;
        throw new HttpProblem(403, 'Forbidden', `body.sectorId: ${message}`, [{ field: 'body.sectorId', message }]);
      }
    };

    app.get(
      '/ticket-filters',
      {
        config: { roles: ANY_ROLE },
        schema: {
          summary: 'List the saved ticket filters you can use',
          description: 'Yours, those shared with a sector you belong to, and (for an admin) every one; oldest first.',
          tags: [TAG],
          querystring: ticketFilterListQuery,
          response: { 200: ticketFilterPage },
        },
      },
      async (req) => ticketFilters.list(sql, caller(req), req.query),
    );

    app.get(
      '/ticket-filters/:id',
      {
        config: { roles: ANY_ROLE },
        schema: { summary: 'One saved ticket filter', description: 'A filter you cannot see is a 404.', tags: [TAG], params: idPath, response: { 200: ticketFilter } },
      },
      async (req) => (await ticketFilters.get(sql, caller(req), req.params.id)) ?? Promise.reject(missing(req.params.id)),
    );

    app.post(
      '/ticket-filters',
      {
        config: { roles: ANY_ROLE },
        schema: {
          summary: 'Save a ticket filter',
          description:
            '`filters` holds any of the ticket list\'s filters (the same names and values as `GET /tickets`; ids as numbers). It is yours; ' +
            'with `sectorId` it is shared with the members of that sector (a sector you belong to, unless you are an admin: otherwise 403). ' +
            'Names are unique per user (409). Ids inside `filters` are not checked: a filter naming a deleted occurrence simply matches nothing.',
          tags: [TAG],
          body: ticketFilterCreate,
          response: { 201: ticketFilter },
        },
      },
      async (req, reply) => {
        const me = caller(req);
        await checkSharing(me, req.body.sectorId);
        return reply.code(201).send(await ticketFilters.create(sql, me.id, req.body));
      },
    );

    app.patch(
      '/ticket-filters/:id',
      {
        config: { roles: ANY_ROLE },
        schema: {
          summary: 'Change a saved ticket filter (only the fields given)',
          description: 'Only its owner or an admin (403 otherwise). `filters` replaces the saved filters as a whole; `sectorId: null` makes it personal again.',
          tags: [TAG],
          params: idPath,
          body: ticketFilterUpdate,
          response: { 200: ticketFilter },
        },
      },
      async (req) => {
        const me = caller(req);
        await changeable(me, req.params.id);
        await checkSharing(me, req.body.sectorId);
        return (await ticketFilters.update(sql, req.params.id, req.body)) ?? Promise.reject(missing(req.params.id));
      },
    );

    app.delete(
      '/ticket-filters/:id',
      {
        config: { roles: ANY_ROLE },
        schema: { summary: 'Delete a saved ticket filter', description: 'Only its owner or an admin (403 otherwise).', tags: [TAG], params: idPath, response: { 204: z.null().describe('deleted') } },
      },
      async (req, reply) => {
        await changeable(caller(req), req.params.id);
        if (!(await ticketFilters.remove(sql, req.params.id))) throw missing(req.params.id);
        return reply.code(204).send(null);
      },
    );
  };
}
