import type { Queryable } from './client.js';

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
