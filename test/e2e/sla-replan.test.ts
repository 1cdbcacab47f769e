import { describe, expect, it } from 'vitest';
import { ticketViewQuery } from '../../contracts/ticket.js';
import { useE2E } from '../harness/e2e.js';
import { eventually, uniqueSuffix } from '../harness/fixtures.js';
import { insertTicket, lifecycleConfig, send, startTicketWorkflow } from '../harness/lifecycle.js';

const e2e = useE2E('sla-replan');
const MINUTE = 60_000;

describe('a live ticket re-plans its SLA when what it is computed from changes (SPEC §6)', () => {
  it('follows its occurrence\'s SLA, then a contract\'s SLA package, then the occurrence again when the contract goes', { timeout: 60_000 }, async () => {
    const cfg = await lifecycleConfig(e2e.api, { slaMinutes: 600, thresholds: [50, 100] });
    const t = await insertTicket(e2e.sql, cfg);
    const handle = await startTicketWorkflow(e2e.client, e2e.taskQueue, t.protocol);
    const [row] = await e2e.sql<{ createdAt: string }[]>`SELECT created_at FROM ticket WHERE id = ${t.ticketId}`;
    const created = new Date(row!.createdAt).getTime();
    const dueBecomes = (ms: number, what: string) =>
      eventually(async () => {
        const view = await handle.query(ticketViewQuery).catch(() => undefined);
        return view?.sla?.dueAt === new Date(created + ms).toISOString() ? view : undefined;
      }, 15_000, what);

    await dueBecomes(600 * MINUTE, 'the occurrence\'s 10 hours');
    await send(e2e.api, 'PATCH', `/occurrences/${cfg.occurrenceId}`, { slaValue: 300 }, 200);
    await dueBecomes(300 * MINUTE, 'the occurrence\'s new 5 hours');

    const today = new Date().toISOString().slice(0, 10);
    const contract = await send(e2e.api, 'POST', `/customers/${cfg.customerId}/contracts`, { name: 'Gold', number: `G-${uniqueSuffix()}`, startsOn: today, slaValue: 2, slaUnit: 'hours' });
    await dueBecomes(120 * MINUTE, 'the contract\'s 2-hour package');
    // The package replaces the occurrence's SLA, however long: a later occurrence change does not move it.
    await send(e2e.api, 'PATCH', `/occurrences/${cfg.occurrenceId}`, { slaValue: 30 }, 200);
    const [ticket] = await e2e.sql<{ slaDueAt: string }[]>`SELECT sla_due_at FROM ticket WHERE id = ${t.ticketId}`;
    await new Promise((r) => setTimeout(r, 1_000));
    expect((await handle.query(ticketViewQuery)).sla?.dueAt).toBe(new Date(created + 120 * MINUTE).toISOString());

    expect((await e2e.api.as('admin', { method: 'DELETE', url: `/contracts/${contract.id}` })).statusCode).toBe(204);
    await dueBecomes(30 * MINUTE, 'the occurrence\'s 30 minutes once the contract is gone');
    const [after] = await e2e.sql<{ slaDueAt: string }[]>`SELECT sla_due_at FROM ticket WHERE id = ${t.ticketId}`;
    expect(ticket!.slaDueAt).toBe(new Date(created + 120 * MINUTE).toISOString());
    expect(after!.slaDueAt).toBe(new Date(created + 30 * MINUTE).toISOString());
    const events = await e2e.sql<{ actor: string }[]>`SELECT actor FROM ticket_event WHERE ticket_id = ${t.ticketId} AND kind = 'sla_replanned'`;
    expect(events.length).toBeGreaterThanOrEqual(4);
  });
});
