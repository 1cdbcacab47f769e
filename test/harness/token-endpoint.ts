import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A small OAuth 2.0 authorisation server for tests, over plain HTTP on loopback:
 * - `POST /token`: the refresh-token grant (RFC 6749 §6) for one registered client, with the
 *   client's credentials in the body or in Basic authentication (§2.3.1); issues short-lived
 *   access tokens and, when `rotate` is on, a new refresh token that replaces the old one;
 * - `POST /introspect`: token introspection (RFC 7662), what Dovecot's `oauth2` passdb asks.
 * Tests control it: revoke a refresh token or every access token, change the lifetime, and
 * read what was asked.
 */
export interface TokenEndpoint {
  tokenUrl: string;
  introspectionUrl: string;
  clientId: string;
  clientSecret: string;
  /** A refresh token for `user`, as a consent screen would hand it out. */
  grantRefreshToken(user: string): string;
  revokeRefreshToken(token: string): void;
  /** Every access token issued so far stops being active (a password reset, an admin's revocation). */
  revokeAccessTokens(): void;
  /** The refresh-token grants answered, successful or not. */
  grants: { refreshToken: string; scope: string | null; status: number }[];
  /** Access tokens Dovecot asked about, with the answer. */
  introspections: { active: boolean }[];
  /** Lifetime of the access tokens issued from now on, in seconds. */
  lifetimeSeconds: number;
  /** Whether each grant also issues a new refresh token (and revokes the one used). */
  rotate: boolean;
  /** HTTP status to answer every grant with instead (e.g. 503), or undefined. */
  failWith: number | undefined;
  close(): Promise<void>;
}

interface AccessToken {
  user: string;
  expiresAt: number;
  revoked: boolean;
}

export async function startTokenEndpoint(opts: { lifetimeSeconds?: number; rotate?: boolean } = {}): Promise<TokenEndpoint> {
  const refreshTokens = new Map<string, { user: string; revoked: boolean }>();
  const accessTokens = new Map<string, AccessToken>();
  const clientId = `client-${token(6)}`;
  const clientSecret = token(24);

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
      const json = (status: number, body: object) => {
        res.writeHead(status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
        res.end(JSON.stringify(body));
      };
      if (req.method === 'POST' && req.url === '/token') return json(...grant(req, form));
      if (req.method === 'POST' && req.url === '/introspect') {
        const found = accessTokens.get(form.get('token') ?? '');
        const active = found !== undefined && !found.revoked && found.expiresAt > Date.now();
        endpoint.introspections.push({ active });
        return json(200, active ? { active: true, username: found.user, exp: Math.floor(found.expiresAt / 1000) } : { active: false });
      }
      json(404, { error: 'not_found' });
    });
  });

  function grant(req: http.IncomingMessage, form: URLSearchParams): [number, object] {
    const refreshToken = form.get('refresh_token') ?? '';
    const answer = (status: number, body: object): [number, object] => {
      endpoint.grants.push({ refreshToken, scope: form.get('scope'), status });
      return [status, body];
    };
    if (endpoint.failWith !== undefined) return answer(endpoint.failWith, { error: 'temporarily_unavailable' });
    const basic = /^Basic (.+)$/i.exec(req.headers.authorization ?? '');
    const [id, secret] = basic
      ? Buffer.from(basic[1]!, 'base64').toString('utf8').split(':').map((s) => decodeURIComponent(s))
      : [form.get('client_id'), form.get('client_secret')];
    if (id !== clientId || secret !== clientSecret) return answer(401, { error: 'invalid_client' });
    if (form.get('grant_type') !== 'refresh_token') return answer(400, { error: 'unsupported_grant_type' });
    const known = refreshTokens.get(refreshToken);
    if (!known || known.revoked) return answer(400, { error: 'invalid_grant', error_description: 'The refresh token is revoked or unknown' });
    const accessToken = `at-${token(24)}`;
    accessTokens.set(accessToken, { user: known.user, expiresAt: Date.now() + endpoint.lifetimeSeconds * 1000, revoked: false });
    const body: Record<string, unknown> = { access_token: accessToken, token_type: 'Bearer', expires_in: endpoint.lifetimeSeconds };
    if (form.get('scope')) body.scope = form.get('scope');
    if (endpoint.rotate) {
      known.revoked = true;
      body.refresh_token = endpoint.grantRefreshToken(known.user);
    }
    return answer(200, body);
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const endpoint: TokenEndpoint = {
    tokenUrl: `${base}/token`,
    introspectionUrl: `${base}/introspect`,
    clientId,
    clientSecret,
    grantRefreshToken(user) {
      const rt = `rt-${token(24)}`;
      refreshTokens.set(rt, { user, revoked: false });
      return rt;
    },
    revokeRefreshToken(rt) {
      const known = refreshTokens.get(rt);
      if (known) known.revoked = true;
    },
    revokeAccessTokens() {
      for (const t of accessTokens.values()) t.revoked = true;
    },
    grants: [],
    introspections: [],
    lifetimeSeconds: opts.lifetimeSeconds ?? 3600,
    rotate: opts.rotate ?? false,
    failWith: undefined,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return endpoint;
}

function token(bytes: number): string {
  return randomBytes(bytes).toString('base64url');
}
