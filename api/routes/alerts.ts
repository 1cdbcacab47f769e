import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { alerts } from '../../db/alerts.js';
import { alert, alertCreate, alertListQuery, alertUpdate, type AlertCreate, type AlertUpdate } from '../../schemas/alerts.js';
import { crudRoutes } from '../crud-routes.js';
import type { AppDeps } from '../deps.js';
import { replanTickets } from '../sla-sources.js';
import { badRequest } from '../plugins/errors.js';

/** What the API docs say about these routes, besides the schemas (decisions the spec leaves open). */
const DESCRIPTIONS: Record<string, string> = {
  'GET /alerts': 'Filter: `name` (part of it, any case); oldest first. The webhook secret is never shown: `hasWebhookSecret` says whether there is one.',
  'POST /alerts':
    'An alert needs at least one recipient (notifyAssignee, notifySector, emails) or channel (webhookUrl); the recipient flags default to false. ' +
    'Thresholds are distinct percentages of the SLA elapsed (1 to 1000), stored in ascending order. ' +
    '`webhookSecret` is write-only: it is encrypted before it is stored, never returned and never logged, and needs a `webhookUrl`.',
  'PATCH /alerts/:id':
    'Only the fields given change, and the result must still have a recipient or a channel. Send `webhookSecret` to replace the secret, null to remove it; ' +
    'omit it to keep it. Setting `webhookUrl` to null removes the webhook, and its secret with it.',
  'DELETE /alerts/:id': 'An alert an occurrence names cannot be deleted (409 naming the occurrences): change those first.',
};

export function alertsRoutes(deps: AppDeps): FastifyPluginAsyncZod {
  return async (app) => {
    /** The secret as the database keeps it: sealed with SECRETS_KEY. */
    const sealed = <T extends AlertCreate | AlertUpdate>(input: T): T =>
      typeof input.webhookSecret === 'string' ? { ...input, webhookSecret: deps.secrets.seal(input.webhookSecret) } : input;

    crudRoutes(app, {
      descriptions: DESCRIPTIONS,
      path: '/alerts',
      noun: 'alert',
      tag: 'alerts',
      schemas: { entity: alert, create: alertCreate, update: alertUpdate, listQuery: alertListQuery },
      store: { ...alerts, create: (sql, input) => alerts.create(sql, sealed(input)), update: (sql, id, patch) => alerts.update(sql, id, sealed(patch)) },
      sql: deps.sql,
      // Live tickets computed from it re-plan their SLA timers (a create concerns none), in the
      // background: a change touching thousands of tickets does not hold the request.
      changed: async ({ id, deleted }) => void (deleted || replanTickets(app.log, deps, { alertId: id }, `alert ${id} changed`)),
      // The alert as it will be after the change: a recipient or a channel, and no secret without a webhook.
      check: async (input, id) => {
        const patch = input as AlertUpdate;
        const stored = id === undefined ? undefined : await alerts.get(deps.sql, id);
        const webhookUrl = patch.webhookUrl !== undefined ? patch.webhookUrl : (stored?.webhookUrl ?? null);
        if (typeof patch.webhookSecret === 'string' && !webhookUrl) throw badRequest('body.webhookSecret', 'needs a webhookUrl to sign (give webhookUrl too)');
        const recipients = [patch.notifyAssignee ?? stored?.notifyAssignee, patch.notifySector ?? stored?.notifySector, (patch.emails ?? stored?.emails ?? []).length > 0];
        if (!recipients.some(Boolean) && !webhookUrl) {
          throw badRequest('body', 'an alert needs at least one recipient (notifyAssignee, notifySector, emails) or channel (webhookUrl)');
        }
      },
    });
  };
}
