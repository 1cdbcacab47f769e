import { ImapFlow } from 'imapflow';
import type { SecretBox } from '../config/secret-box.js';
import type { Sql } from '../db/client.js';
import { getMailboxImapAuth, type ImapSettings, type MailboxOAuth, type SealedImapSettings } from '../db/mailboxes.js';
import { workerAccessTokens, type AccessTokenCache } from './access-tokens.js';
import { unprocessable } from './failures.js';

type Login = { user: string; pass: string } | { user: string; accessToken: string };

export function imapClient(s: Omit<ImapSettings, 'secret'>, auth: Login): ImapFlow {
  return new ImapFlow({ host: s.host, port: s.port, secure: s.tls, auth, logger: false });
}

export async function withImap<T>(s: ImapSettings, fn: (client: ImapFlow) => Promise<T>): Promise<T> {
  return session(await connect(s, { user: s.user, pass: s.secret }), fn);
}

async function connect(s: Omit<ImapSettings, 'secret'>, auth: Login): Promise<ImapFlow> {
  const client = imapClient(s, auth);
  client.on('error', () => {});
  await client.connect();
  return client;
}

async function session<T>(client: ImapFlow, fn: (client: ImapFlow) => Promise<T>): Promise<T> {
  try {
    return await fn(client);
  } finally {
    await client.logout().catch(() => client.close());
  }
}

/**
 * Connects with a mailbox's stored settings: its sealed secret is opened here, just before
 * connecting, and is held nowhere else (never logged: imapflow's logger is off). Password
 * login only: a mailbox on OAuth 2.0 connects through `withMailboxConnection`.
 */
export async function withMailboxImap<T>(s: SealedImapSettings, secrets: SecretBox, fn: (client: ImapFlow) => Promise<T>): Promise<T> {
  const { sealedSecret, ...rest } = s;
  if (!sealedSecret) throw new Error(`IMAP user ${s.user} has no password stored (a mailbox on OAuth 2.0 connects with its mailbox id)`);
  return withImap({ ...rest, secret: secrets.open(sealedSecret) }, fn);
}

export interface MailboxConnectionDeps {
  sql: Sql;
  secrets: SecretBox;
  /** The access tokens of OAuth 2.0 mailboxes; the worker's own cache unless a test brings one. */
  tokens?: AccessTokenCache;
}

/**
 * Connects to a mailbox as its settings say: with its password, or with an OAuth 2.0 access
 * token (XOAUTH2 or OAUTHBEARER, whichever the server offers; imapflow prefers OAUTHBEARER)
 * obtained with its refresh token and cached until shortly before it expires. A token the server
 * refuses before its time is replaced once; a refresh token the endpoint refuses ends in a
 * non-retryable `MailboxAuthRefused` failure.
 */
export async function withMailboxConnection<T>(
  deps: MailboxConnectionDeps,
  mailbox: { id: number; imap: SealedImapSettings },
  fn: (client: ImapFlow) => Promise<T>,
  opts: { holdMs?: number } = {},
): Promise<T> {
  const auth = await getMailboxImapAuth(deps.sql, mailbox.id);
  if (!auth) throw unprocessable(`mailbox ${mailbox.id} does not exist`);
  if (auth.kind === 'password') return withMailboxImap(mailbox.imap, deps.secrets, fn);
  return session(await connectWithToken(deps, mailbox.id, mailbox.imap, auth, opts.holdMs), fn);
}

async function connectWithToken(deps: MailboxConnectionDeps, mailboxId: number, imap: SealedImapSettings, oauth: MailboxOAuth, holdMs?: number): Promise<ImapFlow> {
  const tokens = deps.tokens ?? workerAccessTokens;
  const { sealedSecret: _, ...settings } = imap;
  const accessToken = await tokens.get(deps, mailboxId, oauth, { validForMs: holdMs });
  try {
    return await connect(settings, { user: imap.user, accessToken });
  } catch (err) {
    if (!refusedLogin(err)) throw err;
  }
  // Refused before its expiry (revoked, or the server's clock): one fresh token, once.
  const fresh = await tokens.get(deps, mailboxId, oauth, { refused: accessToken, validForMs: holdMs });
  try {
    return await connect(settings, { user: imap.user, accessToken: fresh });
  } catch (err) {
    if (!refusedLogin(err)) throw err;
    tokens.forget(mailboxId);
    // Retryable: the cure may come from the provider's side (IMAP enabled for the user, consent given).
    throw new Error(
      `mailbox ${mailboxId}: the IMAP server refused a freshly issued OAuth 2.0 access token for ${imap.user} ` +
        `(${(err as { response?: string }).response ?? 'no reason given'}); check the token's scope and that the IMAP user is the account that authorised it`,
      { cause: err },
    );
  }
}

/** The server said no to the credentials (not: the authentication service is down, UNAVAILABLE). */
function refusedLogin(err: unknown): boolean {
  const e = err as { authenticationFailed?: boolean; serverResponseCode?: string } | null;
  return e?.authenticationFailed === true && e.serverResponseCode !== 'UNAVAILABLE';
}
