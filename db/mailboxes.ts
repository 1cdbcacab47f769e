import type { MailboxRuleFacts, MailboxRuleSettings } from '../domain/mailbox-rules.js';
import { DEFAULT_MAX_MESSAGE_BYTES, type AfterProcessing, type ImapAuth } from '../domain/mailbox-settings.js';
import type { SlaUnit } from '../domain/sla.js';
import type { Mailbox, MailboxCreate, MailboxListQuery, MailboxStatus, MailboxUpdate } from '../schemas/mailboxes.js';
import type { Queryable, Sql } from './client.js';
import { containing, defined, iso, toPage, where, type Fragment, type Page } from './crud.js';

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

/** An OAuth 2.0 client as stored: its client secret and refresh token sealed. */
export interface SealedOAuthSettings {
  tokenUrl: string;
  clientId: string;
  scope: string | null;
  sealedClientSecret: string | null;
  sealedRefreshToken: string;
}

/**
 * IMAP settings as stored: the secret sealed, to be opened just before connecting. With
 * `auth: 'oauth2'` there may be no password: `sealedSecret` is then ''.
 */
export interface SealedImapSettings extends Omit<ImapSettings, 'secret'> {
  sealedSecret: string;
  auth: ImapAuth;
  oauth: SealedOAuthSettings | null;
}

/** The OAuth fields of a create or PATCH body, its secrets sealed (null clears an optional one). */
export interface SealedOAuthInput {
  tokenUrl?: string;
  clientId?: string;
  scope?: string | null;
  sealedClientSecret?: string | null;
  sealedRefreshToken?: string;
}
type SealedImap<I> = Omit<I, 'secret' | 'oauth'> & { sealedSecret?: string; oauth?: SealedOAuthInput };

/** A create or PATCH body with its secrets (IMAP, OAuth, push) already sealed. */
export type SealedMailboxCreate = Omit<MailboxCreate, 'imap' | 'pushSecret'> & { imap: SealedImap<MailboxCreate['imap']>; sealedPushSecret?: string | null };
export type SealedMailboxUpdate = Omit<MailboxUpdate, 'imap' | 'pushSecret'> & { imap?: SealedImap<NonNullable<MailboxUpdate['imap']>>; sealedPushSecret?: string | null };

/** The columns of the entity: the IMAP settings nested, every secret reduced to a `has...` flag. */
const ENTITY = (sql: Queryable) => sql`
  id, name,
  json_build_object('host', imap_host, 'port', imap_port, 'tls', imap_tls, 'user', imap_user, 'folder', imap_folder,
    'hasSecret', COALESCE(imap_secret <> '', false), 'auth', imap_auth,
    'oauth', CASE WHEN oauth_token_url IS NULL THEN NULL ELSE json_build_object(
      'tokenUrl', oauth_token_url, 'clientId', oauth_client_id, 'scope', oauth_scope,
      'hasClientSecret', oauth_client_secret IS NOT NULL, 'hasRefreshToken', oauth_refresh_token IS NOT NULL) END) AS imap,
  sector_id, auto_convert, customer_type_id, region_id, creator_user_id, occurrence_type_id, occurrence_id,
  solution_id, auto_distribute, distribution_target, active,
  acknowledge, acknowledgement_subject, acknowledgement_body, sender_ticket_limit, after_processing, after_processing_folder,
  max_message_bytes, close_resolved_after_hours, push_secret IS NOT NULL AS has_push_secret, created_at, updated_at`;

/** camelCase body keys → the row's columns (`imap.host` → `imapHost`, written as imap_host; `imap.oauth.tokenUrl` → oauth_token_url). */
function columns(input: SealedMailboxCreate | SealedMailboxUpdate): Record<string, unknown> {
  const { imap, sealedPushSecret, ...settings } = input;
  const flat: Record<string, unknown> = { ...settings, pushSecret: sealedPushSecret };
  if (imap) {
    const { sealedSecret, oauth, ...rest } = imap;
    for (const [k, v] of Object.entries(rest)) flat[`imap${k[0]!.toUpperCase()}${k.slice(1)}`] = v;
    flat.imapSecret = sealedSecret;
    if (oauth) {
      Object.assign(flat, {
        oauthTokenUrl: oauth.tokenUrl,
        oauthClientId: oauth.clientId,
        oauthScope: oauth.scope,
        oauthClientSecret: oauth.sealedClientSecret,
        oauthRefreshToken: oauth.sealedRefreshToken,
      });
    }
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

/** What the IMAP activities read: the connection with its sealed secrets, the mode, and how the mailbox is run. */
export interface MailboxRow {
  id: number;
  name: string;
  imap: SealedImapSettings;
  autoConvert: boolean;
  active: boolean;
  afterProcessing: AfterProcessing;
  afterProcessingFolder: string | null;
  maxMessageBytes: number;
}

interface MailboxDbRow extends Omit<MailboxRow, 'imap'> {
  imapHost: string;
  imapPort: number;
  imapTls: boolean;
  imapUser: string;
  imapSecret: string | null;
  imapFolder: string;
  imapAuth: ImapAuth;
  oauthTokenUrl: string | null;
  oauthClientId: string | null;
  oauthScope: string | null;
  oauthClientSecret: string | null;
  oauthRefreshToken: string | null;
}

export async function getMailbox(sql: Queryable, id: number): Promise<MailboxRow | undefined> {
  const [row] = await sql<MailboxDbRow[]>`
    SELECT id, name, imap_host, imap_port, imap_tls, imap_user, imap_secret, imap_folder, imap_auth,
           oauth_token_url, oauth_client_id, oauth_scope, oauth_client_secret, oauth_refresh_token,
           auto_convert, active, after_processing, after_processing_folder, max_message_bytes
      FROM mailbox WHERE id = ${id}`;
  if (!row) return undefined;
  const oauth =
    row.oauthTokenUrl && row.oauthClientId && row.oauthRefreshToken
      ? { tokenUrl: row.oauthTokenUrl, clientId: row.oauthClientId, scope: row.oauthScope, sealedClientSecret: row.oauthClientSecret, sealedRefreshToken: row.oauthRefreshToken }
      : null;
  return {
    id: row.id,
    name: row.name,
    autoConvert: row.autoConvert,
    active: row.active,
    afterProcessing: row.afterProcessing,
    afterProcessingFolder: row.afterProcessingFolder,
    maxMessageBytes: row.maxMessageBytes,
    imap: {
      host: row.imapHost,
      port: row.imapPort,
      tls: row.imapTls,
      user: row.imapUser,
      sealedSecret: row.imapSecret ?? '',
      folder: row.imapFolder,
      auth: row.imapAuth,
      oauth,
    },
  };
}

/** The mailbox's size limit (the default when the mailbox is gone: its e-mails are quarantined anyway). */
export async function getMaxMessageBytes(sql: Queryable, mailboxId: number): Promise<number> {
  const [row] = await sql<{ maxMessageBytes: number }[]>`SELECT max_message_bytes FROM mailbox WHERE id = ${mailboxId}`;
  return row?.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
}

/** Stores the refresh token a token endpoint rotated (sealed), so the next refresh uses it. */
export async function saveRotatedRefreshToken(sql: Queryable, mailboxId: number, sealedRefreshToken: string): Promise<void> {
  await sql`UPDATE mailbox SET oauth_refresh_token = ${sealedRefreshToken} WHERE id = ${mailboxId}`;
}

/** What `POST /inbound/:mailbox` needs: the sealed push secret and the size limit. */
export async function getPushSettings(sql: Queryable, mailboxId: number): Promise<{ active: boolean; sealedPushSecret: string | null; maxMessageBytes: number } | undefined> {
  const [row] = await sql<{ active: boolean; sealedPushSecret: string | null; maxMessageBytes: number }[]>`
    SELECT active, push_secret AS sealed_push_secret, max_message_bytes FROM mailbox WHERE id = ${mailboxId}`;
  return row;
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

/** What one round of the watcher saw (each part optional: it writes what it knows). */
export interface WatcherObservation {
  /** The folder as the server showed it: its UIDVALIDITY, its message count, and messages above the cursor not yet stored. */
  folder?: { uidValidity: number; messages: number; backlog: number };
  /** The newest message stored this round. */
  lastRead?: { uidValidity: number; uid: number };
}

/**
 * The watcher is connected and heard from now, with what it saw. `connected_at` keeps the
 * start of an unbroken stretch of good rounds; an error ends it (recordWatcherError).
 */
export async function recordWatcherRound(sql: Queryable, mailboxId: number, o: WatcherObservation = {}): Promise<void> {
  const f = o.folder;
  const r = o.lastRead;
  await sql`
    INSERT INTO mailbox_status AS s (mailbox_id, connected, connected_at, seen_at, server_uid_validity, server_messages, server_backlog, checked_at,
                                     last_read_at, last_read_uid_validity, last_read_uid)
    VALUES (${mailboxId}, true, now(), now(), ${f?.uidValidity ?? null}, ${f?.messages ?? null}, ${f?.backlog ?? null}, ${f ? sql`now()` : null},
            ${r ? sql`now()` : null}, ${r?.uidValidity ?? null}, ${r?.uid ?? null})
    ON CONFLICT (mailbox_id) DO UPDATE SET
      connected = true,
      connected_at = CASE WHEN s.connected THEN s.connected_at ELSE now() END,
      seen_at = now(),
      server_uid_validity = COALESCE(excluded.server_uid_validity, s.server_uid_validity),
      server_messages = COALESCE(excluded.server_messages, s.server_messages),
      server_backlog = COALESCE(excluded.server_backlog, s.server_backlog),
      checked_at = COALESCE(excluded.checked_at, s.checked_at),
      last_read_at = COALESCE(excluded.last_read_at, s.last_read_at),
      last_read_uid_validity = COALESCE(excluded.last_read_uid_validity, s.last_read_uid_validity),
      last_read_uid = COALESCE(excluded.last_read_uid, s.last_read_uid)`;
}

/** The watcher lost (or could not make) its connection: the error and its time, kept until the next one. */
export async function recordWatcherError(sql: Queryable, mailboxId: number, message: string): Promise<void> {
  // An error quotes the server, which may say anything: it must be storable.
  const text = message.replaceAll('\u0000', '').slice(0, 2000);
  await sql`
    INSERT INTO mailbox_status AS s (mailbox_id, connected, last_error, last_error_at)
    VALUES (${mailboxId}, false, ${text}, now())
    ON CONFLICT (mailbox_id) DO UPDATE SET connected = false, last_error = excluded.last_error, last_error_at = excluded.last_error_at`;
}

/** How long without a sign of life the watcher counts as disconnected (it writes one at least every minute while it waits). */
export const WATCHER_SILENCE_SECONDS = 150;

/** The live status of a mailbox (GET /mailboxes/:id/status), from the watcher's last writes, the cursor and the e-mails. */
export async function getMailboxStatus(sql: Queryable, mailboxId: number): Promise<MailboxStatus | undefined> {
  const [row] = await sql<MailboxStatus[]>`
    SELECT m.id AS mailbox_id, m.active,
           COALESCE(m.active AND s.connected AND s.seen_at > now() - make_interval(secs => ${WATCHER_SILENCE_SECONDS}), false) AS connected,
           CASE WHEN s.connected THEN s.connected_at END AS connected_since,
           s.seen_at AS last_seen_at,
           CASE WHEN s.last_error IS NULL THEN NULL ELSE json_build_object('message', s.last_error, 'at', ${iso(sql, sql`s.last_error_at`)}) END AS last_error,
           CASE WHEN s.last_read_uid IS NULL THEN NULL
                ELSE json_build_object('uidValidity', s.last_read_uid_validity, 'uid', s.last_read_uid, 'readAt', ${iso(sql, sql`s.last_read_at`)}) END AS last_message,
           CASE WHEN c.mailbox_id IS NULL THEN NULL
                ELSE json_build_object('uidValidity', c.uid_validity, 'lastUid', c.last_uid, 'movedAt', ${iso(sql, sql`c.updated_at`)}) END AS cursor,
           CASE WHEN s.checked_at IS NULL THEN NULL
                ELSE json_build_object('uidValidity', s.server_uid_validity, 'messages', s.server_messages, 'checkedAt', ${iso(sql, sql`s.checked_at`)}) END AS folder,
           json_build_object(
             'onServer', s.server_backlog,
             'unprocessed', (SELECT count(*) FROM inbound_email e WHERE e.mailbox_id = m.id AND e.outcome IS NULL),
             'afterProcessing', CASE WHEN m.after_processing = 'leave' THEN 0 ELSE
                                  (SELECT count(*) FROM inbound_email e WHERE e.mailbox_id = m.id AND e.outcome IS NOT NULL AND e.post_processed_at IS NULL) END
           ) AS backlog
      FROM mailbox m
      LEFT JOIN mailbox_status s ON s.mailbox_id = m.id
      LEFT JOIN mailbox_cursor c ON c.mailbox_id = m.id
     WHERE m.id = ${mailboxId}`;
  return row;
}

// ---- OAuth 2.0 login (activities/imap.ts, activities/access-tokens.ts) ----

/**
 * How a mailbox logs in to IMAP, as the IMAP activities read it: a password, or OAuth 2.0 with a
 * refresh token. Secrets stay sealed here (config/secret-box.ts); only the activity that
 * connects opens them.
 */
export type MailboxImapAuth = { kind: 'password' } | ({ kind: 'oauth2' } & MailboxOAuth);

export interface MailboxOAuth {
  tokenUrl: string;
  clientId: string;
  sealedClientSecret: string | null;
  sealedRefreshToken: string;
  scope: string | null;
}

interface Row {
  imapAuth: 'password' | 'oauth2';
  oauthTokenUrl: string | null;
  oauthClientId: string | null;
  oauthClientSecret: string | null;
  oauthRefreshToken: string | null;
  oauthScope: string | null;
}

export async function getMailboxImapAuth(sql: Queryable, mailboxId: number): Promise<MailboxImapAuth | undefined> {
  const [row] = await sql<Row[]>`
    SELECT imap_auth, oauth_token_url, oauth_client_id, oauth_client_secret, oauth_refresh_token, oauth_scope FROM mailbox WHERE id = ${mailboxId}`;
  if (!row) return undefined;
  if (row.imapAuth === 'password') return { kind: 'password' };
  // The mailbox_auth constraint guarantees these three for oauth2.
  return {
    kind: 'oauth2',
    tokenUrl: row.oauthTokenUrl!,
    clientId: row.oauthClientId!,
    sealedClientSecret: row.oauthClientSecret || null,
    sealedRefreshToken: row.oauthRefreshToken!,
    scope: row.oauthScope || null,
  };
}

/**
 * Serialises the refresh-token grants of one mailbox across workers until the transaction ends:
 * two grants with the same refresh token at once could make a rotating server revoke both.
 */
export async function lockMailboxOAuth(tx: Queryable, mailboxId: number): Promise<void> {
  await tx`SELECT pg_advisory_xact_lock(hashtextextended(${`mailtrack:mailbox-oauth:${mailboxId}`}, 0))`;
}

/** Stores a rotated refresh token, unless the mailbox got another one meanwhile (an admin re-authorised it). */
export async function replaceRefreshToken(sql: Queryable, mailboxId: number, previousSealed: string, nextSealed: string): Promise<boolean> {
  const rows = await sql`
    UPDATE mailbox SET oauth_refresh_token = ${nextSealed}
     WHERE id = ${mailboxId} AND imap_auth = 'oauth2' AND oauth_refresh_token = ${previousSealed} RETURNING id`;
  return rows.length > 0;
}
