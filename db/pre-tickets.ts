import type { PreTicketConversionRequest, PreTicketConversionResult } from '../contracts/triage.js';
import { customerNameFromAddress } from '../domain/customer-naming.js';
import { addressKey } from '../domain/email-address.js';
import { emailTicketContent } from '../domain/email-ticket.js';
import type { SlaUnit } from '../domain/sla.js';
import { ticketSector } from '../domain/ticket-sector.js';
import type { PreTicket, PreTicketListQuery } from '../schemas/pre-tickets.js';
import type { Queryable, Sql } from './client.js';
import { containing, where, type Fragment } from './crud.js';
import { findOrCreateByEmail } from './customers.js';
import { addSolutionSteps } from './ticket-lifecycle.js';
import { insertEmailTicket } from './tickets.js';

/**
 * Triage (SPEC §4.5): the e-mails whose outcome is `pre_ticket`, and what an admin or agent
 * decided for each (pre_ticket_triage: converted into a ticket, or discarded with a reason).
 * Part of the inbound e-mail aggregate; a decision is taken once, under the e-mail's row lock.
 */

interface PreTicketRow {
  emailId: number;
  mailboxId: number;
  mailboxName: string;
  receivedAt: string;
  subject: string | null;
  fromAddress: string | null;
  fromName: string | null;
  excerpt: string;
  attachments: number;
  reason: string | null;
  status: 'converted' | 'discarded' | null;
  protocol: string | null;
  triageReason: string | null;
  byLogin: string | null;
  at: string | null;
}

function toPreTicket(r: PreTicketRow): PreTicket {
  const act = { by: r.byLogin ?? '', at: r.at ?? '' };
  return {
    emailId: r.emailId,
    mailbox: { id: r.mailboxId, name: r.mailboxName },
    receivedAt: r.receivedAt,
    subject: r.subject,
    fromAddress: r.fromAddress,
    fromName: r.fromName,
    excerpt: r.excerpt,
    attachments: r.attachments,
    reason: r.reason,
    status: r.status ?? 'pending',
    converted: r.status === 'converted' ? { protocol: r.protocol ?? '', ...act } : null,
    discarded: r.status === 'discarded' ? { reason: r.triageReason ?? '', ...act } : null,
  };
}

/** Pre-tickets matching `conditions` (over `e`, inbound_email, and `p`, pre_ticket_triage), newest first. */
async function selectPreTickets(sql: Queryable, conditions: (Fragment | false)[], limit: number): Promise<PreTicketRow[]> {
  return sql<PreTicketRow[]>`
    SELECT e.id AS email_id, e.mailbox_id, m.name AS mailbox_name, e.received_at, e.subject, e.from_address, e.from_name,
           left(COALESCE(e.text_body, ''), 300) AS excerpt,
           (SELECT count(*)::int FROM email_attachment a WHERE a.email_id = e.id) AS attachments,
           e.outcome_reason AS reason, p.status, t.protocol, p.reason AS triage_reason, p.by_login, p.at
      FROM inbound_email e
      JOIN mailbox m ON m.id = e.mailbox_id
      LEFT JOIN pre_ticket_triage p ON p.email_id = e.id
      LEFT JOIN ticket t ON t.id = p.ticket_id
     WHERE e.outcome = 'pre_ticket' AND ${where(sql, conditions)}
     ORDER BY e.id DESC
     LIMIT ${limit}`;
}

/** Pre-tickets with the list's filters, newest first; `nextBefore` is the cursor of the next page. */
export async function listPreTickets(sql: Queryable, q: PreTicketListQuery): Promise<{ items: PreTicket[]; nextBefore: number | null }> {
  const rows = await selectPreTickets(
    sql,
    [
      q.status === 'pending' ? sql`p.email_id IS NULL` : sql`p.status = ${q.status}`,
      q.mailboxId !== undefined && sql`e.mailbox_id = ${q.mailboxId}`,
      q.sender !== undefined && sql`(e.from_address ILIKE ${containing(q.sender)} OR e.from_name ILIKE ${containing(q.sender)})`,
      q.receivedFrom !== undefined && sql`e.received_at >= ${q.receivedFrom}`,
      q.receivedTo !== undefined && sql`e.received_at < ${q.receivedTo}`,
      q.before !== undefined && sql`e.id < ${q.before}`,
    ],
    q.limit + 1,
  );
  const page = rows.slice(0, q.limit).map(toPreTicket);
  return { items: page, nextBefore: rows.length > q.limit ? (page.at(-1)?.emailId ?? null) : null };
}

/** One pre-ticket, whatever its status; undefined when the e-mail is not one. */
export async function getPreTicket(sql: Queryable, emailId: number): Promise<PreTicket | undefined> {
  const [row] = await selectPreTickets(sql, [sql`e.id = ${emailId}`], 1);
  return row && toPreTicket(row);
}

/** The outcome of an e-mail that is not (or no longer) a pre-ticket, or 'missing'. */
export type NotAPreTicket = { kind: 'missing' } | { kind: 'not-pre-ticket'; outcome: string | null };

interface LockedEmail {
  mailboxId: number;
  outcome: string | null;
  subject: string | null;
  textBody: string | null;
  fromAddress: string | null;
}

/** Locks the e-mail's row (the one lock both decisions take) and reads what was decided for it. */
async function lockForTriage(tx: Queryable, emailId: number): Promise<{ email: LockedEmail; decided: PreTicketConversionResult | undefined } | NotAPreTicket> {
  const [email] = await tx<LockedEmail[]>`
    SELECT mailbox_id, outcome, subject, text_body, from_address FROM inbound_email WHERE id = ${emailId} FOR UPDATE`;
  if (!email) return { kind: 'missing' };
  if (email.outcome !== 'pre_ticket') return { kind: 'not-pre-ticket', outcome: email.outcome };
  const [p] = await tx<{ status: 'converted' | 'discarded'; protocol: string | null; requestId: string | null; reason: string | null; byLogin: string; at: string }[]>`
    SELECT p.status, t.protocol, p.request_id, p.reason, p.by_login, p.at
      FROM pre_ticket_triage p LEFT JOIN ticket t ON t.id = p.ticket_id WHERE p.email_id = ${emailId}`;
  const decided: PreTicketConversionResult | undefined = !p
    ? undefined
    : p.status === 'converted'
      ? { kind: 'converted', protocol: p.protocol ?? '', requestId: p.requestId, by: p.byLogin, at: p.at }
      : { kind: 'discarded', by: p.byLogin, at: p.at, reason: p.reason ?? '' };
  return { email, decided };
}

/** Where the ticket of a conversion comes from: the chosen occurrence, its type, the mailbox and the converter. */
interface Classification {
  occurrenceTypeId: number;
  occurrenceTypeSectorId: number | null;
  dynamicSectorFromCreator: boolean;
  occurrenceSectorId: number | null;
  slaValue: number | null;
  slaUnit: SlaUnit | null;
  mailboxSectorId: number | null;
  customerTypeId: number | null;
  regionId: number | null;
  /** The solution to start: the chosen one, else the mailbox's when it belongs to the occurrence. */
  solutionId: number | null;
  solutionName: string | null;
}

export type Conversion = PreTicketConversionResult | NotAPreTicket | { kind: 'unprocessable'; reason: string };

/**
 * Converts a pre-ticket into a ticket, once (SPEC §4.5): under the e-mail's row lock, the
 * sender's customer (SPEC §4.6, as for mail converted automatically), the ticket with the chosen
 * classification and the converter as its creator, its `created` and `converted_from_pre_ticket`
 * events, the solution's steps, and the triage record, all in one transaction. A pre-ticket
 * decided before gives that decision back (a retried activity gets its own conversion).
 */
export async function convertPreTicket(sql: Sql, r: PreTicketConversionRequest, openedAt: Date): Promise<Conversion> {
  return sql.begin(async (tx) => {
    const locked = await lockForTriage(tx, r.emailId);
    if ('kind' in locked) return locked;
    const { email, decided } = locked;
    if (decided) return decided;
    const address = email.fromAddress;
    const key = address ? addressKey(address) : null;
    const name = address ? customerNameFromAddress(address) : null;
    if (!address || !key || !name) return { kind: 'unprocessable', reason: `e-mail ${r.emailId} has no valid sender address (${address ?? 'none'})` };
    const [c] = await tx<Classification[]>`
      SELECT o.occurrence_type_id, ty.sector_id AS occurrence_type_sector_id, COALESCE(ty.dynamic_sector_from_creator, false) AS dynamic_sector_from_creator,
             o.sector_id AS occurrence_sector_id, o.sla_value, o.sla_unit, m.sector_id AS mailbox_sector_id, m.customer_type_id, m.region_id,
             s.id AS solution_id, s.name AS solution_name
        FROM occurrence o
        JOIN occurrence_type ty ON ty.id = o.occurrence_type_id
        JOIN mailbox m ON m.id = ${email.mailboxId}
        LEFT JOIN solution s ON s.occurrence_id = o.id AND s.id = COALESCE(${r.solutionId}::bigint, m.solution_id)
       WHERE o.id = ${r.occurrenceId}`;
    if (!c || c.occurrenceTypeId !== r.occurrenceTypeId) return { kind: 'unprocessable', reason: `occurrence ${r.occurrenceId} is not an occurrence of type ${r.occurrenceTypeId}` };
    if (r.solutionId !== null && c.solutionId === null) return { kind: 'unprocessable', reason: `solution ${r.solutionId} is not a solution of occurrence ${r.occurrenceId}` };
    const customer = await findOrCreateByEmail(tx as unknown as Sql, { name, email: address, emailKey: key, regionId: c.regionId, customerTypeId: c.customerTypeId });
    const sectorId = ticketSector({ ...c, creatorSectorIds: r.actor.sectorIds });
    const ticket = await insertEmailTicket(tx, {
      sourceEmailId: r.emailId,
      ...emailTicketContent(email, c, openedAt),
      customerId: customer.id,
      mailboxId: email.mailboxId,
      creatorUserId: r.actor.userId,
      occurrenceTypeId: r.occurrenceTypeId,
      occurrenceId: r.occurrenceId,
      sectorId,
      followsUpTicketId: null,
      openedAt,
    });
    // Under the e-mail's row lock a pre-ticket has no ticket: one here is a broken invariant, not a user's error.
    if (!ticket) throw new Error(`e-mail ${r.emailId} has a ticket already, yet it is an undecided pre-ticket`);
    const { protocol } = ticket;
    const actor = `user:${r.actor.login}`;
    await tx`
      INSERT INTO ticket_event (ticket_id, kind, actor, at, data)
      VALUES (${ticket.id}, 'created', ${actor}, ${openedAt}, ${tx.json({ emailId: r.emailId, preTicket: true })}),
             (${ticket.id}, 'converted_from_pre_ticket', ${actor}, ${openedAt},
              ${tx.json({ emailId: r.emailId, occurrenceTypeId: r.occurrenceTypeId, occurrenceId: r.occurrenceId, solutionId: c.solutionId })})`;
    if (c.solutionId !== null) {
      await addSolutionSteps(tx as unknown as Sql, {
        ticketId: ticket.id,
        key: 'solution:main',
        at: openedAt.toISOString(),
        solutionId: c.solutionId,
        flow: 'main',
        event: { kind: 'solution_started', actor, data: { solutionId: c.solutionId, solution: c.solutionName, flow: 'main' } },
      });
    }
    await tx`
      INSERT INTO pre_ticket_triage (email_id, status, ticket_id, request_id, by_user_id, by_login, at)
      VALUES (${r.emailId}, 'converted', ${ticket.id}, ${r.requestId}, ${r.actor.userId}, ${r.actor.login}, ${openedAt})`;
    return { kind: 'converted', protocol, requestId: r.requestId, by: r.actor.login, at: openedAt.toISOString() };
  });
}

/** Discards a pre-ticket with its reason, once; a pre-ticket decided before gives that decision back (`first: false`). */
export async function discardPreTicket(
  sql: Sql,
  d: { emailId: number; reason: string; userId: number; login: string },
): Promise<(PreTicketConversionResult & { first: boolean }) | NotAPreTicket> {
  return sql.begin(async (tx) => {
    const locked = await lockForTriage(tx, d.emailId);
    if ('kind' in locked) return locked;
    if (locked.decided) return { ...locked.decided, first: false };
    const [p] = await tx<{ at: string }[]>`
      INSERT INTO pre_ticket_triage (email_id, status, reason, by_user_id, by_login)
      VALUES (${d.emailId}, 'discarded', ${d.reason}, ${d.userId}, ${d.login})
      RETURNING at`;
    return { kind: 'discarded', by: d.login, at: p!.at, reason: d.reason, first: true };
  });
}
