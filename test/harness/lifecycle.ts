import type { Client } from '@temporalio/client';
import { expect } from 'vitest';
import { TICKET_WORKFLOW, ticketViewQuery, type TicketInput, type TicketView } from '../../contracts/ticket.js';
import { ticketWorkflowId } from '../../contracts/workflow-ids.js';
import type { Sql } from '../../db/client.js';
import { formatProtocol } from '../../domain/protocol.js';
import type { TestApi } from './api.js';
import { uniqueSuffix } from './common.js';
import { eventually } from './fixtures.js';

/** POST/PATCH as an admin through the API, expecting `status`; the answer's body. */
export async function send<T = { id: number }>(api: TestApi, method: 'POST' | 'PATCH', url: string, payload: object, status = 201, who: Parameters<TestApi['as']>[0] = 'admin'): Promise<T> {
  const res = await api.as(who, { method, url, payload });
  expect(res.statusCode, `${method} ${url}: ${res.body}`).toBe(status);
  return res.json() as T;
}

export interface LifecycleConfig {
  sectorId: number;
  otherSectorId: number;
  occurrenceTypeId: number;
  occurrenceId: number;
  alertId: number;
  /** A BackOffice user in `sectorId`, with a key. */
  backoffice: { id: number; key: string };
  /** A BackOffice user in `otherSectorId`, with a key. */
  otherBackoffice: { id: number; key: string };
  customerId: number;
}

/**
 * Configuration for lifecycle tests, made through the API: two sectors with a BackOffice user
 * each, an alert (thresholds, fixed e-mail, webhook), and an occurrence with a short SLA.
 */
export async function lifecycleConfig(
  api: TestApi,
  opts: { slaMinutes: number; thresholds: number[]; webhookUrl?: string; webhookSecret?: string; emails?: string[] },
): Promise<LifecycleConfig> {
  const u = uniqueSuffix();
  const sector = await send(api, 'POST', '/sectors', { name: `Support ${u}` });
  const other = await send(api, 'POST', '/sectors', { name: `Billing ${u}` });
  const alert = await send(api, 'POST', '/alerts', {
    name: `SLA ${u}`,
    thresholds: opts.thresholds,
    emails: opts.emails ?? [`ops-${u}@example.test`],
    ...(opts.webhookUrl ? { webhookUrl: opts.webhookUrl, webhookSecret: opts.webhookSecret ?? null } : {}),
  });
  const type = await send(api, 'POST', '/occurrence-types', { name: `Access ${u}`, sectorId: sector.id });
  const occurrence = await send(api, 'POST', '/occurrences', { occurrenceTypeId: type.id, name: `Locked out ${u}`, slaValue: opts.slaMinutes, slaUnit: 'minutes', sectorId: sector.id, alertId: alert.id });
  const staff = async (sectorId: number, name: string) => {
    const user = await send(api, 'POST', '/users', { login: `${name}${u}`, name, email: `${name}${u}@example.test`, role: 'backoffice', sectorIds: [sectorId] });
    const key = await send<{ key: string }>(api, 'POST', '/api-keys', { userId: user.id, name: 'test' });
    return { id: user.id, key: key.key };
  };
  const customer = await send(api, 'POST', '/customers', { name: `Customer ${u}`, email: `customer${u}@example.test`, regionId: await regionId(api, u) });
  return {
    sectorId: sector.id,
    otherSectorId: other.id,
    occurrenceTypeId: type.id,
    occurrenceId: occurrence.id,
    alertId: alert.id,
    backoffice: await staff(sector.id, 'bo'),
    otherBackoffice: await staff(other.id, 'bill'),
    customerId: customer.id,
  };
}

async function regionId(api: TestApi, u: string): Promise<number> {
  return (await send(api, 'POST', '/regions', { name: `Region ${u}` })).id;
}

/**
 * A ticket as a creation path leaves it (row + `created` event), created `ageMs` ago so a
 * short SLA's first thresholds are close; its workflow is not started.
 */
export async function insertTicket(sql: Sql, cfg: LifecycleConfig, opts: { ageMs?: number; subject?: string; assigneeUserId?: number } = {}): Promise<{ ticketId: number; protocol: string }> {
  const createdAt = new Date(Date.now() - (opts.ageMs ?? 0));
  const [seq] = await sql<{ n: number }[]>`SELECT nextval('protocol_sequence') AS n`;
  const protocol = formatProtocol(createdAt.getUTCFullYear(), seq!.n);
  const [t] = await sql<{ id: number }[]>`
    INSERT INTO ticket (protocol, subject, description, customer_id, channel, occurrence_type_id, occurrence_id, sector_id, assignee_user_id, created_at, updated_at)
    VALUES (${protocol}, ${opts.subject ?? 'Cannot log in'}, 'Locked out since this morning', ${cfg.customerId}, 'api', ${cfg.occurrenceTypeId}, ${cfg.occurrenceId},
            ${cfg.sectorId}, ${opts.assigneeUserId ?? null}, ${createdAt}, ${createdAt})
    RETURNING id`;
  await sql`INSERT INTO ticket_event (ticket_id, kind, actor, at) VALUES (${t!.id}, 'created', 'system:test', ${createdAt})`;
  return { ticketId: t!.id, protocol };
}

/** Starts the ticket's workflow as a creation path hands over to it, and waits until it has read the ticket. */
export async function startTicketWorkflow(client: Client, taskQueue: string, protocol: string, input: Partial<TicketInput> = {}) {
  const handle = await client.workflow.start(TICKET_WORKFLOW, { workflowId: ticketWorkflowId(protocol), taskQueue, args: [{ protocol, ...input }] });
  // Until then its validators refuse updates (the API asks again by itself; tests wait here).
  await eventually(() => handle.query(ticketViewQuery).catch(() => undefined), 30_000, `ticket ${protocol}'s workflow to read the ticket`);
  return handle;
}

export type { TicketView };

export interface FiringRow {
  key: string;
  threshold: number | null;
  dueAt: string;
  firedAt: string;
  recipients: string[];
}

export async function firings(sql: Sql, ticketId: number): Promise<FiringRow[]> {
  return sql<FiringRow[]>`SELECT key, threshold, due_at, fired_at, recipients FROM alert_firing WHERE ticket_id = ${ticketId} ORDER BY id`;
}
