import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { listEmails } from '../../db/email-queries.js';
import { EMAIL_OUTCOMES } from '../../domain/email-outcome.js';
import { ANY_ROLE } from '../../domain/roles.js';
import { boolParam, enumParam, idParam, intParam } from '../../schemas/common.js';
import type { AppDeps } from '../deps.js';

const email = z.object({
  id: z.number(),
  mailboxId: z.number(),
  uidValidity: z.number(),
  uid: z.number(),
  messageId: z.string().nullable(),
  size: z.number(),
  receivedAt: z.string(),
  subject: z.string().nullable(),
  fromAddress: z.string().nullable(),
  outcome: z.enum(EMAIL_OUTCOMES).nullable(),
  outcomeReason: z.string().nullable(),
  protocol: z.string().nullable(),
});

export function emailRoutes(deps: AppDeps): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/emails',
      {
        config: { roles: ANY_ROLE },
        schema: {
          summary: 'Received e-mails and their outcomes (ticket_created, pre_ticket, ignored, quarantined, ...)',
          description: '`pending=true` lists e-mails still being processed (no outcome yet).',
          tags: ['emails'],
          querystring: z.object({
            limit: intParam(1, 200).default(50),
            before: idParam.optional(),
            mailboxId: idParam.optional(),
            outcome: enumParam(EMAIL_OUTCOMES).optional(),
            pending: boolParam.optional(),
          }),
          response: { 200: z.object({ items: z.array(email), nextBefore: z.number().nullable() }) },
        },
      },
      async (req) => {
        const { before, limit, ...filter } = req.query;
        const page = await listEmails(deps.sql, { ...filter, beforeId: before, limit });
        return { items: page.items, nextBefore: page.nextBeforeId };
      },
    );
  };
}
