import { inTransaction, type Queryable } from './client.js';

/**
 * Alert firings and their deliveries (SPEC §6): one firing per ticket and key, one delivery
 * per channel of it. The recipients and the webhook's target and sealed secret are copied
 * when it fires, so a later change of the alert or of a sector does not change what is sent.
 */

export type AlertKind = 'sla' | 'step_sla' | 'pool_empty';
export type AlertChannel = 'email' | 'webhook';
export type DeliveryStatus = 'pending' | 'delivered' | 'failed';

export interface NewAlertFiring {
  ticketId: number;
  /** The ticket workflow's key for it (`sla:50`, `step:12:100`, `pool_empty:a3`). */
  key: string;
  kind: AlertKind;
  threshold: number | null;
  stepId: number | null;
  dueAt: string;
}

export interface RecordedFiring {
  firingId: number;
  channels: AlertChannel[];
  /** False when this (ticket, key) had fired already: the first firing is returned. */
  created: boolean;
}

/** What the firing's ticket and alert say about who hears of it. */
interface FiringSources {
  alertId: number | null;
  notifyAssignee: boolean;
  notifySector: boolean;
  emails: string[];
  webhookUrl: string | null;
  webhookSecret: string | null;
  assigneeUserId: number | null;
  ticketSectorId: number | null;
  stepSectorId: number | null;
}

/**
 * Who a firing goes to: for an SLA (the ticket's or a step's), the assignee and the members of
 * the ticket's or the step's sector as the alert asks; for an empty pool (nobody could take
 * the ticket), the members of the ticket's sector whatever the alert says. Always the alert's
 * fixed addresses.
 */
function audience(kind: AlertKind, s: FiringSources): { userId: number | null; sectorId: number | null } {
  if (kind === 'pool_empty') return { userId: null, sectorId: s.ticketSectorId };
  return {
    userId: s.notifyAssignee ? s.assigneeUserId : null,
    sectorId: s.notifySector ? (kind === 'step_sla' ? s.stepSectorId : s.ticketSectorId) : null,
  };
}

const channelsOf = async (sql: Queryable, firingId: number) =>
  (await sql<{ channel: AlertChannel }[]>`SELECT channel FROM alert_delivery WHERE firing_id = ${firingId} ORDER BY channel`).map((r) => r.channel);

/**
 * Records a firing with its recipients and deliveries in one transaction; a retry (the same
 * ticket and key) returns the first firing. Undefined when there is no such ticket.
 */
export async function recordAlertFiring(sql: Queryable, f: NewAlertFiring): Promise<RecordedFiring | undefined> {
  return inTransaction(sql, async (tx) => {
    const [existing] = await tx<{ id: number }[]>`SELECT id FROM alert_firing WHERE ticket_id = ${f.ticketId} AND key = ${f.key}`;
    if (existing) return { firingId: existing.id, channels: await channelsOf(tx, existing.id), created: false };
    const [s] = await tx<FiringSources[]>`
      SELECT a.id AS alert_id, COALESCE(a.notify_assignee, false) AS notify_assignee, COALESCE(a.notify_sector, false) AS notify_sector,
             COALESCE(a.emails, '{}') AS emails, a.webhook_url, a.webhook_secret,
             t.assignee_user_id, t.sector_id AS ticket_sector_id,
             (SELECT st.sector_id FROM ticket_step st WHERE st.id = ${f.stepId} AND st.ticket_id = t.id) AS step_sector_id
        FROM ticket t LEFT JOIN occurrence o ON o.id = t.occurrence_id LEFT JOIN alert a ON a.id = o.alert_id
       WHERE t.id = ${f.ticketId}`;
    if (!s) return undefined;
    const who = audience(f.kind, s);
    const users = await tx<{ email: string }[]>`
      SELECT u.email FROM app_user u
       WHERE u.active AND u.email IS NOT NULL
         AND (u.id = ${who.userId} OR u.id IN (SELECT us.user_id FROM user_sector us WHERE us.sector_id = ${who.sectorId}))`;
    const recipients = [...new Set([...users.map((u) => u.email), ...s.emails].map((e) => e.trim().toLowerCase()).filter(Boolean))].sort();
    const [inserted] = await tx<{ id: number }[]>`
      INSERT INTO alert_firing (ticket_id, step_id, alert_id, key, kind, threshold, due_at, recipients)
      VALUES (${f.ticketId}, ${f.stepId}, ${s.alertId}, ${f.key}, ${f.kind}, ${f.threshold}, ${f.dueAt}, ${recipients})
      ON CONFLICT (ticket_id, key) DO NOTHING
      RETURNING id`;
    if (!inserted) {
      // Another attempt committed it between our look and our insert.
      const [raced] = await tx<{ id: number }[]>`SELECT id FROM alert_firing WHERE ticket_id = ${f.ticketId} AND key = ${f.key}`;
      return { firingId: raced!.id, channels: await channelsOf(tx, raced!.id), created: false };
    }
    const deliveries = [
      ...(recipients.length > 0 ? [{ firingId: inserted.id, channel: 'email' as const, target: recipients.join(', '), secret: null }] : []),
      ...(s.webhookUrl ? [{ firingId: inserted.id, channel: 'webhook' as const, target: s.webhookUrl, secret: s.webhookSecret }] : []),
    ];
    if (deliveries.length > 0) await tx`INSERT INTO alert_delivery ${tx(deliveries)}`;
    return { firingId: inserted.id, channels: deliveries.map((d) => d.channel), created: true };
  });
}

/** Everything sending one delivery needs, read when it is sent (the ticket as it is then). */
export interface DeliveryToSend {
  firingId: number;
  channel: AlertChannel;
  target: string;
  /** Sealed (config/secret-box.ts); open it just before signing. */
  secret: string | null;
  status: DeliveryStatus;
  attempts: number;
  kind: AlertKind;
  key: string;
  threshold: number | null;
  dueAt: string;
  firedAt: string;
  recipients: string[];
  ticket: { protocol: string; subject: string; status: string; slaState: string; customerName: string | null; customerEmail: string | null };
  step: { id: number; name: string } | null;
  alert: { id: number; name: string } | null;
}

export async function deliveryToSend(sql: Queryable, firingId: number, channel: AlertChannel): Promise<DeliveryToSend | undefined> {
  const [row] = await sql<DeliveryToSend[]>`
    SELECT d.firing_id, d.channel, d.target, d.secret, d.status, d.attempts,
           f.kind, f.key, f.threshold, f.due_at, f.fired_at, f.recipients,
           json_build_object('protocol', t.protocol, 'subject', t.subject, 'status', t.status, 'slaState', t.sla_state,
                             'customerName', c.name, 'customerEmail', c.email) AS ticket,
           (SELECT json_build_object('id', st.id, 'name', st.name) FROM ticket_step st WHERE st.id = f.step_id) AS step,
           (SELECT json_build_object('id', a.id, 'name', a.name) FROM alert a WHERE a.id = f.alert_id) AS alert
      FROM alert_delivery d JOIN alert_firing f ON f.id = d.firing_id JOIN ticket t ON t.id = f.ticket_id
      LEFT JOIN customer c ON c.id = t.customer_id
     WHERE d.firing_id = ${firingId} AND d.channel = ${channel}`;
  return row;
}

/** Sent: counts the attempt; a delivery marked failed meanwhile was sent all the same. */
export async function markDelivered(sql: Queryable, firingId: number, channel: AlertChannel): Promise<void> {
  await sql`
    UPDATE alert_delivery SET status = 'delivered', delivered_at = now(), attempts = attempts + 1, updated_at = now()
     WHERE firing_id = ${firingId} AND channel = ${channel} AND status <> 'delivered'`;
}

/** A failed attempt; the delivery stays pending for the next one. */
export async function recordDeliveryAttemptError(sql: Queryable, firingId: number, channel: AlertChannel, error: string): Promise<void> {
  await sql`
    UPDATE alert_delivery SET attempts = attempts + 1, last_error = ${error}, updated_at = now()
     WHERE firing_id = ${firingId} AND channel = ${channel} AND status = 'pending'`;
}

/** Given up: no attempt follows. A delivered one stays delivered. */
export async function markDeliveryFailed(sql: Queryable, firingId: number, channel: AlertChannel, error: string): Promise<void> {
  await sql`
    UPDATE alert_delivery SET status = 'failed', last_error = ${error}, updated_at = now()
     WHERE firing_id = ${firingId} AND channel = ${channel} AND status = 'pending'`;
}

export interface AlertDeliveryRecord {
  channel: AlertChannel;
  target: string;
  status: DeliveryStatus;
  attempts: number;
  lastError: string | null;
  deliveredAt: string | null;
}

export interface AlertFiringRecord {
  id: number;
  ticketId: number;
  stepId: number | null;
  alertId: number | null;
  key: string;
  kind: AlertKind;
  threshold: number | null;
  dueAt: string;
  firedAt: string;
  recipients: string[];
  deliveries: AlertDeliveryRecord[];
}

/** A firing as it was recorded, with each channel's result (never the webhook's secret). */
export async function getAlertFiring(sql: Queryable, firingId: number): Promise<AlertFiringRecord | undefined> {
  const [firing] = await sql<Omit<AlertFiringRecord, 'deliveries'>[]>`
    SELECT id, ticket_id, step_id, alert_id, key, kind, threshold, due_at, fired_at, recipients FROM alert_firing WHERE id = ${firingId}`;
  if (!firing) return undefined;
  const deliveries = await sql<AlertDeliveryRecord[]>`
    SELECT channel, target, status, attempts, last_error, delivered_at FROM alert_delivery WHERE firing_id = ${firingId} ORDER BY channel`;
  return { ...firing, deliveries };
}
