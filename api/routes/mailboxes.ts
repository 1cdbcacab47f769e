import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { restartMailboxWatcher, startMailboxWatcher, stopMailboxWatcher } from '../../clients/mailbox-watchers.js';
import type { Queryable } from '../../db/client.js';
import { defined } from '../../db/crud.js';
import { mailboxes, mailboxRuleFacts, type SealedMailboxCreate, type SealedMailboxUpdate } from '../../db/mailboxes.js';
import { mailboxRuleViolations, type MailboxRuleSettings } from '../../domain/mailbox-rules.js';
import { ADMIN_ONLY, ANY_ROLE } from '../../domain/roles.js';
import { idPath } from '../../schemas/common.js';
import { mailbox, mailboxCreate, mailboxListQuery, mailboxPage, mailboxUpdate, type Mailbox, type MailboxUpdate } from '../../schemas/mailboxes.js';
import type { AppDeps } from '../deps.js';
import { problem } from '../schemas.js';
import { caller } from '../plugins/auth.js';
import { HttpProblem, notFound } from '../plugins/errors.js';

const RULES = `SPEC §3's rules are checked on create and on every PATCH, against the mailbox as it would be saved; each refusal is a 400 naming the field:
1. \`autoConvert\` needs \`creatorUserId\`, \`occurrenceTypeId\` and \`occurrenceId\`.
2. The occurrence belongs to the occurrence type (so \`occurrenceId\` needs \`occurrenceTypeId\`, even with \`autoConvert\` off); the type and the occurrence are linked to the mailbox's sector or to no sector. A mailbox without a sector accepts any type and occurrence.
3. The solution, if any, belongs to the occurrence (so \`solutionId\` needs \`occurrenceId\`).
4. \`autoDistribute\` needs the occurrence to have a solution group or a sector; otherwise: "Associate a solution group or a sector with occurrence «name» before enabling automatic distribution." \`distributionTarget\`: \`solution_group\` distributes among the occurrence's solution group and, when it has none, among the users of its sector (the seeds: "Se no cadastro da Ocorrência não tiver um Grupo de Solução associado, serão considerados os usuários do Setor configurado na ocorrência"); \`sector\` needs the occurrence to have a sector; null means the group, else the sector (SPEC §5). With \`autoConvert\` off and no occurrence set, distribution is checked when a pre-ticket is converted, against the occurrence chosen then.
5. \`imap.secret\` is write-only: encrypted (AES-256-GCM, \`SECRETS_KEY\`) before it is stored, never returned (\`imap.hasSecret\` says one is stored), never logged. It is kept exactly as sent (not trimmed).`;

const WATCHER_DOWN =
  'If Temporal does not answer after the change is saved, the answer is 503 and the change stays saved; the watcher follows at the next PATCH of the mailbox (any PATCH starts a missing watcher of an active mailbox and stops the watcher of an inactive one), and workers start the watchers of active mailboxes when they start.';

/** The settings SPEC §3's rules read, from an entity or a create body. */
function ruleSettings(m: { [K in keyof MailboxRuleSettings]?: MailboxRuleSettings[K] | null } & Pick<MailboxRuleSettings, 'autoConvert' | 'autoDistribute'>): MailboxRuleSettings {
  return {
    sectorId: m.sectorId ?? null,
    autoConvert: m.autoConvert,
    creatorUserId: m.creatorUserId ?? null,
    occurrenceTypeId: m.occurrenceTypeId ?? null,
    occurrenceId: m.occurrenceId ?? null,
    solutionId: m.solutionId ?? null,
    autoDistribute: m.autoDistribute,
    distributionTarget: m.distributionTarget ?? null,
  };
}

/** Refuses settings that break SPEC §3's rules, naming every field at fault. */
async function enforceRules(tx: Queryable, s: MailboxRuleSettings): Promise<void> {
  const violations = mailboxRuleViolations(s, await mailboxRuleFacts(tx, s));
  if (violations.length === 0) return;
  const errors = violations.map((v) => ({ field: `body.${v.field}`, message: v.message }));
  throw new HttpProblem(400, 'Bad Request', errors.map((e) => `${e.field}: ${e.message}`).join('; '), errors);
}

/** The IMAP settings of a PATCH differ from the stored ones (a new secret always counts). */
function imapChanged(before: Mailbox, patch: MailboxUpdate): boolean {
  const imap = patch.imap;
  if (!imap) return false;
  if (imap.secret !== undefined) return true;
  return (['host', 'port', 'tls', 'user', 'folder'] as const).some((k) => imap[k] !== undefined && imap[k] !== before.imap[k]);
}

/** Mailboxes (the e-mail channel integration, SPEC §3): the five routes, with the watcher workflows following the configuration. */
export function mailboxesRoutes(deps: AppDeps): FastifyPluginAsyncZod {
  return async (app) => {
    const tags = ['mailboxes'];
    const { sql, secrets, temporal } = deps;
    const missing = (id: number) => notFound(`There is no mailbox with id ${id}.`);
    const watcher = { client: temporal.client, taskQueue: temporal.taskQueue, idleSeconds: temporal.mailboxIdleSeconds };

    /** Runs a watcher change after the database change is committed; Temporal not answering is a 503 that says so. */
    async function follow(mailboxId: number, what: 'start' | 'restart' | 'stop', change: () => Promise<unknown>): Promise<void> {
      try {
        await change();
      } catch (err) {
        app.log.error({ err, mailboxId }, `could not ${what} the mailbox watcher`);
        throw new HttpProblem(
          503,
          'Service Unavailable',
          `The mailbox ${mailboxId} is saved, but its watcher (workflow mailbox:${mailboxId}) could not be ${{ start: 'started', restart: 'restarted', stop: 'stopped' }[what]}: Temporal did not answer. ` +
            'It follows the configuration at the next change of this mailbox (a PATCH, even of nothing); check that Temporal is up.',
        );
      }
    }

    app.get(
      '/mailboxes',
      {
        config: { roles: ANY_ROLE },
        schema: { summary: 'List mailboxes (never their IMAP secrets)', description: 'Oldest first. Readable by every role (agents filter tickets by mailbox); the IMAP secret is never shown.', tags, querystring: mailboxListQuery, response: { 200: mailboxPage } },
      },
      (req) => mailboxes.list(sql, req.query),
    );

    app.get('/mailboxes/:id', { config: { roles: ANY_ROLE }, schema: { summary: 'One mailbox', tags, params: idPath, response: { 200: mailbox } } }, async (req) => {
      return (await mailboxes.get(sql, req.params.id)) ?? Promise.reject(missing(req.params.id));
    });

    app.post(
      '/mailboxes',
      {
        config: { roles: ADMIN_ONLY },
        schema: {
          summary: 'Create a mailbox',
          description: `${RULES}\n\nAn active mailbox's watcher workflow \`mailbox:<id>\` starts at once; it first reads the messages already in the folder. ${WATCHER_DOWN}`,
          tags,
          body: mailboxCreate,
          response: { 201: mailbox, 503: problem },
        },
      },
      async (req, reply) => {
        const { imap, ...rest } = req.body;
        const { secret, ...connection } = imap;
        const sealed: SealedMailboxCreate = { ...rest, imap: { ...connection, sealedSecret: secrets.seal(secret) } };
        const created = await sql.begin(async (tx) => {
          await enforceRules(tx, ruleSettings(req.body));
          return mailboxes.create(tx, sealed);
        });
        if (created.active) await follow(created.id, 'start', () => startMailboxWatcher({ ...watcher, mailboxId: created.id }));
        return reply.code(201).send(created);
      },
    );

    app.patch(
      '/mailboxes/:id',
      {
        config: { roles: ADMIN_ONLY },
        schema: {
          summary: 'Change a mailbox (only the fields given)',
          description:
            `Only the fields given change, inside \`imap\` too: a PATCH without \`imap.secret\` keeps the stored secret; null clears an optional setting.\n\n${RULES}\n\n` +
            'The watcher follows: a change of any `imap` setting (a new secret included) restarts `mailbox:<id>` as a new run, which loses and repeats nothing (the cursor moves only after the e-mail workflows, whose ids are deterministic, exist); ' +
            '`active: false` stops it (terminated with the reason "mailbox disabled by <login>") and `active: true` starts it; other changes need no restart, since the activities read the settings every round. ' +
            `A mailbox pointed at another folder or server keeps its cursor; a folder with another UIDVALIDITY is read from its start. ${WATCHER_DOWN}`,
          tags,
          params: idPath,
          body: mailboxUpdate,
          response: { 200: mailbox, 503: problem },
        },
      },
      async (req) => {
        const { id } = req.params;
        const { imap, ...rest } = req.body;
        let sealed: SealedMailboxUpdate = rest;
        if (imap) {
          const { secret, ...connection } = imap;
          sealed = { ...rest, imap: { ...connection, ...(secret !== undefined ? { sealedSecret: secrets.seal(secret) } : {}) } };
        }
        const { before, after } = await sql.begin(async (tx) => {
          const before = await mailboxes.lock(tx, id);
          if (!before) throw missing(id);
          await enforceRules(tx, ruleSettings({ ...before, ...defined(rest) }));
          const after = await mailboxes.update(tx, id, sealed);
          if (!after) throw missing(id);
          return { before, after };
        });
        if (!after.active) {
          await follow(id, 'stop', () => stopMailboxWatcher({ client: temporal.client, mailboxId: id, reason: `mailbox disabled by ${caller(req).login}` }));
        } else if (imapChanged(before, req.body)) {
          await follow(id, 'restart', () => restartMailboxWatcher({ ...watcher, mailboxId: id }));
        } else {
          // Idempotent: leaves a running watcher alone, starts a missing one (re-enabled, or Temporal was down).
          await follow(id, 'start', () => startMailboxWatcher({ ...watcher, mailboxId: id }));
        }
        return after;
      },
    );

    app.delete(
      '/mailboxes/:id',
      {
        config: { roles: ADMIN_ONLY },
        schema: {
          summary: 'Delete a mailbox',
          description:
            'Only a mailbox that has received no e-mail can be deleted: once it has, the database refuses (409, in use by its inbound e-mails), since its e-mails and tickets keep pointing at it. ' +
            `To stop reading a mailbox, PATCH it with \`active: false\`. Deleting stops its watcher (terminated with the reason "mailbox deleted by <login>"). ${WATCHER_DOWN}`,
          tags,
          params: idPath,
          response: { 204: z.null().describe('deleted'), 503: problem },
        },
      },
      async (req, reply) => {
        const { id } = req.params;
        if (!(await mailboxes.remove(sql, id))) throw missing(id);
        await follow(id, 'stop', () => stopMailboxWatcher({ client: temporal.client, mailboxId: id, reason: `mailbox deleted by ${caller(req).login}` }));
        return reply.code(204).send(null);
      },
    );
  };
}
