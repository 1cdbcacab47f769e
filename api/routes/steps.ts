import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { completeStepUpdate, moveStepUpdate, switchFlowUpdate } from '../../contracts/ticket.js';
import { sectors } from '../../db/sectors.js';
import { listActiveSteps, stepQueuePosition } from '../../db/ticket-steps.js';
import type { Role } from '../../domain/roles.js';
import { activeStepPage, activeStepQuery, flowSwitch, stepCompletion, stepMove, stepPath } from '../../schemas/ticket-actions.js';
import { protocolPath } from '../../schemas/tickets.js';
import type { AppDeps } from '../deps.js';
import { caller } from '../plugins/auth.js';
import { badRequest, HttpProblem, notFound } from '../plugins/errors.js';
import { ACTION_ANSWERS, actionResponses, actOnTicket, actorOf, hasNote } from './ticket-actions.js';

/** Who acts on solution steps (SPEC §10): BackOffice staff in their sectors, admins in any. */
const STEP_ROLES: readonly Role[] = ['admin', 'backoffice'];

const TAG = 'steps';

const SECTOR_RULE =
  'BackOffice staff act on the active step of a sector they belong to; admins on any. ' +
  'A step that is not the ticket\'s active step, or not in one of your sectors, is a 409 saying so.';

export function stepRoutes(deps: AppDeps): FastifyPluginAsyncZod {
  return async (app) => {
    const { sql } = deps;

    app.get(
      '/steps',
      {
        config: { roles: STEP_ROLES },
        schema: {
          summary: 'The active solution steps of your sectors, oldest first: BackOffice\'s queue',
          description:
            'The active step (SPEC §7) of each open ticket in your sectors (an admin: every sector), the one active longest first, with its ticket, ' +
            'its sector and its own SLA (`sla` is null when the step has none). `sectorId` narrows to one sector; a BackOffice user asking ' +
            'for a sector they are not in gets a 403 naming it. Pages: pass `nextAfter` back as `after` (keyset pagination). ' +
            'Act on an item with POST /tickets/{protocol}/steps/{id}/complete or /sector, or POST /tickets/{protocol}/alternative-flow.',
          tags: [TAG],
          querystring: activeStepQuery,
          response: { 200: activeStepPage },
        },
      },
      async (req) => {
        const me = caller(req);
        const { sectorId, after, limit } = req.query;
        if (sectorId !== undefined && me.role !== 'admin' && !me.sectorIds.includes(sectorId)) {
          const name = (await sectors.get(sql, sectorId))?.name;
          const message = `you are not in sector ${name ? `«${name}» (id ${sectorId})` : sectorId}; your sectors are ${me.sectorIds.length ? me.sectorIds.join(', ') : 'none'} (leave sectorId out to see all of them)`;
          throw new HttpProblem(403, 'Forbidden', `querystring.sectorId: ${message}`, [{ field: 'querystring.sectorId', message }]);
        }
        if (after !== undefined && !(await stepQueuePosition(sql, after))?.activatedAt) {
          throw badRequest('querystring.after', `there is no step ${after} in the queue: pass the \`nextAfter\` of the previous page`);
        }
        const sectorIds = sectorId !== undefined ? [sectorId] : me.role === 'admin' ? undefined : me.sectorIds;
        return listActiveSteps(sql, { sectorIds, after, limit });
      },
    );

    app.post(
      '/tickets/:protocol/steps/:stepId/complete',
      {
        config: { roles: STEP_ROLES },
        schema: {
          summary: 'Complete the active step of a ticket',
          description:
            'With an optional note. The next step becomes active in its sector; completing the last step resolves the ticket (SPEC §7). ' +
            `${SECTOR_RULE} A step of another ticket is a 404. ${ACTION_ANSWERS}`,
          tags: [TAG],
          params: stepPath,
          body: stepCompletion,
          response: actionResponses,
        },
      },
      async (req, reply) => {
        const { protocol, stepId } = req.params;
        return actOnTicket(deps, reply, {
          protocol,
          stepId,
          update: completeStepUpdate,
          arg: { stepId, ...hasNote(req.body.note), actor: actorOf(req) },
          check: (t) => {
            if (!t.step) throw notFound(`Ticket ${protocol} has no step ${stepId}.`);
          },
        });
      },
    );

    app.post(
      '/tickets/:protocol/steps/:stepId/sector',
      {
        config: { roles: STEP_ROLES },
        schema: {
          summary: 'Move the active step of a ticket to another sector',
          description:
            'Audited on the timeline. The step stays active, in the new sector\'s queue; its SLA is counted on that sector\'s calendar. ' +
            `A sector that does not exist is a 400 naming \`body.sectorId\`. ${SECTOR_RULE} A step of another ticket is a 404. ${ACTION_ANSWERS}`,
          tags: [TAG],
          params: stepPath,
          body: stepMove,
          response: actionResponses,
        },
      },
      async (req, reply) => {
        const { protocol, stepId } = req.params;
        const { sectorId, note } = req.body;
        return actOnTicket(deps, reply, {
          protocol,
          stepId,
          update: moveStepUpdate,
          arg: { stepId, sectorId, ...hasNote(note), actor: actorOf(req) },
          check: async (t) => {
            if (!t.step) throw notFound(`Ticket ${protocol} has no step ${stepId}.`);
            if (!(await sectors.get(sql, sectorId))) throw badRequest('body.sectorId', `there is no sector with id ${sectorId}`);
          },
        });
      },
    );

    app.post(
      '/tickets/:protocol/alternative-flow',
      {
        config: { roles: STEP_ROLES },
        schema: {
          summary: 'Switch a ticket to the alternative flow',
          description:
            'The remaining steps are cancelled and the alternative solution of the ticket\'s occurrence starts at its first step (SPEC §7). ' +
            'A ticket whose occurrence has no alternative solution, or that runs it already, is a 409 saying so. ' +
            `${SECTOR_RULE} ${ACTION_ANSWERS}`,
          tags: [TAG],
          params: protocolPath,
          body: flowSwitch,
          response: actionResponses,
        },
      },
      async (req, reply) =>
        actOnTicket(deps, reply, { protocol: req.params.protocol, update: switchFlowUpdate, arg: { ...hasNote(req.body.note), actor: actorOf(req) } }),
    );
  };
}
