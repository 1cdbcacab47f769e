import type { UpdateDefinition } from '@temporalio/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { notAnswered, rejectionReason, sendTicketUpdate, TICKET_UPDATE_DEADLINE_MS } from '../../clients/ticket.js';
import { changeStatusUpdate, reassignUpdate, reclassifyUpdate, type Actor, type TicketView } from '../../contracts/ticket.js';
import { occurrences } from '../../db/occurrences.js';
import { sectors } from '../../db/sectors.js';
import { actionTarget, type ActionTarget } from '../../db/ticket-steps.js';
import { getTicketJson } from '../../db/tickets.js';
import { users } from '../../db/users.js';
import { TICKET_ROLES } from '../../domain/roles.js';
import { FINAL_STATUSES } from '../../domain/ticket-status.js';
import { reassignment, reclassification, statusChange } from '../../schemas/ticket-actions.js';
import { protocolPath, ticketDetail, type TicketDetail } from '../../schemas/tickets.js';
import type { AppDeps } from '../deps.js';
import { caller } from '../plugins/auth.js';
import { badRequest, conflict, HttpProblem, notFound } from '../plugins/errors.js';
import { problem } from '../schemas.js';


/** What every action route says of its answers, besides its own rules. */
export const ACTION_ANSWERS =
  'The change is sent to the ticket\'s workflow `ticket:<protocol>` (started if it is not running), which applies it or refuses it. ' +
  'Success: 200 with the ticket as `GET /tickets/{protocol}` shows it, the change and its timeline event included. ' +
  'A ticket that does not exist is a 404. A `closed` or `cancelled` ticket is a 409 at once: nothing changes it, and a new e-mail from the customer opens a new ticket. ' +
  'When the workflow refuses, 409 with its reason in `detail` (e.g. "a resolved ticket can only become open or closed, not cancelled"); nothing was changed or recorded. ' +
  `When Temporal does not answer within ${TICKET_UPDATE_DEADLINE_MS / 1000} s, 503: the change may still apply, so read the ticket before trying again.`;

/** The OpenAPI responses of an action: the ticket, or a 503 when Temporal does not answer. */
export const actionResponses = {
  200: ticketDetail,
  503: { description: 'Temporal did not answer in time', content: { 'application/problem+json': { schema: problem } } },
};

/** The note of an action, left out when none was given (or it was blank). */
export const hasNote = (note: string | null | undefined) => (note ? { note } : {});

/** Who acts, as the ticket's workflow checks and records it. */
export function actorOf(req: FastifyRequest): Actor {
  const me = caller(req);
  return { userId: me.id, login: me.login, role: me.role, sectorIds: me.sectorIds };
}

/**
 * Runs an action on a ticket: 404 when there is none, 409 when it has ended, `check` (the
 * request's own references, against the database), then the update to the ticket's workflow;
 * answers with the ticket as the database has it afterwards (the workflow writes before it
 * answers).
 */
export async function actOnTicket<A>(
  deps: AppDeps,
  reply: FastifyReply,
  a: { protocol: string; stepId?: number; update: UpdateDefinition<TicketView, [A]>; arg: A; check?: (target: ActionTarget) => Promise<void> | void },
): Promise<FastifyReply> {
  const { protocol } = a;
  const target = await actionTarget(deps.sql, protocol, a.stepId);
  if (!target) throw notFound(`There is no ticket with protocol ${protocol}.`);
  if (FINAL_STATUSES.includes(target.status)) {
    throw conflict(`Ticket ${protocol} is ${target.status}; nothing can change it. A new e-mail from the customer opens a new ticket.`);
  }
  await a.check?.(target);
  try {
    await sendTicketUpdate(deps.temporal.client, deps.temporal.taskQueue, protocol, a.update, a.arg);
  } catch (err) {
    const reason = rejectionReason(err);
    if (reason !== undefined) throw conflict(reason);
    if (notAnswered(err)) {
      throw new HttpProblem(
        503,
        'Service Unavailable',
        `The workflow of ticket ${protocol} did not answer within ${TICKET_UPDATE_DEADLINE_MS / 1000} s (Temporal or its workers may be down). ` +
          'The change may still apply: read the ticket before trying again.',
      );
    }
    throw err;
  }
  const json = await getTicketJson(deps.sql, protocol);
  if (json === undefined) throw notFound(`There is no ticket with protocol ${protocol} any more.`);
  // Sent as PostgreSQL built it, like GET /tickets/{protocol} (a string payload is sent as is).
  return reply.type('application/json; charset=utf-8').send(json as unknown as TicketDetail);
}

export function ticketActionRoutes(deps: AppDeps): FastifyPluginAsyncZod {
  return async (app) => {
    app.post(
      '/tickets/:protocol/status',
      {
        config: { roles: TICKET_ROLES },
        schema: {
          summary: 'Change a ticket\'s status: resolve, close, cancel, wait for the customer, reopen',
          description:
            'The changes SPEC §8 allows: `open` ↔ `waiting_customer`; `open` or `waiting_customer` → `resolved` or `cancelled`; ' +
            '`resolved` → `open` (reopen) or `closed`. Anything else is a 409 saying what the ticket can become. ' +
            'Waiting for the customer pauses the SLA clock and going back to `open` resumes it (the due time moves by the time paused); ' +
            'resolving stops it. A reply from the customer reopens a resolved ticket by itself. ' +
            ACTION_ANSWERS,
          tags: ['tickets'],
          params: protocolPath,
          body: statusChange,
          response: actionResponses,
        },
      },
      async (req, reply) => {
        const { status, note } = req.body;
        return actOnTicket(deps, reply, { protocol: req.params.protocol, update: changeStatusUpdate, arg: { status, ...hasNote(note), actor: actorOf(req) } });
      },
    );

    app.post(
      '/tickets/:protocol/assignee',
      {
        config: { roles: TICKET_ROLES },
        schema: {
          summary: 'Reassign a ticket to another user',
          description:
            'Manual reassignment (SPEC §5): audited on the timeline with who did it and the note, and the assignment workflows of the ' +
            'former and the new assignee\'s pools are told, so their counts of open tickets stay right. ' +
            'A user that does not exist or is deactivated is a 400 naming `body.userId`. ' +
            ACTION_ANSWERS,
          tags: ['tickets'],
          params: protocolPath,
          body: reassignment,
          response: actionResponses,
        },
      },
      async (req, reply) => {
        const { userId, note } = req.body;
        return actOnTicket(deps, reply, {
          protocol: req.params.protocol,
          update: reassignUpdate,
          arg: { userId, ...hasNote(note), actor: actorOf(req) },
          check: async () => {
            const user = await users.get(deps.sql, userId);
            if (!user) throw badRequest('body.userId', `there is no user with id ${userId}`);
            if (!user.active) throw badRequest('body.userId', `user ${userId} (${user.login}) is deactivated: reactivate them first, or choose another user`);
          },
        });
      },
    );

    app.patch(
      '/tickets/:protocol',
      {
        config: { roles: TICKET_ROLES },
        schema: {
          summary: 'Reclassify a ticket: another occurrence, another sector',
          description:
            'Give `occurrenceId`, `sectorId` or both. The SLA is planned again (SPEC §6): the new occurrence\'s SLA (or the customer\'s ' +
            'active contract\'s), counted on the calendar of the ticket\'s sector. ' +
            'An id that does not exist is a 400 naming the field. ' +
            ACTION_ANSWERS,
          tags: ['tickets'],
          params: protocolPath,
          body: reclassification,
          response: actionResponses,
        },
      },
      async (req, reply) => {
        const { occurrenceId, sectorId, note } = req.body;
        return actOnTicket(deps, reply, {
          protocol: req.params.protocol,
          update: reclassifyUpdate,
          arg: { ...(occurrenceId !== undefined ? { occurrenceId } : {}), ...(sectorId !== undefined ? { sectorId } : {}), ...hasNote(note), actor: actorOf(req) },
          check: async () => {
            if (occurrenceId !== undefined && !(await occurrences.get(deps.sql, occurrenceId))) {
              throw badRequest('body.occurrenceId', `there is no occurrence with id ${occurrenceId}`);
            }
            if (sectorId !== undefined && !(await sectors.get(deps.sql, sectorId))) throw badRequest('body.sectorId', `there is no sector with id ${sectorId}`);
          },
        });
      },
    );
  };
}
