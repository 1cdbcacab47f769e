import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { startEmailWorkflow } from '../../clients/email-workflows.js';
import { forgetPushed, storePushed } from '../../db/inbound-email-operations.js';
import { getPushSettings } from '../../db/mailboxes.js';
import { ownMessageId } from '../../domain/mail-headers.js';
import { MAX_MAX_MESSAGE_BYTES } from '../../domain/mailbox-settings.js';
import { storableOrNull } from '../../domain/storable-text.js';
import { inboundAccepted, inboundPath } from '../../schemas/inbound.js';
import type { AppDeps } from '../deps.js';
import { HttpProblem } from '../plugins/errors.js';
import { problem } from '../schemas.js';

const RAW_TYPE = 'message/rfc822';

declare module 'fastify' {
  interface FastifyRequest {
    /** The size limit of the mailbox a message is pushed to (set before its body is read). */
    pushLimit?: number;
  }
}

/** The secret a request presents: `Authorization: Bearer <secret>`, or Basic with the secret as the password (what URL credentials give). */
export function presentedSecret(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const bearer = /^Bearer +(\S+)\s*$/i.exec(header);
  if (bearer) return bearer[1];
  const basic = /^Basic +([A-Za-z0-9+/=]+)\s*$/i.exec(header);
  if (!basic) return undefined;
  const decoded = Buffer.from(basic[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? undefined : decoded.slice(colon + 1);
}

/** Compares in constant time whatever the lengths (both sides hashed first). */
function sameSecret(a: string, b: string): boolean {
  const h = (s: string) => createHash('sha256').update(s, 'utf8').digest();
  return timingSafeEqual(h(a), h(b));
}

const DESCRIPTION = [
  'For mail servers and providers that push mail instead of being read over IMAP: the body is one raw message (RFC 5322) exactly as received, ' +
    `\`Content-Type: ${RAW_TYPE}\` (e.g. \`curl --data-binary @message.eml -H 'Content-Type: ${RAW_TYPE}' -H "Authorization: Bearer $PUSH_SECRET" .../inbound/3\`, ` +
    'or a Postfix pipe transport running that curl).',
  "Authentication is the mailbox's push secret (`pushSecret`, set with PATCH /mailboxes/{id}), not an API key: `Authorization: Bearer <secret>`, " +
    'or HTTP Basic with the secret as the password (any user name; what providers that only take a URL send for `https://push:<secret>@host/inbound/3`).',
  'The message is stored like one read over IMAP (at UIDVALIDITY 0, with a UID of its own) and goes through the same e-mail workflow, `email:<mailbox>:0:<uid>`, ' +
    'with the same Message-ID dedupe: a message already read from the mailbox, or pushed and processed before, ends `ignored` as a duplicate. ' +
    'A Message-ID pushed again while its first push has no outcome yet (a sender retrying after a timeout) stores nothing new and answers with the first (`repeated: true`).',
  "The answer is 202 once the message is stored and its workflow started; the outcome follows at `GET /emails/{emailId}`. Above the mailbox's `maxMessageBytes` the message is refused (413), " +
    'checked against Content-Length before the body is read. 404: no such mailbox, or it has no push secret; 401: a missing or wrong secret; 409: the mailbox is inactive; ' +
    '415: another content type; 503: Temporal did not answer (nothing is kept; send again).',
].join('\n\n');

/** `POST /inbound/:mailbox`: raw messages pushed over HTTP (issue 8, "push inbound"). */
export function inboundRoutes(deps: AppDeps): FastifyPluginAsyncZod {
  return async (app) => {
    // Only this plugin's routes read message/rfc822; the per-mailbox limit is checked as well.
    app.addContentTypeParser(RAW_TYPE, { parseAs: 'buffer', bodyLimit: MAX_MAX_MESSAGE_BYTES }, (_req, body, done) => done(null, body));

    /** Refuses before the body is read: no such mailbox, wrong secret, inactive, wrong type, too large. */
    async function admit(req: FastifyRequest): Promise<void> {
      const parsed = inboundPath.safeParse(req.params);
      if (!parsed.success) {
        // Refused here, not by the schema validation after the body was read.
        const message = parsed.error.issues[0]?.message ?? 'is invalid';
        throw new HttpProblem(400, 'Bad Request', `params.mailbox: ${message}`, [{ field: 'params.mailbox', message }]);
      }
      const mailboxId = parsed.data.mailbox;
      const push = await getPushSettings(deps.sql, mailboxId);
      if (!push || !push.sealedPushSecret) {
        throw new HttpProblem(404, 'Not Found', `There is no mailbox ${mailboxId} that accepts pushed mail (a mailbox accepts it once it has a pushSecret).`);
      }
      const presented = presentedSecret(req.headers.authorization);
      if (presented === undefined || !sameSecret(presented, deps.secrets.open(push.sealedPushSecret))) {
        throw new HttpProblem(401, 'Unauthorized', `Send mailbox ${mailboxId}'s push secret: Authorization: Bearer <pushSecret>, or Basic with it as the password.`);
      }
      if (!push.active) throw new HttpProblem(409, 'Conflict', `Mailbox ${mailboxId} is inactive: it accepts no mail until it is made active again.`);
      const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
      if (type !== RAW_TYPE) {
        throw new HttpProblem(415, 'Unsupported Media Type', `Send the raw message itself as the body, with Content-Type: ${RAW_TYPE}${type ? ` (not ${type})` : ''}.`);
      }
      const length = Number(req.headers['content-length']);
      if (Number.isFinite(length) && length > push.maxMessageBytes) throw tooLarge(mailboxId, length, push.maxMessageBytes);
      req.pushLimit = push.maxMessageBytes;
    }

    const tooLarge = (mailboxId: number, size: number, limit: number) =>
      new HttpProblem(413, 'Content Too Large', `The message is ${size} bytes; mailbox ${mailboxId} takes at most ${limit} (its maxMessageBytes).`);

    app.post(
      '/inbound/:mailbox',
      {
        config: { public: true },
        onRequest: admit,
        schema: {
          summary: 'Push one raw e-mail (RFC 5322) to a mailbox',
          description: DESCRIPTION,
          tags: ['inbound'],
          params: inboundPath,
          consumes: [RAW_TYPE],
          response: { 202: inboundAccepted, 401: problem, 503: problem },
        },
      },
      async (req, reply) => {
        const mailboxId = req.params.mailbox;
        const raw: unknown = req.body;
        if (!Buffer.isBuffer(raw) || raw.length === 0) throw new HttpProblem(400, 'Bad Request', 'The body is empty: send the raw message.', [{ field: 'body', message: 'is empty' }]);
        if (req.pushLimit !== undefined && raw.length > req.pushLimit) throw tooLarge(mailboxId, raw.length, req.pushLimit);
        const messageId = storableOrNull(ownMessageId(raw)) || null;
        const stored = await storePushed(deps.sql, mailboxId, raw, messageId);
        let workflowId: string;
        try {
          workflowId = await startEmailWorkflow({ client: deps.temporal.client, taskQueue: deps.temporal.taskQueue, ref: stored.ref, summary: `E-mail pushed to mailbox ${mailboxId}` });
        } catch (err) {
          req.log.error({ err, mailboxId }, 'could not start the workflow of a pushed e-mail');
          if (!stored.existing) await forgetPushed(deps.sql, stored.emailId);
          throw new HttpProblem(503, 'Service Unavailable', 'The message was not accepted: its workflow could not be started (Temporal did not answer). Send it again.');
        }
        return reply.code(202).send({ emailId: stored.emailId, workflowId, repeated: stored.existing });
      },
    );
  };
}
