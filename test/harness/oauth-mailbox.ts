import { randomUUID } from 'node:crypto';
import { withImap } from '../../activities/imap.js';
import type { Sql } from '../../db/client.js';
import type { ImapSettings } from '../../db/mailboxes.js';
import type { Dovecot } from '../../stack/dovecot.js';
import { seedConfig, testSecrets } from './fixtures.js';
import type { TokenEndpoint } from './token-endpoint.js';

export const OAUTH_SCOPE = 'https://outlook.office.com/IMAP.AccessAsUser.All offline_access';

/**
 * The demo configuration with its mailbox on OAuth 2.0 (no password stored), on a fresh folder
 * of `server` (a Dovecot started with `oauth2`), authorised by a new refresh token of `te`.
 * `imap` holds the account's password, for the test to deliver mail with.
 */
export async function oauthMailbox(sql: Sql, server: Dovecot, te: TokenEndpoint): Promise<{ id: number; imap: ImapSettings; refreshToken: string }> {
  const cfg = await seedConfig(sql);
  const account = server.users[0]!;
  const imap = { host: server.host, port: server.port, tls: false, user: account.user, secret: account.password, folder: `O${randomUUID().slice(0, 8)}` };
  await withImap(imap, (c) => c.mailboxCreate(imap.folder));
  const refreshToken = te.grantRefreshToken(account.user);
  await sql`
    UPDATE mailbox SET imap_host = ${imap.host}, imap_port = ${imap.port}, imap_folder = ${imap.folder},
           imap_auth = 'oauth2', imap_secret = NULL, oauth_token_url = ${te.tokenUrl}, oauth_client_id = ${te.clientId},
           oauth_client_secret = ${testSecrets.seal(te.clientSecret)}, oauth_refresh_token = ${testSecrets.seal(refreshToken)},
           oauth_scope = ${OAUTH_SCOPE}
     WHERE id = ${cfg.mailboxId}`;
  return { id: cfg.mailboxId, imap, refreshToken };
}
