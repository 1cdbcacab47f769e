import { ApplicationFailure } from '@temporalio/common';
import { OAuthRefusedError, refreshAccessToken } from '../clients/oauth-token.js';
import type { SecretBox } from '../config/secret-box.js';
import { MAILBOX_AUTH_REFUSED, MAILBOX_AUTH_REFUSED_ADVICE } from '../contracts/failures.js';
import type { Sql } from '../db/client.js';
import { getMailboxImapAuth, lockMailboxOAuth, replaceRefreshToken, type MailboxOAuth } from '../db/mailboxes.js';

/** An access token is replaced this long before it expires (or at half its life, if that is sooner). */
export const REFRESH_MARGIN_MS = 60_000;

interface Entry {
  /** The client the token was obtained for: a changed endpoint, client or scope invalidates it. */
  settings: string;
  accessToken: string;
  /** When to stop using it: its expiry less the margin. */
  refreshAt: number;
  lifetimeMs: number;
}

/**
 * The OAuth 2.0 access tokens of the mailboxes, cached per mailbox in the worker process and
 * refreshed before they expire. Concurrent requests for one mailbox share one refresh, and a
 * database lock makes the workers of a cluster take turns, so a refresh token that the server
 * rotates is never used twice. A rotated refresh token is stored back sealed.
 */
export class AccessTokenCache {
  private readonly entries = new Map<number, Entry>();
  private readonly pending = new Map<number, Promise<Entry>>();

  constructor(private readonly now: () => number = Date.now) {}

  /**
   * A usable access token for the mailbox. `refused`: a token the IMAP server has just refused
   * (revoked before its time); it is not handed out again. `validForMs`: how long the session
   * it opens may last (an IDLE), so that a server that ends sessions when their token expires
   * does not end this one; at most half a token's life is asked of a cached token.
   */
  async get(deps: { sql: Sql; secrets: SecretBox }, mailboxId: number, oauth: MailboxOAuth, opts: { refused?: string; validForMs?: number } = {}): Promise<string> {
    const cached = this.entries.get(mailboxId);
    const needed = Math.min(opts.validForMs ?? 0, (cached?.lifetimeMs ?? 0) / 2);
    if (cached && cached.settings === fingerprint(oauth) && cached.accessToken !== opts.refused && this.now() + needed < cached.refreshAt) return cached.accessToken;
    let pending = this.pending.get(mailboxId);
    if (!pending) {
      pending = this.refresh(deps, mailboxId).finally(() => this.pending.delete(mailboxId));
      this.pending.set(mailboxId, pending);
    }
    return (await pending).accessToken;
  }

  forget(mailboxId: number): void {
    this.entries.delete(mailboxId);
  }

  private async refresh(deps: { sql: Sql; secrets: SecretBox }, mailboxId: number): Promise<Entry> {
    const { sql, secrets } = deps;
    this.entries.delete(mailboxId);
    const entry = await sql.begin(async (tx) => {
      await lockMailboxOAuth(tx, mailboxId);
      // Read under the lock: another worker may have rotated the refresh token meanwhile.
      const auth = await getMailboxImapAuth(tx, mailboxId);
      if (auth?.kind !== 'oauth2') throw new Error(`mailbox ${mailboxId} no longer logs in with OAuth 2.0`);
      const client = {
        tokenUrl: auth.tokenUrl,
        clientId: auth.clientId,
        clientSecret: auth.sealedClientSecret === null ? null : secrets.open(auth.sealedClientSecret),
        scope: auth.scope,
      };
      let grant;
      try {
        grant = await refreshAccessToken(client, secrets.open(auth.sealedRefreshToken), this.now);
      } catch (err) {
        if (err instanceof OAuthRefusedError) {
          throw ApplicationFailure.create({
            type: MAILBOX_AUTH_REFUSED,
            message: `mailbox ${mailboxId}: ${err.message}; ${MAILBOX_AUTH_REFUSED_ADVICE}`,
            nonRetryable: true,
          });
        }
        throw err;
      }
      if (grant.refreshToken !== null) await replaceRefreshToken(tx, mailboxId, auth.sealedRefreshToken, secrets.seal(grant.refreshToken));
      const margin = Math.min(REFRESH_MARGIN_MS, grant.lifetimeMs / 2);
      return { settings: fingerprint(auth), accessToken: grant.accessToken, refreshAt: grant.expiresAt - margin, lifetimeMs: grant.lifetimeMs };
    });
    this.entries.set(mailboxId, entry);
    return entry;
  }
}

/**
 * The client a token was obtained for. Not the refresh token: with several workers and a
 * rotating endpoint it changes at every refresh, and each worker would refresh in turn. A token
 * from an authorisation an admin has since replaced is at worst refused, and then replaced.
 */
function fingerprint(o: MailboxOAuth): string {
  return JSON.stringify([o.tokenUrl, o.clientId, o.sealedClientSecret, o.scope]);
}

/** The worker process's one cache. */
export const workerAccessTokens = new AccessTokenCache();
