/**
 * The refresh-token grant of OAuth 2.0 (RFC 6749 §6) against a configured token endpoint, as
 * Microsoft 365 and Gmail mailboxes need it for IMAP. Tokens and secrets appear in no error
 * and no log line: an error names the endpoint (without query or credentials), the HTTP status
 * and, when the server sent one, the RFC 6749 §5.2 error code.
 */

export const TOKEN_TIMEOUT_MS = 15_000;
/** When the endpoint does not say how long the access token lives (RFC 6749 §5.1: RECOMMENDED). */
export const DEFAULT_LIFETIME_SECONDS = 300;

export interface OAuthClient {
  tokenUrl: string;
  clientId: string;
  /** Opened; null for a public client (the client id alone identifies it). */
  clientSecret: string | null;
  /** Space-separated, as the provider wants it (Microsoft: `https://outlook.office.com/IMAP.AccessAsUser.All offline_access`). */
  scope: string | null;
}

export interface AccessTokenGrant {
  accessToken: string;
  /** Epoch milliseconds, measured from when the request was sent. */
  expiresAt: number;
  lifetimeMs: number;
  /** A new refresh token that replaces the one used, when the server rotates them. */
  refreshToken: string | null;
}

/** The endpoint answered and refused the grant (invalid_grant, invalid_client...): retrying cannot help. */
export class OAuthRefusedError extends Error {
  constructor(
    readonly endpoint: string,
    readonly status: number,
    readonly oauthError: string | null,
  ) {
    super(`the OAuth token endpoint ${endpoint} refused the refresh token (HTTP ${status}${oauthError ? `, ${oauthError}` : ''})`);
  }
}

/** No usable answer (network, timeout, 5xx, 429, a malformed body): worth retrying later. */
export class OAuthUnavailableError extends Error {}

/** RFC 6749 §5.2 codes that mean the client or its grant is refused, not that the server is busy. */
const REFUSALS = new Set(['invalid_request', 'invalid_client', 'invalid_grant', 'unauthorized_client', 'unsupported_grant_type', 'invalid_scope']);

export async function refreshAccessToken(client: OAuthClient, refreshToken: string, now: () => number = Date.now): Promise<AccessTokenGrant> {
  const endpoint = describeEndpoint(client.tokenUrl);
  const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken, client_id: client.clientId });
  // client_secret_post (RFC 6749 §2.3.1): what Microsoft's and Google's endpoints both take.
  if (client.clientSecret) form.set('client_secret', client.clientSecret);
  if (client.scope) form.set('scope', client.scope);
  const sentAt = now();
  let res: Response;
  let body: unknown;
  try {
    res = await fetch(client.tokenUrl, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
      body: form,
      redirect: 'error',
      signal: AbortSignal.timeout(TOKEN_TIMEOUT_MS),
    });
    body = await res.json().catch(() => undefined);
  } catch (err) {
    const e = err as { name?: string; cause?: { code?: string } };
    const why = e.name === 'TimeoutError' ? `no answer within ${TOKEN_TIMEOUT_MS / 1000} s` : (e.cause?.code ?? e.name ?? 'network error');
    throw new OAuthUnavailableError(`the OAuth token endpoint ${endpoint} could not be reached (${why})`);
  }
  const fields = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  if (!res.ok) {
    const code = typeof fields.error === 'string' && /^[\x20-\x21\x23-\x5b\x5d-\x7e]{1,64}$/.test(fields.error) ? fields.error : null;
    if ((res.status === 400 || res.status === 401) && (code === null || REFUSALS.has(code))) throw new OAuthRefusedError(endpoint, res.status, code);
    throw new OAuthUnavailableError(`the OAuth token endpoint ${endpoint} answered HTTP ${res.status}${code ? ` (${code})` : ''}`);
  }
  const { access_token: accessToken, token_type: tokenType, refresh_token: rotated } = fields;
  const expiresIn = Number(fields.expires_in ?? DEFAULT_LIFETIME_SECONDS);
  if (typeof accessToken !== 'string' || accessToken === '' || (typeof tokenType === 'string' && tokenType.toLowerCase() !== 'bearer')) {
    throw new OAuthUnavailableError(`the OAuth token endpoint ${endpoint} answered HTTP ${res.status} without a bearer access token`);
  }
  const lifetimeMs = Number.isFinite(expiresIn) && expiresIn > 0 ? expiresIn * 1000 : DEFAULT_LIFETIME_SECONDS * 1000;
  return {
    accessToken,
    expiresAt: sentAt + lifetimeMs,
    lifetimeMs,
    refreshToken: typeof rotated === 'string' && rotated !== '' && rotated !== refreshToken ? rotated : null,
  };
}

/** The URL without credentials, query or fragment: enough to tell which endpoint, nothing secret. */
export function describeEndpoint(url: string): string {
  try {
    const u = new URL(url);
    return `${u.origin}${u.pathname}`;
  } catch {
    return '(an invalid URL)';
  }
}
