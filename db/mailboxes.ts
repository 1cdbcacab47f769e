import type { MailboxRuleFacts, MailboxRuleSettings } from '../domain/mailbox-rules.js';
import type { SlaUnit } from '../domain/sla.js';
import type { Mailbox, MailboxCreate, MailboxListQuery, MailboxUpdate } from '../schemas/mailboxes.js';
import type { Queryable, Sql } from './client.js';
import { containing, defined, toPage, where, type Fragment, type Page } from './crud.js';

/**
 * The mailbox aggregate: its configuration (the API's store), what the activities read to
 * connect and convert, and its cursor. The IMAP secret is stored sealed (config/secret-box.ts):
 * this file only ever sees ciphertext, and the entity shows `imap.hasSecret`, never the secret.
 */

/** IMAP settings with the secret in the clear: what a client connects with. */
export interface ImapSettings {
  host: string;
  port: number;
  tls: boolean;
  user: string;
  secret: string;
  folder: string;
}

/** IMAP settings as stored: the secret sealed, to be opened just before connecting. */
export interface SealedImapSettings extends Omit<ImapSettings, 'secret'> {
  sealedSecret: string;
}

/** A create or PATCH body with its IMAP secret (if any) already sealed. */
export type SealedMailboxCreate = Omit<MailboxCreate, 'imap'> & { imap: Omit<MailboxCreate['imap'], 'secret'> & { sealedSecret: string } };
export type SealedMailboxUpdate = Omit<MailboxUpdate, 'imap'> & { imap?: Omit<NonNullable<MailboxUpdate['imap']>, 'secret'> & { sealedSecret?: string } };

/** The columns of the entity: the IMAP settings nested, the secret reduced to `hasSecret`. */
const ENTITY = (sql: Queryable) => sql`
  id, name,
  json_build_object('host', imap_host, 'port', imap_port, 'tls', imap_tls, 'user', imap_user, 'folder', imap_folder, 'hasSecret', imap_secret <> '') AS imap,
  sector_id, auto_convert, customer_type_id, region_id, creator_user_id, occurrence_type_id, occurrence_id,
  solution_id, auto_distribute, distribution_target, active, created_at, updated_at`;

/** camelCase body keys → the row's columns (`imap.host` → `imapHost`, written as imap_host). */
function columns(input: SealedMailboxCreate | SealedMailboxUpdate): Record<string, unknown> {
  const { imap, ...settings } = input;
  const flat: Record<string, unknown> = { ...settings };
  if (imap) {
    const { sealedSecret, ...rest } = imap;
    for (const [k, v] of Object.entries(rest)) flat[`imap${k[0]!.toUpperCase()}${k.slice(1)}`] = v;
    flat.imapSecret = sealedSecret;
  }
  return defined(flat);
}

/** The mailbox store (the five functions of api/crud-routes.ts `Store`), plus a row lock for read-check-write. */
export const mailboxes = {
  async list(sql: Queryable, q: MailboxListQuery): Promise<Page<Mailbox>> {
    const conditions: (Fragment | false)[] = [
      q.name !== undefined && sql`name ILIKE ${containing(q.name)}`,
      q.sectorId !== undefined && sql`sector_id = ${q.sectorId}`,
      q.active !== undefined && sql`active = ${q.active}`,
      q.autoConvert !== undefined && sql`auto_convert = ${q.autoConvert}`,
      q.after !== undefined && sql`id > ${q.after}`,
    ];
    const rows = await sql<Mailbox[]>`SELECT ${ENTITY(sql)} FROM mailbox WHERE ${where(sql, conditions)} ORDER BY id LIMIT ${q.limit + 1}`;
    return toPage(rows, q.limit);
  },

  async get(sql: Queryable, id: number): Promise<Mailbox | undefined> {
    const [row] = await sql<Mailbox[]>`SELECT ${ENTITY(sql)} FROM mailbox WHERE id = ${id}`;
    return row;
  },

  /** The mailbox, locked until the transaction ends (so a PATCH checks the rules against what it changes). */
  async lock(tx: Queryable, id: number): Promise<Mailbox | undefined> {
    const [row] = await tx<Mailbox[]>`SELECT ${ENTITY(tx)} FROM mailbox WHERE id = ${id} FOR UPDATE`;
    return row;
  },

  async create(sql: Queryable, input: SealedMailboxCreate): Promise<Mailbox> {
    const [row] = await sql<Mailbox[]>`INSERT INTO mailbox ${sql(columns(input))} RETURNING ${ENTITY(sql)}`;
    return row!;
  },

  async update(sql: Queryable, id: number, patch: SealedMailboxUpdate): Promise<Mailbox | undefined> {
    const values = columns(patch);
    if (Object.keys(values).length === 0) return this.get(sql, id);
    const [row] = await sql<Mailbox[]>`UPDATE mailbox SET ${sql(values)}, updated_at = now() WHERE id = ${id} RETURNING ${ENTITY(sql)}`;
    return row;
  },

  /** False when there was nothing to delete; a mailbox that has received e-mail raises the database's 23503. */
  async remove(sql: Queryable, id: number): Promise<boolean> {
    const rows = await sql`DELETE FROM mailbox WHERE id = ${id} RETURNING id`;
    return rows.length > 0;
  },
};

/** What SPEC §3's rules need to know about the sector, type, occurrence and solution the settings name. */
export async function mailboxRuleFacts(sql: Queryable, s: MailboxRuleSettings): Promise<MailboxRuleFacts> {
  const [sector] = s.sectorId === null ? [] : await sql`SELECT 1 FROM sector WHERE id = ${s.sectorId}`;
  const [occurrenceType] =
    s.occurrenceTypeId === null ? [] : await sql<NonNullable<MailboxRuleFacts['occurrenceType']>[]>`SELECT name, sector_id FROM occurrence_type WHERE id = ${s.occurrenceTypeId}`;
  const [occurrence] =
    s.occurrenceId === null
      ? []
      : await sql<NonNullable<MailboxRuleFacts['occurrence']>[]>`SELECT name, occurrence_type_id, sector_id, solution_group_id FROM occurrence WHERE id = ${s.occurrenceId}`;
  const [solution] = s.solutionId === null ? [] : await sql<NonNullable<MailboxRuleFacts['solution']>[]>`SELECT name, occurrence_id FROM solution WHERE id = ${s.solutionId}`;
  return { sectorFound: sector !== undefined, occurrenceType, occurrence, solution };
}

/** What the IMAP activities read: the connection with its sealed secret, and the mode. */
export interface MailboxRow {
  id: number;
  name: string;
  imap: SealedImapSettings;
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
    imap: { host: row.imapHost, port: row.imapPort, tls: row.imapTls, user: row.imapUser, sealedSecret: row.imapSecret, folder: row.imapFolder },
  };
}

export async function listActiveMailboxIds(sql: Sql): Promise<number[]> {
  const rows = await sql<{ id: number }[]>`SELECT id FROM mailbox WHERE active ORDER BY id`;
  return rows.map((r) => r.id);
}

/** What a mailbox with auto-conversion gives every ticket it creates (SPEC §3, §4.7). */
export interface ConversionSettings {
  mailboxId: number;
  autoConvert: boolean;
  mailboxSectorId: number | null;
  customerTypeId: number | null;
  regionId: number | null;
  creatorUserId: number | null;
  creatorSectorIds: number[];
  occurrenceTypeId: number | null;
  occurrenceTypeSectorId: number | null;
  dynamicSectorFromCreator: boolean;
  occurrenceId: number | null;
  occurrenceSectorId: number | null;
  slaValue: number | null;
  slaUnit: SlaUnit | null;
}

export async function getConversionSettings(sql: Sql, mailboxId: number): Promise<ConversionSettings | undefined> {
  const [row] = await sql<ConversionSettings[]>`
    SELECT m.id AS mailbox_id, m.auto_convert, m.sector_id AS mailbox_sector_id, m.customer_type_id, m.region_id, m.creator_user_id,
           COALESCE((SELECT array_agg(us.sector_id ORDER BY us.sector_id) FROM user_sector us WHERE us.user_id = m.creator_user_id), '{}') AS creator_sector_ids,
           m.occurrence_type_id, t.sector_id AS occurrence_type_sector_id, COALESCE(t.dynamic_sector_from_creator, false) AS dynamic_sector_from_creator,
           m.occurrence_id, o.sector_id AS occurrence_sector_id, o.sla_value, o.sla_unit
      FROM mailbox m
      LEFT JOIN occurrence_type t ON t.id = m.occurrence_type_id
      LEFT JOIN occurrence o ON o.id = m.occurrence_id
     WHERE m.id = ${mailboxId}`;
  return row;
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
