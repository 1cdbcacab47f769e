import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { reprocessWorkflowId, startEmailWorkflow } from '../../clients/email-workflows.js';
import { reopenQuarantined } from '../../db/inbound-email-operations.js';
import { getEmail, getEmailAttachment, getRaw, listEmails } from '../../db/inbound-emails.js';
import { ADMIN_ONLY, ANY_ROLE } from '../../domain/roles.js';
import { idPath } from '../../schemas/common.js';
import { emailAttachmentPath, emailDetail, emailListQuery, emailPage, emailReprocessing } from '../../schemas/emails.js';
import type { AppDeps } from '../deps.js';
import { caller } from '../plugins/auth.js';
import { conflict, HttpProblem, notFound } from '../plugins/errors.js';
import { problem } from '../schemas.js';
import { download, sendDownload } from './tickets.js';

export function emailRoutes(deps: AppDeps): FastifyPluginAsyncZod {
  return async (app) => {
    const missing = (id: number) => notFound(`There is no e-mail with id ${id}.`);

    app.get(
      '/emails',
      {
        config: { roles: ANY_ROLE },
        schema: {
          summary: 'Received e-mails and their outcomes (ticket_created, pre_ticket, ignored, quarantined, ...)',
          description: '`pending=true` lists e-mails still being processed (no outcome yet), `pending=false` those with one.',
          tags: ['emails'],
          querystring: emailListQuery,
          response: { 200: emailPage },
        },
      },
      async (req) => listEmails(deps.sql, req.query),
    );

    app.get(
      '/emails/:id',
      {
        config: { roles: ANY_ROLE },
        schema: {
          summary: 'One received e-mail: its header fields, outcome and attachments',
          description:
            '`headers` are read from the raw message\'s header block, in order, each `{ name, value }` with folded lines joined and ' +
            'the value as written (RFC 2047 encoded words are not decoded; `subject`, `fromName` and `toAddresses` are the decoded ones). ' +
            'Each attachment\'s `url` downloads it; `rawUrl` downloads the whole message.',
          tags: ['emails'],
          params: idPath,
          response: { 200: emailDetail },
        },
      },
      async (req) => (await getEmail(deps.sql, req.params.id)) ?? Promise.reject(missing(req.params.id)),
    );

    app.get(
      '/emails/:id/raw',
      {
        config: { roles: ANY_ROLE },
        schema: {
          summary: 'Download the message exactly as it was received (.eml)',
          description: 'Every byte as the mailbox gave it, as `message/rfc822`, for a mail client or for a bug report.',
          tags: ['emails'],
          params: idPath,
          response: { 200: download('message/rfc822', 'the raw message') },
        },
      },
      async (req, reply) => {
        const stored = await getRaw(deps.sql, req.params.id);
        if (!stored) throw missing(req.params.id);
        return sendDownload(reply, { filename: `email-${req.params.id}.eml`, contentType: 'message/rfc822', content: stored.raw });
      },
    );

    app.get(
      '/emails/:id/attachments/:attachmentId',
      {
        config: { roles: ANY_ROLE },
        schema: {
          summary: 'Download an attachment of an e-mail',
          description: 'As `GET /tickets/{protocol}/attachments/{id}`, for any received e-mail (a pre-ticket, a quarantined one). An attachment of another e-mail is a 404.',
          tags: ['emails'],
          params: emailAttachmentPath,
          response: { 200: download('application/octet-stream', 'the attachment, in its own content type') },
        },
      },
      async (req, reply) => {
        const { id, attachmentId } = req.params;
        const found = await getEmailAttachment(deps.sql, id, attachmentId);
        if (!found) throw notFound(`E-mail ${id} has no attachment with id ${attachmentId}.`);
        return sendDownload(reply, { ...found, filename: found.filename ?? `attachment-${attachmentId}` });
      },
    );

    app.post(
      '/emails/:id/reprocess',
      {
        config: { roles: ADMIN_ONLY },
        schema: {
          summary: 'Re-process a quarantined e-mail (after a fix)',
          description:
            'Sends a quarantined e-mail through the same e-mail workflow again, under a new workflow id (`email:<mailbox>:<uidvalidity>:<uid>:reprocess-<n>`), ' +
            'from the raw message kept when it was received: after a fix of the configuration (a mailbox limit raised, a sender\'s customer created), or of the engine. ' +
            'It ends in a new recorded outcome (follow it at `GET /emails/{id}`); the one it had moves to its history, with who asked. ' +
            'Only a quarantined e-mail can be re-processed (409 otherwise); asking again while it runs answers with the same workflow. ' +
            'If Temporal does not answer, the answer is 503 and the e-mail waits without an outcome: ask again.',
          tags: ['emails'],
          params: idPath,
          response: { 202: emailReprocessing, 503: problem },
        },
      },
      async (req, reply) => {
        const { id } = req.params;
        const reopened = await reopenQuarantined(deps.sql, id, caller(req).login);
        if (reopened.kind === 'missing') throw missing(id);
        if (reopened.kind === 'not-quarantined') {
          const state = reopened.outcome === null ? 'still being processed' : `${reopened.outcome}`;
          throw conflict(`E-mail ${id} is ${state}: only a quarantined e-mail can be re-processed.`);
        }
        const { ref, attempt } = reopened;
        const workflowId = reprocessWorkflowId(ref, attempt);
        try {
          await startEmailWorkflow({ client: deps.temporal.client, taskQueue: deps.temporal.taskQueue, ref, workflowId, summary: `E-mail ${id} re-processed (attempt ${attempt}) by ${caller(req).login}` });
        } catch (err) {
          req.log.error({ err, emailId: id }, 'could not start the re-processing workflow');
          throw new HttpProblem(503, 'Service Unavailable', `E-mail ${id} is reopened, but its workflow ${workflowId} could not be started: Temporal did not answer. Ask again (POST /emails/${id}/reprocess).`);
        }
        return reply.code(202).send({ emailId: id, attempt, workflowId, previous: reopened.kind === 'reopened' ? reopened.previous : null });
      },
    );
  };
}
