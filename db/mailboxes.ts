import type { Sql } from './client.js';

export interface ImapSettings {
  host: string;
  port: number;
  tls: boolean;
  user: string;
  secret: string;
  folder: string;
}

export interface MailboxRow {
  id: number;
  name: string;
  imap: ImapSettings;
  autoConvert: boolean;
  active: boolean;
}

export async function getMailbox(sql: Sql, id: number): Promise<MailboxRow | undefined> {
  const [row] = await sql<(Omit<MailboxRow, 'imap'> & { imapHost: string; imapPort: number; imapTls: boolean; imapUser: string; imapSecret: string; imapFolder: string })[]>`
    SELECT id, name, imap_host, imap_port, imap_tls, imap_user, imap_secret, imap_folder, auto_convert, active FROM mailbox WHERE id = ${id}`;
  if (!row) return undefined;
  return {
    id: row.id,
    name: row.name,
    autoConvert: row.autoConvert,
    active: row.active,
    imap: { host: row.imapHost, port: row.imapPort, tls: row.imapTls, user: row.imapUser, secret: row.imapSecret, folder: row.imapFolder },
  };
}

export async function listActiveMailboxIds(sql: Sql): Promise<number[]> {
  const rows = await sql<{ id: number }[]>`SELECT id FROM mailbox WHERE active ORDER BY id`;
  return rows.map((r) => r.id);
}

export interface MailboxCursor {
  uidValidity: number;
  lastUid: number;
}

export async function getCursor(sql: Sql, mailboxId: number): Promise<MailboxCursor | undefined> {
  const [row] = await sql<MailboxCursor[]>`SELECT uid_validity, last_uid FROM mailbox_cursor WHERE mailbox_id = ${mailboxId}`;
  return row;
}

/** Moves the cursor forward only: a replayed or late call never moves it back. */
export async function advanceCursor(sql: Sql, mailboxId: number, cursor: MailboxCursor): Promise<void> {
  await sql`
    INSERT INTO mailbox_cursor (mailbox_id, uid_validity, last_uid)
    VALUES (${mailboxId}, ${cursor.uidValidity}, ${cursor.lastUid})
    ON CONFLICT (mailbox_id) DO UPDATE SET
      last_uid = CASE WHEN mailbox_cursor.uid_validity = excluded.uid_validity
                      THEN GREATEST(mailbox_cursor.last_uid, excluded.last_uid) ELSE excluded.last_uid END,
      uid_validity = excluded.uid_validity,
      updated_at = now()`;
}
