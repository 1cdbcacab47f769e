import { z } from 'zod';
import { emailAddress, pageQuery, searchParam, text, timestamp } from './common.js';

export const MAX_THRESHOLDS = 10;
export const MAX_ALERT_EMAILS = 50;

/**
 * An alert: SLA notification rule an occurrence names (SPEC §6). Each threshold is a
 * percentage of the SLA elapsed; recipients and channels say who hears of it and how. The
 * webhook secret is write-only: entities say only whether there is one.
 */
export const alert = z
  .object({
    id: z.number(),
    name: z.string(),
    thresholds: z.array(z.number()).describe('percentages of the SLA elapsed, ascending'),
    notifyAssignee: z.boolean(),
    notifySector: z.boolean().describe("the members of the ticket's sector"),
    emails: z.array(z.string()),
    webhookUrl: z.string().nullable(),
    hasWebhookSecret: z.boolean().describe('whether webhook calls are signed with a secret (the secret itself is never shown)'),
    createdAt: timestamp,
  })
  .meta({ id: 'Alert' });

const thresholds = z
  .array(z.number().int('must be a whole number').min(1, 'must be at least 1 (%)').max(1000, 'must be at most 1000 (%)'))
  .min(1, 'give at least one threshold')
  .max(MAX_THRESHOLDS, `give at most ${MAX_THRESHOLDS} thresholds`)
  .refine((t) => new Set(t).size === t.length, 'must not repeat a threshold')
  .transform((t) => [...t].sort((a, b) => a - b))
  .describe('percentages of the SLA elapsed, 1 to 1000, e.g. [50, 80, 100, 150]; stored in ascending order');

const emails = z
  .array(emailAddress)
  .max(MAX_ALERT_EMAILS, `give at most ${MAX_ALERT_EMAILS} addresses`)
  .refine((a) => new Set(a.map((e) => e.toLowerCase())).size === a.length, 'must not repeat an address')
  .describe('fixed addresses that receive every alert by e-mail');

const webhookUrl = z
  .url({ protocol: /^https?$/, error: 'must be an http or https URL' })
  .max(2000, 'must be at most 2000 characters')
  .refine((u) => !/^https?:\/\/[^/?#]*@/i.test(u), 'must not carry a user name or password: put the secret in webhookSecret')
  .describe('called with each alert (POST, JSON)');

const webhookSecret = z
  .string()
  .min(1, 'must not be empty (null removes the secret)')
  .max(500, 'must be at most 500 characters')
  .refine((s) => !s.includes('\u0000'), 'must not contain NUL characters')
  .describe('write-only: signs the webhook calls; stored encrypted and never shown (see hasWebhookSecret); null removes it');

const fields = {
  name: text(200).describe('unique'),
  thresholds,
  notifyAssignee: z.boolean().describe("the ticket's assignee (default false)"),
  notifySector: z.boolean().describe("the members of the ticket's sector (default false)"),
  emails: emails,
  webhookUrl: webhookUrl.nullable(),
  webhookSecret: webhookSecret.nullable(),
};

export const alertCreate = z.strictObject({
  ...fields,
  notifyAssignee: fields.notifyAssignee.default(false),
  notifySector: fields.notifySector.default(false),
  emails: fields.emails.default([]),
  webhookUrl: fields.webhookUrl.optional(),
  webhookSecret: fields.webhookSecret.optional(),
});
export const alertUpdate = z.strictObject(fields).partial();
export const alertListQuery = pageQuery.extend({
  name: searchParam.optional().describe('part of the name, any case'),
});

export type Alert = z.infer<typeof alert>;
export type AlertCreate = z.infer<typeof alertCreate>;
export type AlertUpdate = z.infer<typeof alertUpdate>;
export type AlertListQuery = z.infer<typeof alertListQuery>;
