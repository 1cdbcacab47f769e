import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeEndpoint, OAuthRefusedError, OAuthUnavailableError, refreshAccessToken } from '../../clients/oauth-token.js';
import { startTokenEndpoint, type TokenEndpoint } from '../harness/token-endpoint.js';

// Against a real HTTP token endpoint on loopback (test/harness/token-endpoint.ts); no global setup needed.
let te: TokenEndpoint;
beforeAll(async () => {
  te = await startTokenEndpoint({ lifetimeSeconds: 120 });
});
afterAll(() => te.close());

const client = () => ({ tokenUrl: te.tokenUrl, clientId: te.clientId, clientSecret: te.clientSecret, scope: 'imap offline_access' });

describe('refreshAccessToken (RFC 6749 §6)', () => {
  it('trades a refresh token for an access token that expires when the endpoint says', async () => {
    const rt = te.grantRefreshToken('support');
    const before = Date.now();
    const grant = await refreshAccessToken(client(), rt);
    expect(grant.accessToken).toMatch(/^at-/);
    expect(grant.lifetimeMs).toBe(120_000);
    expect(grant.expiresAt).toBeGreaterThanOrEqual(before + 120_000);
    expect(grant.expiresAt).toBeLessThanOrEqual(Date.now() + 120_000);
    expect(grant.refreshToken).toBeNull();
    expect(te.grants.at(-1)).toEqual({ refreshToken: rt, scope: 'imap offline_access', status: 200 });
  });

  it('hands back the new refresh token of a rotating endpoint', async () => {
    te.rotate = true;
    try {
      const rt = te.grantRefreshToken('support');
      const grant = await refreshAccessToken(client(), rt);
      expect(grant.refreshToken).toMatch(/^rt-/);
      expect(grant.refreshToken).not.toBe(rt);
      // The old one is spent; the new one works.
      await expect(refreshAccessToken(client(), rt)).rejects.toBeInstanceOf(OAuthRefusedError);
      expect((await refreshAccessToken(client(), grant.refreshToken!)).accessToken).toMatch(/^at-/);
    } finally {
      te.rotate = false;
    }
  });

  it('tells a refused grant (invalid_grant, invalid_client) without any secret in the message', async () => {
    const rt = te.grantRefreshToken('support');
    te.revokeRefreshToken(rt);
    const err = await refreshAccessToken(client(), rt).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OAuthRefusedError);
    expect((err as OAuthRefusedError).oauthError).toBe('invalid_grant');
    expect((err as Error).message).toBe(`the OAuth token endpoint ${te.tokenUrl} refused the refresh token (HTTP 400, invalid_grant)`);

    const wrongClient = await refreshAccessToken({ ...client(), clientSecret: 'not-the-secret' }, te.grantRefreshToken('support')).catch((e: unknown) => e);
    expect(wrongClient).toBeInstanceOf(OAuthRefusedError);
    expect((wrongClient as Error).message).toContain('HTTP 401, invalid_client');
    expect((wrongClient as Error).message).not.toContain('not-the-secret');
  });

  it('treats a busy or unreachable endpoint as worth retrying', async () => {
    te.failWith = 503;
    try {
      const err = await refreshAccessToken(client(), te.grantRefreshToken('support')).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(OAuthUnavailableError);
      expect((err as Error).message).toBe(`the OAuth token endpoint ${te.tokenUrl} answered HTTP 503 (temporarily_unavailable)`);
    } finally {
      te.failWith = undefined;
    }
    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const unreachable = await refreshAccessToken({ ...client(), tokenUrl: `http://127.0.0.1:${port}/token` }, 'rt').catch((e: unknown) => e);
    expect(unreachable).toBeInstanceOf(OAuthUnavailableError);
    expect((unreachable as Error).message).toBe(`the OAuth token endpoint http://127.0.0.1:${port}/token could not be reached (ECONNREFUSED)`);
  });

  it('refuses an answer without a bearer access token', async () => {
    const odd = http.createServer((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ access_token: 'x', token_type: 'mac' }));
    });
    await new Promise<void>((r) => odd.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(odd.address() as AddressInfo).port}/token`;
      await expect(refreshAccessToken({ ...client(), tokenUrl: url }, 'rt')).rejects.toThrow(/without a bearer access token/);
    } finally {
      odd.close();
    }
  });

  it('names an endpoint without its credentials or query', () => {
    expect(describeEndpoint('https://id:secret@login.example.com/tenant/oauth2/v2.0/token?x=secret#f')).toBe('https://login.example.com/tenant/oauth2/v2.0/token');
    expect(describeEndpoint('not a url')).toBe('(an invalid URL)');
  });
});
