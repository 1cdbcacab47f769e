import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { solutionGroups } from '../../db/solution-groups.js';
import { solutionGroup, solutionGroupCreate, solutionGroupListQuery, solutionGroupUpdate, type SolutionGroupUpdate } from '../../schemas/solution-groups.js';
import { crudRoutes } from '../crud-routes.js';
import type { AppDeps } from '../deps.js';
import { byWhom, POOLS_TOLD_TEXT, tellPools } from './users.js';

const POOL_TOLD = POOLS_TOLD_TEXT('a change of `memberIds` or a deletion of a group: the group\'s own pool');

/** What the API docs say about these routes, besides the schemas (decisions the spec leaves open). */
const DESCRIPTIONS: Record<string, string> = {
  'GET /solution-groups': 'Filters: `name` (part of it, any case), `memberId` (groups with this user); oldest first.',
  'POST /solution-groups':
    'The name is unique (409 naming `name`). Members may be users of any role, active or not (balanced distribution gives tickets only to active members, SPEC §5); ' +
    'a user in `memberIds` that does not exist is a 400 naming `body.memberIds`.',
  'PATCH /solution-groups/:id': `\`memberIds\` replaces the whole list. ${POOL_TOLD}`,
  'DELETE /solution-groups/:id': `A group that occurrence types or occurrences name cannot be deleted (409 naming them): change those first. Deleting a user removes them from every group. ${POOL_TOLD}`,
};

export function solutionGroupsRoutes(deps: AppDeps): FastifyPluginAsyncZod {
  return async (app) => {
    // Balanced distribution (SPEC §5): the group's assignment workflow hears of a change of its
    // members (or of the group's deletion) once it is saved, before the answer.
    app.addHook('onSend', async (req, reply, payload) => {
      if (req.routeOptions.url !== '/solution-groups/:id' || reply.statusCode >= 300) return payload;
      const id = (req.params as { id: number }).id;
      const memberIds = req.method === 'PATCH' ? (req.body as SolutionGroupUpdate | undefined)?.memberIds : undefined;
      if (req.method === 'DELETE') await tellPools(deps.temporal.client, req.log, [{ kind: 'group', id }], `solution group ${id} deleted ${byWhom(req)}`);
      else if (memberIds !== undefined) {
        await tellPools(deps.temporal.client, req.log, [{ kind: 'group', id }], `solution group ${id} members set to [${memberIds.join(', ')}] ${byWhom(req)}`);
      }
      return payload;
    });
    crudRoutes(app, {
      descriptions: DESCRIPTIONS,
      path: '/solution-groups',
      noun: 'solution group',
      tag: 'solution groups',
      schemas: { entity: solutionGroup, create: solutionGroupCreate, update: solutionGroupUpdate, listQuery: solutionGroupListQuery },
      store: {
        ...solutionGroups,
        create: (sql, input) => solutionGroups.create(sql, input),
        update: (sql, id, patch) => solutionGroups.update(sql, id, patch),
      },
      sql: deps.sql,
    });
  };
}
