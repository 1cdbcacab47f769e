import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { occurrences } from '../../db/occurrences.js';
import { occurrence, occurrenceCreate, occurrenceListQuery, occurrenceUpdate, SLA_MAX_DAYS, slaTooLong, type OccurrenceUpdate } from '../../schemas/occurrences.js';
import { crudRoutes } from '../crud-routes.js';
import type { AppDeps } from '../deps.js';
import { replanTickets } from '../sla-sources.js';
import { badRequest } from '../plugins/errors.js';

/** What the API docs say about these routes, besides the schemas (decisions the spec leaves open). */
const DESCRIPTIONS: Record<string, string> = {
  'GET /occurrences': 'Filters: `name` (part of it, any case), `occurrenceTypeId`, `sectorId`, `solutionGroupId`, `alertId`; oldest first.',
  'POST /occurrences': `The name is unique within its occurrence type (409 naming \`occurrenceTypeId\` and \`name\`). The SLA (slaValue + slaUnit, both required) is at most ${SLA_MAX_DAYS} days.`,
  'PATCH /occurrences/:id':
    'The occurrence type is fixed at creation (`occurrenceTypeId` here is a 400): tickets and mailboxes name the type and the occurrence together, and moving it would break them. ' +
    `slaValue and slaUnit may be changed one at a time; together they stay at most ${SLA_MAX_DAYS} days.`,
  'DELETE /occurrences/:id': 'An occurrence with solutions, or named by a mailbox or a ticket, cannot be deleted (409 naming them): delete its solutions first.',
};

export function occurrencesRoutes(deps: AppDeps): FastifyPluginAsyncZod {
  return async (app) => {
    crudRoutes(app, {
      descriptions: DESCRIPTIONS,
      path: '/occurrences',
      noun: 'occurrence',
      tag: 'occurrences',
      schemas: { entity: occurrence, create: occurrenceCreate, update: occurrenceUpdate, listQuery: occurrenceListQuery },
      store: occurrences,
      sql: deps.sql,
      // Live tickets computed from it re-plan their SLA timers (a create concerns none), in the
      // background: a change touching thousands of tickets does not hold the request.
      changed: async ({ id, deleted }) => void (deleted || replanTickets(app.log, deps, { occurrenceId: id }, `occurrence ${id} changed`)),
      // A create's SLA is checked by its schema; a change of one half is checked against the stored other half.
      check: async (input, id) => {
        const patch = input as OccurrenceUpdate;
        if (id === undefined || (patch.slaValue === undefined && patch.slaUnit === undefined)) return;
        const stored = await occurrences.get(deps.sql, id);
        if (!stored) return;
        const tooLong = slaTooLong(patch.slaValue ?? stored.slaValue, patch.slaUnit ?? stored.slaUnit);
        if (tooLong) throw badRequest(patch.slaValue !== undefined ? 'body.slaValue' : 'body.slaUnit', tooLong);
      },
    });
  };
}
