import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { restartMailboxWatcher, startMailboxWatcher, stopMailboxWatcher } from '../../clients/mailbox-watchers.js';
import type { Queryable } from '../../db/client.js';
import { defined } from '../../db/crud.js';
import type { SecretBox } from '../../config/secret-box.js';
import { getMailboxStatus, mailboxes, mailboxRuleFacts, type SealedMailboxCreate, type SealedMailboxUpdate, type SealedOAuthInput } from '../../db/mailboxes.js';
import { mailboxRuleViolations, type MailboxRuleSettings } from '../../domain/mailbox-rules.js';
import { mailboxSettingViolations, type MailboxSettingsFacts } from '../../domain/mailbox-settings.js';
import { ADMIN_ONLY, ANY_ROLE } from '../../domain/roles.js';
import { idPath } from '../../schemas/common.js';
import {
  mailbox,
  mailboxCreate,
  mailboxListQuery,
  mailboxPage,
  mailboxStatus,
  mailboxUpdate,
  type Mailbox,
  type MailboxCreate,
  type MailboxUpdate,
} from '../../schemas/mailboxes.js';
import type { AppDeps } from '../deps.js';
import { problem } from '../schemas.js';
import { caller } from '../plugins/auth.js';
import { HttpProblem, notFound } from '../plugins/errors.js';

const RULES = `SPEC §3's rules are checked on create and on every PATCH, against the mailbox as it would be saved; each refusal is a 400 naming the field:
1. \`autoConvert\` needs \`creatorUserId\`, \`occurrenceTypeId\` and \`occurrenceId\`.
2. The occurrence belongs to the occurrence type (so \`occurrenceId\` needs \`occurrenceTypeId\`, even with \`autoConvert\` off); the type and the occurrence are linked to the mailbox's sector or to no sector. A mailbox without a sector accepts any type and occurrence.
3. The solution, if any, belongs to the occurrence (so \`solutionId\` needs \`occurrenceId\`).
4. \`autoDistribute\` needs the occurrence to have a solution group or a sector; otherwise: "Associate a solution group or a sector with occurrence «name» before enabling automatic distribution." \`distributionTarget\`: \`solution_group\` distributes among the occurrence's solution group and, when it has none, among the users of its sector (the seeds: "Se no cadastro da Ocorrência não tiver um Grupo de Solução associado, serão considerados os usuários do Setor configurado na ocorrência"); \`sector\` needs the occurrence to have a sector; null means the group, else the sector (SPEC §5). With \`autoConvert\` off and no occurrence set, distribution is checked when a pre-ticket is converted, against the occurrence chosen then.
5. \`imap.secret\` is write-only: encrypted (AES-256-GCM, \`SECRETS_KEY\`) before it is stored, never returned (\`imap.hasSecret\` says one is stored), never logged. It is kept exactly as sent (not trimmed). So are \`imap.oauth.clientSecret\`, \`imap.oauth.refreshToken\` and \`pushSecret\` (\`hasClientSecret\`, \`hasRefreshToken\`, \`hasPushSecret\`).

And the operating settings, checked the same way:
- \`imap.auth: password\` needs a stored \`imap.secret\`; \`imap.auth: oauth2\` needs \`imap.oauth.tokenUrl\`, \`clientId\` and \`refreshToken\` (the token endpoint over https, or http on localhost).
- \`afterProcessing: move\` needs \`afterProcessingFolder\`, another folder than \`imap.folder\` (created on the server when missing). The setting applies to e-mails whose outcome is recorded after it is set; mail read before stays as it is.
- \`maxMessageBytes\` (default 25 MiB, 64 KiB to 256 MiB): a larger message read over IMAP is stored as received and quarantined with the reason, without being parsed (re-process it after raising the limit); a larger pushed one is refused (413).
- \`pushSecret\` (at least 16 characters) lets an MTA or a provider push raw messages to \`POST /inbound/{id}\`; null turns push off.`;

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

/** Refuses settings that break SPEC §3's rules or the operating settings' rules, naming every field at fault. */
async function enforceAllRules(tx: Queryable, s: MailboxRuleSettings, settings: MailboxSettingsFacts): Promise<void> {
  const violations = [...mailboxRuleViolations(s, await mailboxRuleFacts(tx, s)), ...mailboxSettingViolations(settings)];
  if (violations.length === 0) return;
  const errors = violations.map((v) => ({ field: `body.${v.field}`, message: v.message }));
  throw new HttpProblem(400, 'Bad Request', errors.map((e) => `${e.field}: ${e.message}`).join('; '), errors);
}

/** The operating settings a create body gives. */
function createdSettings(b: MailboxCreate): MailboxSettingsFacts {
  const o = b.imap.oauth;
  return {
    folder: b.imap.folder,
    auth: b.imap.auth,
    hasSecret: b.imap.secret !== undefined,
    oauth: { tokenUrl: o?.tokenUrl ?? null, clientId: o?.clientId ?? null, hasRefreshToken: o?.refreshToken !== undefined },
    afterProcessing: b.afterProcessing,
    afterProcessingFolder: b.afterProcessingFolder ?? null,
  };
}

/** The operating settings of a mailbox as a PATCH would leave it. */
function mergedSettings(before: Mailbox, p: MailboxUpdate): MailboxSettingsFacts {
  const o = p.imap?.oauth;
  const was = before.imap.oauth;
  return {
    folder: p.imap?.folder ?? before.imap.folder,
    auth: p.imap?.auth ?? before.imap.auth,
    hasSecret: p.imap?.secret !== undefined || before.imap.hasSecret,
    oauth: {
      tokenUrl: o?.tokenUrl ?? was?.tokenUrl ?? null,
      clientId: o?.clientId ?? was?.clientId ?? null,
      hasRefreshToken: o?.refreshToken !== undefined || (was?.hasRefreshToken ?? false),
    },
    afterProcessing: p.afterProcessing ?? before.afterProcessing,
    afterProcessingFolder: p.afterProcessingFolder !== undefined ? p.afterProcessingFolder : before.afterProcessingFolder,
  };
}

/** The OAuth fields of a body with their secrets sealed (null clears the client secret). */
function sealOAuth(secrets: SecretBox, o: { tokenUrl?: string; clientId?: string; scope?: string | null; clientSecret?: string | null; refreshToken?: string } | undefined): SealedOAuthInput | undefined {
  if (!o) return undefined;
  const { clientSecret, refreshToken, ...plain } = o;
  return {
    ...plain,
    ...(clientSecret !== undefined ? { sealedClientSecret: clientSecret === null ? null : secrets.seal(clientSecret) } : {}),
    ...(refreshToken !== undefined ? { sealedRefreshToken: secrets.seal(refreshToken) } : {}),
  };
}

/** The push secret of a body, sealed (null turns push off; undefined keeps it). */
const sealPush = (secrets: SecretBox, pushSecret: string | null | undefined) =>
  pushSecret === undefined ? {} : { sealedPushSecret: pushSecret === null ? null : secrets.seal(pushSecret) };

/** The IMAP settings of a PATCH differ from the stored ones (a new secret, or any OAuth field, always counts). */
function imapChanged(before: Mailbox, patch: MailboxUpdate): boolean {
  const imap = patch.imap;
  if (!imap) return false;
  if (imap.secret !== undefined || imap.oauth !== undefined) return true;
  return (['host', 'port', 'tls', 'user', 'folder', 'auth'] as const).some((k) => imap[k] !== undefined && imap[k] !== before.imap[k]);
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

    app.get(
      '/mailboxes/:id/status',
      {
        config: { roles: ANY_ROLE },
        schema: {
          summary: "A mailbox's live status: connection, last error, last message read, cursor, backlog",
          description:
            'Written by the watcher workflow `mailbox:<id>` as it works: every round (a look at the folder, a batch read) and at least once a minute while it waits in IMAP IDLE. ' +
            '`connected` is false when the watcher has not been heard from for 150 s (a worker down, the mailbox inactive) or its last attempt failed (`lastError` says why). ' +
            'The backlog is what is still to do: messages on the server above the cursor, e-mails stored without an outcome, and e-mails whose message on the server still awaits `afterProcessing`.',
          tags,
          params: idPath,
          response: { 200: mailboxStatus },
        },
      },
      async (req) => (await getMailboxStatus(sql, req.params.id)) ?? Promise.reject(missing(req.params.id)),
    );

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
        const { imap, pushSecret, ...rest } = req.body;
        const { secret, oauth, ...connection } = imap;
        const sealed: SealedMailboxCreate = {
          ...rest,
          ...sealPush(secrets, pushSecret),
          imap: { ...connection, ...(secret !== undefined ? { sealedSecret: secrets.seal(secret) } : {}), oauth: sealOAuth(secrets, oauth) },
        };
        const created = await sql.begin(async (tx) => {
          await enforceAllRules(tx, ruleSettings(req.body), createdSettings(req.body));
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
        const { imap, pushSecret, ...rest } = req.body;
        let sealed: SealedMailboxUpdate = { ...rest, ...sealPush(secrets, pushSecret) };
        if (imap) {
          const { secret, oauth, ...connection } = imap;
          sealed = { ...sealed, imap: { ...connection, ...(secret !== undefined ? { sealedSecret: secrets.seal(secret) } : {}), oauth: sealOAuth(secrets, oauth) } };
        }
        const { before, after } = await sql.begin(async (tx) => {
          const before = await mailboxes.lock(tx, id);
          if (!before) throw missing(id);
          await enforceAllRules(tx, ruleSettings({ ...before, ...defined(rest) }), mergedSettings(before, req.body));
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
