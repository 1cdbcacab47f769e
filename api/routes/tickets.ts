import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { getTicketByProtocol, listTickets, SLA_STATES, TICKET_STATUSES } from '../../db/ticket-queries.js';
import { PROTOCOL_PATTERN } from '../../domain/protocol.js';
import { ANY_ROLE } from '../../domain/roles.js';
import { enumParam, idParam, intParam } from '../../schemas/common.js';
import type { AppDeps } from '../deps.js';
import { notFound } from '../plugins/errors.js';

const ticket = z.object({
  protocol: z.string(),
  status: z.enum(TICKET_STATUSES),
  subject: z.string(),
  description: z.string(),
  channel: z.string(),
  customer: z.object({ id: z.number(), code: z.string().nullable(), name: z.string(), email: z.string().nullable() }),
  mailboxId: z.number().nullable(),
  creatorUserId: z.number().nullable(),
  occurrenceTypeId: z.number().nullable(),
  occurrenceId: z.number().nullable(),
  sectorId: z.number().nullable(),
  assigneeUserId: z.number().nullable(),
  slaDueAt: z.string().nullable(),
  slaState: z.enum(SLA_STATES),
  createdAt: z.string(),
  updatedAt: z.string(),
});

export function ticketRoutes(deps: AppDeps): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/tickets',
      {
        config: { roles: ANY_ROLE },
        schema: {
          summary: 'List tickets, newest first',
          tags: ['tickets'],
          querystring: z.object({
            limit: intParam(1, 200).default(50),
            before: idParam.optional(),
            mailboxId: idParam.optional(),
            channel: enumParam(['email', 'api']).optional(),
            occurrenceTypeId: idParam.optional(),
            occurrenceId: idParam.optional(),
            creatorUserId: idParam.optional(),
            assigneeUserId: idParam.optional(),
            sectorId: idParam.optional(),
            status: enumParam(TICKET_STATUSES).optional(),
            slaState: enumParam(SLA_STATES).optional(),
          }),
          response: { 200: z.object({ items: z.array(ticket), nextBefore: z.number().nullable() }) },
        },
      },
      async (req) => {
        const { before, limit, ...filter } = req.query;
        const page = await listTickets(deps.sql, { ...filter, beforeId: before, limit });
        return { items: page.items, nextBefore: page.nextBeforeId };
      },
    );

    app.get(
      '/tickets/:protocol',
      {
        config: { roles: ANY_ROLE },
        schema: {
          summary: 'One ticket by its protocol',
          tags: ['tickets'],
          params: z.object({ protocol: z.string().regex(PROTOCOL_PATTERN, 'a protocol is 10 or more digits, e.g. 2026000001') }),
          response: { 200: ticket },
        },
      },
      async (req) => {
        const found = await getTicketByProtocol(deps.sql, req.params.protocol);
        if (!found) throw notFound(`There is no ticket with protocol ${req.params.protocol}.`);
        return found;
      },
    );
  };
}
