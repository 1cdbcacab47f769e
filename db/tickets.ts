import { formatProtocol } from '../domain/protocol.js';
import type { Sql } from './client.js';

export interface NewEmailTicket {
  sourceEmailId: number;
  subject: string;
  description: string;
  customerId: number;
  mailboxId: number;
  creatorUserId: number | null;
  occurrenceTypeId: number | null;
  occurrenceId: number | null;
  sectorId: number | null;
  slaDueAt: Date | null;
  openedAt: Date;
}

export interface CreatedTicket {
  ticketId: number;
  protocol: string;
  created: boolean;
}

/**
 * One ticket per source e-mail, however often this runs: the unique source_email_id
 * decides, so a retried activity returns the ticket the first attempt made.
 */
export async function createTicketFromEmail(sql: Sql, t: NewEmailTicket): Promise<CreatedTicket> {
  return sql.begin(async (tx) => {
    const [existing] = await tx<{ id: number; protocol: string }[]>`SELECT id, protocol FROM ticket WHERE source_email_id = ${t.sourceEmailId}`;
    if (existing) return { ticketId: existing.id, protocol: existing.protocol, created: false };
    const [seq] = await tx<{ n: number }[]>`SELECT nextval('protocol_sequence') AS n`;
    const protocol = formatProtocol(t.openedAt.getUTCFullYear(), seq!.n);
    const [inserted] = await tx<{ id: number }[]>`
      INSERT INTO ticket (protocol, subject, description, customer_id, channel, mailbox_id, source_email_id,
                          creator_user_id, occurrence_type_id, occurrence_id, sector_id, sla_due_at, created_at, updated_at)
      VALUES (${protocol}, ${t.subject}, ${t.description}, ${t.customerId}, 'email', ${t.mailboxId}, ${t.sourceEmailId},
              ${t.creatorUserId}, ${t.occurrenceTypeId}, ${t.occurrenceId}, ${t.sectorId}, ${t.slaDueAt}, ${t.openedAt}, ${t.openedAt})
      ON CONFLICT (source_email_id) DO NOTHING
      RETURNING id`;
    if (!inserted) {
      const [raced] = await tx<{ id: number; protocol: string }[]>`SELECT id, protocol FROM ticket WHERE source_email_id = ${t.sourceEmailId}`;
      return { ticketId: raced!.id, protocol: raced!.protocol, created: false };
    }
    await tx`
      INSERT INTO ticket_event (ticket_id, kind, actor, at, data)
      VALUES (${inserted.id}, 'created', 'system:email', ${t.openedAt}, ${tx.json({ emailId: t.sourceEmailId })})`;
    return { ticketId: inserted.id, protocol, created: true };
  });
}
