import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { Queryable } from '../../db/client.js';
import { isPostgresError } from '../../db/constraint-errors.js';
import { solutions } from '../../db/solutions.js';
import { MAX_STEPS, solution, solutionCreate, solutionListQuery, solutionUpdate, type SolutionStepInput } from '../../schemas/solutions.js';
import { crudRoutes } from '../crud-routes.js';
import type { AppDeps } from '../deps.js';
import { badRequest, HttpProblem } from '../plugins/errors.js';

/** What the API docs say about these routes, besides the schemas (decisions the spec leaves open). */
const DESCRIPTIONS: Record<string, string> = {
  'GET /solutions': 'Filters: `occurrenceId`, `flow`, `name` (part of it, any case); oldest first. Each solution comes with its steps in flow order (`position` 1..n).',
  'POST /solutions':
    `The steps (1 to ${MAX_STEPS}) run in the order of the list. An occurrence may have any number of \`main\` solutions and at most one \`alternative\` ` +
    '(the one a ticket switches to, SPEC §7): a second is a 409 naming `flow`. The name is unique within the occurrence (409 naming `occurrenceId` and `name`).',
  'PATCH /solutions/:id':
    '`steps` replaces the whole list (in one transaction with the other fields). The occurrence is fixed at creation (`occurrenceId` here is a 400): ' +
    'mailboxes name the occurrence and its solution together. Changing `flow` to `alternative` is a 409 when the occurrence already has another one.',
  'DELETE /solutions/:id': 'Its steps go with it. A solution a mailbox starts on its tickets cannot be deleted (409 naming the mailbox).',
};

/** The database's refusals that name something inside the body, in the body's words. */
async function explained(sql: Queryable, err: unknown, steps: SolutionStepInput[] | undefined): Promise<never> {
  if (isPostgresError(err) && err.constraint_name === 'solution_one_alternative') {
    const occurrenceId = /=\((\d+)\)/.exec(err.detail ?? '')?.[1];
    const [other] = await sql<{ id: number; name: string }[]>`SELECT id, name FROM solution WHERE occurrence_id = ${occurrenceId ?? null} AND flow = 'alternative'`;
    const message = `occurrence ${occurrenceId} already has its alternative solution${other ? ` «${other.name}» (id ${other.id})` : ''}; an occurrence has at most one: change that one, or make this one main`;
    throw new HttpProblem(409, 'Conflict', `body.flow: ${message}`, [{ field: 'body.flow', message }]);
  }
  if (isPostgresError(err) && err.constraint_name === 'solution_step_sector_id_fkey' && steps) {
    const sectorId = Number(/=\((\d+)\)/.exec(err.detail ?? '')?.[1]);
    const index = steps.findIndex((s) => s.sectorId === sectorId);
    if (index >= 0) throw badRequest(`body.steps.${index}.sectorId`, `there is no sector with id ${sectorId}`);
  }
  throw err;
}

export function solutionsRoutes(deps: AppDeps): FastifyPluginAsyncZod {
  return async (app) => {
    crudRoutes(app, {
      descriptions: DESCRIPTIONS,
      path: '/solutions',
      noun: 'solution',
      tag: 'solutions',
      schemas: { entity: solution, create: solutionCreate, update: solutionUpdate, listQuery: solutionListQuery },
      store: {
        ...solutions,
        create: (sql, input) => solutions.create(sql, input).catch((err: unknown) => explained(sql, err, input.steps)),
        update: (sql, id, patch) => solutions.update(sql, id, patch).catch((err: unknown) => explained(sql, err, patch.steps)),
      },
      sql: deps.sql,
    });
  };
}
