import { randomUUID } from 'node:crypto';
import { WorkflowFailedError } from '@temporalio/client';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { runPreTicketConversion, TRIAGE_DEADLINE_MS } from '../../clients/triage.js';
import { triageWorkflowId, type PreTicketConversionResult } from '../../contracts/triage.js';
import { mailboxRuleFacts } from '../../db/mailboxes.js';
import { discardPreTicket, getPreTicket, listPreTickets } from '../../db/pre-tickets.js';
import { getTicketJson } from '../../db/tickets.js';
import { mailboxRuleViolations } from '../../domain/mailbox-rules.js';
import { TICKET_ROLES } from '../../domain/roles.js';
import { preTicket, preTicketConversion, preTicketDiscard, preTicketListQuery, preTicketPage, preTicketPath, type PreTicket, type PreTicketConversion } from '../../schemas/pre-tickets.js';
import { ticketDetail, type TicketDetail } from '../../schemas/tickets.js';
import type { Queryable } from '../../db/client.js';
import type { AppDeps } from '../deps.js';
import { caller } from '../plugins/auth.js';
import { conflict, HttpProblem, notFound } from '../plugins/errors.js';
import { problem } from '../schemas.js';

const tags = ['pre-tickets'];

const missing = (emailId: number) => notFound(`There is no pre-ticket with e-mail id ${emailId} (see GET /pre-tickets; an e-mail is a pre-ticket when its outcome is pre_ticket).`);

/** Why a decided pre-ticket cannot be decided again, naming what was decided. */
function alreadyDecided(emailId: number, d: Pick<PreTicket, 'converted' | 'discarded'> | PreTicketConversionResult): HttpProblem {
  const converted = 'kind' in d ? (d.kind === 'converted' ? d : null) : d.converted;
  const discarded = 'kind' in d ? (d.kind === 'discarded' ? d : null) : d.discarded;
  if (converted) return conflict(`Pre-ticket ${emailId} was already converted into ticket ${converted.protocol} by ${converted.by} at ${converted.at}; see GET /tickets/${converted.protocol}.`);
  return conflict(`Pre-ticket ${emailId} was discarded by ${discarded?.by} at ${discarded?.at} («${discarded?.reason}»); it cannot be converted or discarded again.`);
}

/** The classification's own rules (SPEC §3 rules 2 and 3, without the mailbox's sector): each a 400 naming its field. */
async function checkClassification(sql: Queryable, b: PreTicketConversion): Promise<void> {
  const s = { sectorId: null, autoConvert: false, creatorUserId: null, occurrenceTypeId: b.occurrenceTypeId, occurrenceId: b.occurrenceId, solutionId: b.solutionId ?? null, autoDistribute: false, distributionTarget: null };
  const facts = await mailboxRuleFacts(sql, s);
  const errors = [
    ...(facts.occurrenceType ? [] : [{ field: 'body.occurrenceTypeId', message: `there is no occurrence type with id ${b.occurrenceTypeId}` }]),
    ...(facts.occurrence ? [] : [{ field: 'body.occurrenceId', message: `there is no occurrence with id ${b.occurrenceId}` }]),
    ...(s.solutionId === null || facts.solution ? [] : [{ field: 'body.solutionId', message: `there is no solution with id ${s.solutionId}` }]),
    ...mailboxRuleViolations(s, facts).map((v) => ({ field: `body.${v.field}`, message: v.message })),
  ];
  if (errors.length > 0) throw new HttpProblem(400, 'Bad Request', errors.map((e) => `${e.field}: ${e.message}`).join('; '), errors);
}

/** Triage (SPEC §4.5): pre-tickets listed, converted into tickets, or discarded. */
export function preTicketRoutes(deps: AppDeps): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/pre-tickets',
      {
        config: { roles: TICKET_ROLES },
        schema: {
          summary: 'Pre-tickets: e-mails of mailboxes that do not convert automatically, waiting in triage',
          description:
            'E-mails whose outcome is `pre_ticket`, newest first, paginated like `GET /emails`. `status` chooses the pending ones (the default), ' +
            'those converted into a ticket, or those discarded; `sender` matches part of the sender\'s address or name in any case; ' +
            '`receivedFrom` (inclusive) and `receivedTo` (exclusive) bound when the e-mail was received.',
          tags,
          querystring: preTicketListQuery,
          response: { 200: preTicketPage },
        },
      },
      async (req) => listPreTickets(deps.sql, req.query),
    );

    app.get(
      '/pre-tickets/:emailId',
      {
        config: { roles: TICKET_ROLES },
        schema: {
          summary: 'One pre-ticket and what was decided for it',
          description: 'Pending, or converted (the ticket, who, when) or discarded (the reason, who, when). The e-mail itself is `GET /emails/{id}`.',
          tags,
          params: preTicketPath,
          response: { 200: preTicket },
        },
      },
      async (req) => (await getPreTicket(deps.sql, req.params.emailId)) ?? Promise.reject(missing(req.params.emailId)),
    );

    app.post(
      '/pre-tickets/:emailId/convert',
      {
        config: { roles: TICKET_ROLES },
        schema: {
          summary: 'Convert a pre-ticket into a ticket',
          description:
            'As its mailbox would have converted the e-mail (SPEC §4.6–§4.9), with the classification chosen here: the customer whose e-mail is the sender\'s ' +
            '(or a new one named after the address, with the mailbox\'s customer type and region); the ticket with this occurrence type and occurrence ' +
            '(its sector and SLA from them), the caller as its creator, and `created` and `converted_from_pre_ticket` on its timeline with the caller as actor; ' +
            'the solution `solutionId` started (without one, the mailbox\'s solution when it belongs to the occurrence); distribution when the mailbox distributes ' +
            'automatically (among the occurrence\'s pool); then the ticket\'s workflow `ticket:<protocol>`. ' +
            'It runs as the workflow `triage:<emailId>`, so a pre-ticket is converted once: of two requests at once, one gets 201 and the other 409 naming the ticket. ' +
            'The occurrence must belong to the type, and the solution to the occurrence (400 naming the field). ' +
            'A converted or discarded pre-ticket is a 409. ' +
            `If Temporal does not answer within ${TRIAGE_DEADLINE_MS / 1000} s, 503: the conversion may still happen, so read the pre-ticket before asking again.`,
          tags,
          params: preTicketPath,
          body: preTicketConversion,
          response: { 201: ticketDetail, 503: problem },
        },
      },
      async (req, reply) => {
        const { emailId } = req.params;
        const found = await getPreTicket(deps.sql, emailId);
        if (!found) throw missing(emailId);
        if (found.status !== 'pending') throw alreadyDecided(emailId, found);
        await checkClassification(deps.sql, req.body);
        const me = caller(req);
        const request = {
          emailId,
          requestId: randomUUID(),
          actor: { userId: me.id, login: me.login, sectorIds: me.sectorIds },
          occurrenceTypeId: req.body.occurrenceTypeId,
          occurrenceId: req.body.occurrenceId,
          solutionId: req.body.solutionId ?? null,
        };
        let result: PreTicketConversionResult;
        try {
          result = await runPreTicketConversion({
            client: deps.temporal.client,
            taskQueue: deps.temporal.taskQueue,
            request,
            summary: `Pre-ticket ${emailId} converted by ${me.login}`,
          });
        } catch (err) {
          if (err instanceof WorkflowFailedError) {
            // The conversion refused the e-mail (e.g. its sender address is not one): nothing was converted.
            throw conflict(`Pre-ticket ${emailId} could not be converted: ${(err.cause?.cause as Error | undefined)?.message ?? err.cause?.message ?? err.message}`);
          }
          req.log.error({ err, emailId }, 'the conversion workflow did not answer');
          throw new HttpProblem(
            503,
            'Service Unavailable',
            `The conversion of pre-ticket ${emailId} (workflow ${triageWorkflowId(emailId)}) did not answer within ${TRIAGE_DEADLINE_MS / 1000} s (Temporal or its workers may be down). ` +
              `It may still happen: read GET /pre-tickets/${emailId} before asking again.`,
          );
        }
        if (result.kind !== 'converted' || result.requestId !== request.requestId) throw alreadyDecided(emailId, result);
        const json = await getTicketJson(deps.sql, result.protocol);
        if (json === undefined) throw notFound(`There is no ticket with protocol ${result.protocol} any more.`);
        return reply.code(201).type('application/json; charset=utf-8').send(json as unknown as TicketDetail);
      },
    );

    app.post(
      '/pre-tickets/:emailId/discard',
      {
        config: { roles: TICKET_ROLES },
        schema: {
          summary: 'Discard a pre-ticket, with the reason',
          description:
            'It becomes no ticket; the reason, who and when are kept (`GET /pre-tickets/{emailId}`, `status=discarded` in the list). ' +
            'A pre-ticket converted (or being converted and committed first) or discarded already is a 409 naming what was decided.',
          tags,
          params: preTicketPath,
          body: preTicketDiscard,
          response: { 200: preTicket },
        },
      },
      async (req) => {
        const { emailId } = req.params;
        const me = caller(req);
        const done = await discardPreTicket(deps.sql, { emailId, reason: req.body.reason, userId: me.id, login: me.login });
        if (done.kind === 'missing' || done.kind === 'not-pre-ticket') throw missing(emailId);
        if (!done.first) throw alreadyDecided(emailId, done);
        return (await getPreTicket(deps.sql, emailId)) ?? Promise.reject(missing(emailId));
      },
    );
  };
}
