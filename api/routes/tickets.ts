import type { FastifyReply } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { defined } from '../../db/crud.js';
import { ticketFilters as savedFilters } from '../../db/ticket-filters.js';
import { getTicketAttachment, getTicketJson, listTickets } from '../../db/tickets.js';
import { ANY_ROLE } from '../../domain/roles.js';
import { attachmentPath, protocolPath, ticketDetail, ticketFilters, ticketListQuery, ticketPage, type TicketDetail, type TicketFilters } from '../../schemas/tickets.js';
import type { AppDeps } from '../deps.js';
import { badRequest, notFound } from '../plugins/errors.js';
import { caller } from '../plugins/auth.js';

/** A Content-Type safe to send back: `type/subtype` in token characters, else octet-stream. */
function safeContentType(contentType: string): string {
  const type = contentType.trim().toLowerCase();
  return /^[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]+$/.test(type) ? type : 'application/octet-stream';
}

/**
 * `Content-Disposition: attachment` with the name as sent (RFC 6266): `filename*` carries
 * it in UTF-8, percent-encoded (RFC 8187 attr-chars only), and `filename` an ASCII copy for
 * old clients with quotes, backslashes, controls and non-ASCII replaced. Path separators
 * become `_` in both, so a name can never point into a folder.
 */
export function contentDisposition(filename: string): string {
  // eslint-disable-next-line no-control-regex -- control characters are what it removes
  const name = filename.replace(/\p{Cs}/gu, '\uFFFD').replace(/[/\\]/g, '_').replace(/[\u0000-\u001f\u007f]/g, '') || 'attachment';
  const ascii = name.replace(/[^\x20-\x7e]|["%]/g, '_');
  const encoded = encodeURIComponent(name).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encoded}`;
}

/** Sends stored bytes as a download the browser will not render or sniff. */
export function sendDownload(reply: FastifyReply, d: { filename: string; contentType: string; content: Buffer }) {
  return reply
    .header('content-type', safeContentType(d.contentType))
    .header('content-disposition', contentDisposition(d.filename))
    .header('x-content-type-options', 'nosniff')
    .header('content-security-policy', "default-src 'none'; sandbox")
    .send(d.content);
}

/** The OpenAPI description of a download's 200. */
export const download = (contentType: string, description: string) => ({ description, content: { [contentType]: { schema: z.string().describe('the bytes') } } });

export function ticketRoutes(deps: AppDeps): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/tickets',
      {
        config: { roles: ANY_ROLE },
        schema: {
          summary: 'List tickets, newest first',
          description:
            'Every filter of the list is optional; the ones given must all match. `filterId` applies a saved ticket filter (one you can see: ' +
            'yours, one shared with a sector of yours, or any for an admin); a parameter given next to it overrides the saved value. ' +
            'Pages: pass `nextBefore` back as `before` (keyset pagination, as fast on page 1,000 as on page 1). ' +
            'Items leave out the description, messages, attachments and timeline: read one ticket for those.',
          tags: ['tickets'],
          querystring: ticketListQuery,
          response: { 200: ticketPage },
        },
      },
      async (req) => {
        const { filterId, ...given } = req.query;
        let saved: TicketFilters = {};
        if (filterId !== undefined) {
          const found = await savedFilters.get(deps.sql, caller(req), filterId);
          if (!found) throw badRequest('querystring.filterId', `there is no ticket filter with id ${filterId} that you can use`);
          const parsed = ticketFilters.safeParse(found.filters);
          if (!parsed.success) throw badRequest('querystring.filterId', `the ticket filter ${filterId} no longer fits the list's filters: change it`);
          saved = parsed.data;
        }
        return listTickets(deps.sql, { ...saved, ...defined(given), limit: given.limit });
      },
    );

    app.get(
      '/tickets/:protocol',
      {
        config: { roles: ANY_ROLE },
        schema: {
          summary: 'One ticket by its protocol, with its messages, attachments, steps and timeline',
          description:
            '`messages` are the e-mails of the ticket, oldest first (the one it was opened from, then the replies appended to it); `attachments` are those of its ' +
            'messages, each with the `url` that downloads it; `timeline` is every recorded event, oldest first.',
          tags: ['tickets'],
          params: protocolPath,
          response: { 200: ticketDetail },
        },
      },
      async (req, reply) => {
        // PostgreSQL builds the whole document (db/tickets.ts getTicketJson); it is sent as it
        // comes, without parsing and serializing it again. tickets-api.test.ts pins its shape.
        const json = await getTicketJson(deps.sql, req.params.protocol);
        if (json === undefined) throw notFound(`There is no ticket with protocol ${req.params.protocol}.`);
        // (A string payload is sent as is; the type provider only knows the object form.)
        return reply.type('application/json; charset=utf-8').send(json as unknown as TicketDetail);
      },
    );

    app.get(
      '/tickets/:protocol/attachments/:id',
      {
        config: { roles: ANY_ROLE },
        schema: {
          summary: 'Download an attachment of a ticket',
          description:
            'The bytes as received, with the attachment\'s content type (`application/octet-stream` when it is not a plain `type/subtype`), ' +
            '`Content-Disposition: attachment` with the file name (RFC 6266: `filename*` in UTF-8, an ASCII `filename` for old clients), ' +
            '`X-Content-Type-Options: nosniff` and a sandboxing Content-Security-Policy, so a browser saves it and never renders it as this site. ' +
            'An attachment of another ticket is a 404.',
          tags: ['tickets'],
          params: attachmentPath,
          response: { 200: download('application/octet-stream', 'the attachment, in its own content type') },
        },
      },
      async (req, reply) => {
        const { protocol, id } = req.params;
        const found = await getTicketAttachment(deps.sql, protocol, id);
        if (!found) throw notFound(`Ticket ${protocol} has no attachment with id ${id}.`);
        return sendDownload(reply, { ...found, filename: found.filename ?? `attachment-${id}` });
      },
    );
  };
}
