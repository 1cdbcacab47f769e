import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { Worker } from '@temporalio/worker';
import { describe, expect, it } from 'vitest';
import { changeStatusUpdate, replyReceivedSignal, ticketViewQuery, type Actor } from '../../contracts/ticket.js';
import type { TicketStatus } from '../../domain/ticket-status.js';
import { storedHistoryJson } from '../../workers/stored-history.js';
import { loadWorkflowBundle } from '../../workers/workflow-bundle.js';
import { uniqueSuffix } from '../harness/common.js';
import { eventually } from '../harness/fixtures.js';
import { BUNDLE_CACHE } from '../harness/global-setup.js';
import { insertTicket, lifecycleConfig, send, startTicketWorkflow, type LifecycleConfig } from '../harness/lifecycle.js';
import { useTimeSkipping } from '../harness/time-skipping.js';

/**
 * Resolved tickets close by themselves after their mailbox's `closeResolvedAfterHours`: the real
 * ticket workflow and activities on PostgreSQL, on Temporal's time-skipping test server, where
 * days pass in a moment. The server's clock only moves forward; each ticket is created at its
 * current time.
 */
const rig = useTimeSkipping('auto-close');

const HOUR = 3_600_000;
const SYSTEM: Actor = { userId: null, login: 'test', role: 'system', sectorIds: [] };
const HISTORIES = fileURLToPath(new URL('./histories/', import.meta.url));

let config: LifecycleConfig | undefined;
/** One configuration for the file; an SLA of ten days, so that no alert fires while the tests wait. */
const configured = async () => (config ??= await lifecycleConfig(rig.api, { slaMinutes: 14_400, thresholds: [100] }));

/** A mailbox that is not read (no watcher), for its setting. */
const mailbox = (closeResolvedAfterHours: number | null) =>
  send(rig.api, 'POST', '/mailboxes', { name: `Support${uniqueSuffix()}`, imap: { host: 'imap.example.com', port: 993, user: 'support@example.com', secret: 'secret' }, active: false, closeResolvedAfterHours });

/** A ticket of the mailbox created at the server's current time, its workflow started. */
async function ticket(mailboxId: number) {
  const at = await rig.now();
  const t = await insertTicket(rig.sql, await configured(), { ageMs: Date.now() - at.getTime() });
  await rig.sql`UPDATE ticket SET mailbox_id = ${mailboxId}, channel = 'email' WHERE id = ${t.ticketId}`;
  return { ...t, handle: await startTicketWorkflow(rig.client, rig.taskQueue, t.protocol) };
}
type Ticket = Awaited<ReturnType<typeof ticket>>;

const setStatus = (t: Ticket, status: TicketStatus) => t.handle.executeUpdate(changeStatusUpdate, { args: [{ status, actor: SYSTEM, note: 'test' }] });
const row = async (t: Ticket) =>
  (await rig.sql<{ status: TicketStatus; resolvedAt: string | null; closedAt: string | null }[]>`SELECT status, resolved_at, closed_at FROM ticket WHERE id = ${t.ticketId}`)[0]!;
/** Milliseconds from one stored instant to another. */
const between = (from: string | null, to: string | null) => new Date(to!).getTime() - new Date(from!).getTime();
const statusNow = async (t: Ticket) => (await t.handle.query(ticketViewQuery)).status;

/** Waits until the workflow has closed the ticket; its last status change, as the timeline has it. */
async function closing(t: Ticket) {
  await eventually(async () => ((await row(t)).status === 'closed' ? true : undefined), 10_000, `ticket ${t.protocol} to close`);
  const [event] = await rig.sql<{ actor: string; at: string; data: Record<string, unknown> }[]>`
    SELECT actor, at, data FROM ticket_event WHERE ticket_id = ${t.ticketId} AND kind = 'status_changed' ORDER BY id DESC LIMIT 1`;
  return event!;
}

describe('a resolved ticket', () => {
  it("closes by itself its mailbox's hours after it was resolved, and its workflow ends", async () => {
    const t = await ticket((await mailbox(48)).id);
    await setStatus(t, 'resolved');
    const { resolvedAt } = await row(t);
    await rig.env.sleep(47 * HOUR);
    expect(await statusNow(t)).toBe('resolved');
    expect((await row(t)).status).toBe('resolved');

    await rig.env.sleep(2 * HOUR);
    const event = await closing(t);
    expect(event).toMatchObject({ actor: 'system:auto-close', data: { from: 'resolved', to: 'closed', reason: 'resolved for 48 hours without a reply' } });
    // On the second, in the workflow's time (a timer fires no earlier than its instant).
    expect(between(resolvedAt, event.at) - 48 * HOUR).toBeGreaterThanOrEqual(0);
    expect(between(resolvedAt, event.at) - 48 * HOUR).toBeLessThan(1000);
    expect(between((await row(t)).closedAt, event.at)).toBe(0);
    expect((await t.handle.describe()).status.name).toBe('COMPLETED');

    // The path replays; RECORD_HISTORIES=1 stores it with the other histories.
    const history = await t.handle.fetchHistory();
    await Worker.runReplayHistory({ workflowBundle: await loadWorkflowBundle(BUNDLE_CACHE) }, history, 'auto-closed');
    if (process.env.RECORD_HISTORIES) await writeFile(`${HISTORIES}ticketLifecycle-auto-closed.auto-close.json`, storedHistoryJson(history), { flag: 'wx' });
  });

  it('reopened by a reply stays open, and counts its hours again from its next resolution', async () => {
    const t = await ticket((await mailbox(48)).id);
    await setStatus(t, 'resolved');
    await rig.env.sleep(40 * HOUR);
    await t.handle.signal(replyReceivedSignal, { emailId: 0 });
    await eventually(async () => ((await statusNow(t)) === 'open' ? true : undefined), 10_000, 'the reply to reopen the ticket');
    await rig.env.sleep(10 * HOUR);
    expect(await statusNow(t)).toBe('open');

    await setStatus(t, 'resolved');
    const { resolvedAt } = await row(t);
    await rig.env.sleep(47 * HOUR);
    expect(await statusNow(t)).toBe('resolved');
    await rig.env.sleep(2 * HOUR);
    const event = await closing(t);
    expect(event.actor).toBe('system:auto-close');
    expect(between(resolvedAt, event.at) - 48 * HOUR).toBeGreaterThanOrEqual(0);
    expect(between(resolvedAt, event.at) - 48 * HOUR).toBeLessThan(1000);
  });

  it('of a mailbox that does not close them stays resolved until someone closes it', async () => {
    const t = await ticket((await mailbox(null)).id);
    await setStatus(t, 'resolved');
    await rig.env.sleep(90 * 24 * HOUR);
    expect(await statusNow(t)).toBe('resolved');
    expect((await row(t)).status).toBe('resolved');
    await setStatus(t, 'closed');
    expect((await closing(t)).actor).toBe('system:test');
  });
});
