import { ApplicationFailure } from '@temporalio/common';
import { createMailer, type SmtpSettings } from '../clients/smtp.js';
import { postWebhook } from '../clients/webhook.js';
import type { SecretBox } from '../config/secret-box.js';
import { alertMessageId } from '../domain/bounce.js';
import {
  deliveryToSend,
  markDelivered,
  markDeliveryFailed,
  recordAlertFiring as recordFiring,
  recordDeliveryAttemptError,
  type AlertChannel,
  type AlertKind,
  type DeliveryToSend,
  type NewAlertFiring,
} from '../db/alert-firings.js';
import type { Sql } from '../db/client.js';
import { unprocessable } from './failures.js';

export type { AlertChannel, AlertKind } from '../db/alert-firings.js';
export type { SmtpSettings } from '../clients/smtp.js';

export interface AlertDeps {
  sql: Sql;
  /** Opens the webhook secrets the API sealed (config/secret-box.ts). */
  secrets: SecretBox;
  /** Without it (no SMTP_URL), each e-mail delivery is recorded as failed, saying so, and webhooks still go. */
  smtp?: SmtpSettings;
  /** Where people open a ticket (`<publicUrl>/tickets/<protocol>`); no link without it. */
  publicUrl?: string;
}

/** What the ticket's workflow records when a threshold fires: one firing per ticket and key, however often this runs. */
export type AlertFiringInput = NewAlertFiring;

export interface AlertFired {
  firingId: number;
  /** The channels to deliver on; none when nobody is to hear of it (the firing is still the record). */
  channels: AlertChannel[];
}

export interface AlertDeliveryRef {
  firingId: number;
  channel: AlertChannel;
}

export interface AlertDelivered {
  delivered: boolean;
  /** The delivery was settled (delivered, or given up) before this call, which sent nothing. */
  already: boolean;
}

/** The webhook's JSON body (README, "Alert webhooks"). */
export interface AlertWebhookBody {
  id: string;
  event: 'alert.fired';
  kind: AlertKind;
  threshold: number | null;
  dueAt: string;
  firedAt: string;
  ticket: { protocol: string; subject: string; status: string; slaState: string; url?: string };
  step: { id: number; name: string } | null;
  alert: { id: number; name: string } | null;
}

/** What the alert says happened, for a subject line and the body's first line. */
export function alertHeadline(kind: AlertKind, threshold: number | null, stepName: string | null): string {
  if (kind === 'pool_empty') return 'No one available to take ticket';
  const what = kind === 'step_sla' ? `Step "${stepName ?? '?'}" SLA` : 'SLA';
  if (threshold === null) return `${what} alert`;
  if (threshold < 100) return `${what} ${threshold}% reached`;
  if (threshold === 100) return `${what} breached`;
  return `${what} ${threshold}% elapsed`;
}

/** Header values come from e-mails people sent us: one line, reasonably short. */
const oneLine = (s: string, max = 200) => {
  const line = s.replace(/\s+/g, ' ').trim();
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
};

export function ticketUrl(publicUrl: string | undefined, protocol: string): string | undefined {
  return publicUrl ? `${publicUrl.replace(/\/+$/, '')}/tickets/${encodeURIComponent(protocol)}` : undefined;
}

/** The alert as an e-mail: subject and plain text. */
export function alertEmail(d: DeliveryToSend, publicUrl?: string): { subject: string; text: string } {
  const headline = alertHeadline(d.kind, d.threshold, d.step?.name ?? null);
  const t = d.ticket;
  const customer = [t.customerName, t.customerEmail && `<${t.customerEmail}>`].filter(Boolean).join(' ') || '(unknown)';
  const url = ticketUrl(publicUrl, t.protocol);
  const lines = [
    d.kind === 'pool_empty'
      ? `Nobody in the sector could take ticket #${t.protocol}: it waits unassigned.`
      : `${headline} for ticket #${t.protocol}.`,
    '',
    `Ticket:    #${t.protocol}`,
    `Subject:   ${oneLine(t.subject, 500)}`,
    `Customer:  ${customer}`,
    `Status:    ${t.status} (SLA ${t.slaState.replace('_', ' ')})`,
    ...(d.step ? [`Step:      ${d.step.name}`] : []),
    ...(d.threshold !== null ? [`Threshold: ${d.threshold}% of the ${d.step ? 'step' : 'ticket'}'s SLA`] : []),
    `Due:       ${d.dueAt}`,
    `Fired:     ${d.firedAt}`,
    ...(url ? ['', url] : []),
    '',
    '-- ',
    'Sent automatically by mailtrack; replies are not read.',
  ];
  return { subject: `[#${t.protocol}] ${headline}: ${oneLine(t.subject)}`, text: `${lines.join('\n')}\n` };
}

export function alertWebhookBody(d: DeliveryToSend, publicUrl?: string): AlertWebhookBody {
  const url = ticketUrl(publicUrl, d.ticket.protocol);
  return {
    id: String(d.firingId),
    event: 'alert.fired',
    kind: d.kind,
    threshold: d.threshold,
    dueAt: d.dueAt,
    firedAt: d.firedAt,
    ticket: { protocol: d.ticket.protocol, subject: d.ticket.subject, status: d.ticket.status, slaState: d.ticket.slaState, ...(url ? { url } : {}) },
    step: d.step,
    alert: d.alert,
  };
}

/** An error as stored in last_error and thrown to Temporal: one line, short, without the SMTP URL's password. */
function describeError(err: unknown, smtpUrl: string | undefined): string {
  let message = oneLine(err instanceof Error ? err.message : String(err), 300) || 'unknown error';
  const password = smtpUrl && URL.canParse(smtpUrl) ? decodeURIComponent(new URL(smtpUrl).password) : '';
  if (password) message = message.split(password).join('***');
  return message;
}

/**
 * Alerts that fired and their delivery (SPEC §6). The ticket's workflow records a firing, then
 * runs `deliverAlert` (workflows/alert-delivery.ts), which sends each channel with retries and
 * gives up with `alertDeliveryFailed`; nothing here ever fails the ticket.
 */
export function createAlertActivities(deps: AlertDeps) {
  const { sql } = deps;
  const mailer = deps.smtp ? createMailer(deps.smtp) : undefined;

  async function send(d: DeliveryToSend): Promise<void> {
    if (d.channel === 'email') {
      if (!mailer) throw unprocessable('no SMTP server is configured (SMTP_URL): alert e-mails cannot be sent');
      const { subject, text } = alertEmail(d, deps.publicUrl);
      await mailer.send({
        to: d.recipients,
        subject,
        text,
        messageId: alertMessageId(d.firingId),
        // RFC 3834: no vacation replies, no loops; Exchange reads its own header for the same.
        headers: { 'Auto-Submitted': 'auto-generated', 'X-Auto-Response-Suppress': 'All' },
      });
      return;
    }
    let secret: string | null = null;
    if (d.secret) {
      try {
        secret = deps.secrets.open(d.secret);
      } catch (err) {
        // Another SECRETS_KEY sealed it: no retry opens it.
        throw unprocessable(`the webhook secret cannot be opened: ${(err as Error).message}`);
      }
    }
    await postWebhook({ url: d.target, body: JSON.stringify(alertWebhookBody(d, deps.publicUrl)), deliveryId: String(d.firingId), secret });
  }

  return {
    /** Stores a firing once per ticket and key, with its recipients and one delivery per channel. */
    async recordAlertFiring(input: AlertFiringInput): Promise<AlertFired> {
      if (input.kind === 'step_sla' && input.stepId === null) throw unprocessable(`alert ${input.key}: a step SLA alert needs its step`);
      const fired = await recordFiring(sql, input);
      if (!fired) throw unprocessable(`alert ${input.key}: there is no ticket ${input.ticketId}`);
      return { firingId: fired.firingId, channels: fired.channels };
    },

    /**
     * Sends one channel of a firing, once: a delivery already recorded as delivered is not sent
     * again. A failure counts the attempt, stores why and throws, for Temporal to retry.
     */
    async deliverAlert(input: AlertDeliveryRef): Promise<AlertDelivered> {
      const d = await deliveryToSend(sql, input.firingId, input.channel);
      if (!d) throw unprocessable(`alert firing ${input.firingId} has no ${input.channel} delivery`);
      if (d.status !== 'pending') return { delivered: d.status === 'delivered', already: true };
      try {
        await send(d);
      } catch (err) {
        const reason = describeError(err, deps.smtp?.url);
        await recordDeliveryAttemptError(sql, d.firingId, d.channel, reason);
        if (err instanceof ApplicationFailure) throw err;
        // Without the cause: Temporal would store its message and stack unredacted.
        // eslint-disable-next-line preserve-caught-error
        throw new Error(`${d.channel} delivery of alert ${d.firingId} failed: ${reason}`);
      }
      await markDelivered(sql, d.firingId, d.channel);
      return { delivered: true, already: false };
    },

    /** Gives a delivery up for good, once its retries ran out. */
    async alertDeliveryFailed(input: AlertDeliveryRef & { error: string }): Promise<void> {
      await markDeliveryFailed(sql, input.firingId, input.channel, oneLine(input.error, 500));
    },
  };
}

export type AlertActivities = ReturnType<typeof createAlertActivities>;
