import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AccessTokenCache } from '../../activities/access-tokens.js';
import { createActivities } from '../../activities/index.js';
import type { NewMail } from '../../activities/mailbox.js';
import { withMailboxConnection } from '../../activities/imap.js';
import { OAuthRefusedError, refreshAccessToken } from '../../clients/oauth-token.js';
import { MAILBOX_AUTH_REFUSED } from '../../contracts/failures.js';
import type { Sql } from '../../db/client.js';
import { getMailbox } from '../../db/mailboxes.js';
import { startDovecot, type Dovecot } from '../../stack/dovecot.js';
import { appendMail, rawMail, seedConfig, testSecrets, testSql } from '../harness/fixtures.js';
import { OAUTH_SCOPE, oauthMailbox as makeOAuthMailbox } from '../harness/oauth-mailbox.js';
import { startTokenEndpoint, type TokenEndpoint } from '../harness/token-endpoint.js';

// A Dovecot of this file's own whose oauth2 passdb asks a local token endpoint (RFC 7662
// introspection) whether an access token is active; the mailboxes log in to it with tokens
// obtained from that endpoint with their refresh token. PostgreSQL is the test run's.
let sql: Sql;
let te: TokenEndpoint;
let dovecot: Dovecot;
const USER = { user: 'support', password: 'support-secret' };

beforeAll(async () => {
  sql = testSql();
  te = await startTokenEndpoint();
  dovecot = await startDovecot({ users: [USER], oauth2: { introspectionUrl: te.introspectionUrl } });
});
afterAll(async () => {
  await dovecot?.stop();
  await te?.close();
  await sql?.end();
});

const oauthMailbox = (server = dovecot) => makeOAuthMailbox(sql, server, te);

/** The subjects in the mailbox's folder, read over a connection made as its settings say. */
async function readSubjects(mailboxId: number, tokens: AccessTokenCache, holdMs?: number): Promise<string[]> {
  const mailbox = (await getMailbox(sql, mailboxId))!;
  return withMailboxConnection({ sql, secrets: testSecrets, tokens }, mailbox, async (client) => {
    const lock = await client.getMailboxLock(mailbox.imap.folder, { readOnly: true });
    try {
      const subjects: string[] = [];
      if (client.mailbox && client.mailbox.exists === 0) return subjects;
      for await (const m of client.fetch('1:*', { envelope: true })) subjects.push(m.envelope?.subject ?? '');
      return subjects;
    } finally {
      lock.release();
    }
  }, { holdMs });
}

/** The SASL mechanism the mailbox's connection logged in with. */
async function loginMechanism(mailboxId: number, tokens: AccessTokenCache): Promise<string | undefined> {
  const mailbox = (await getMailbox(sql, mailboxId))!;
  return withMailboxConnection({ sql, secrets: testSecrets, tokens }, mailbox, async (client) => {
    // imapflow marks the mechanism that succeeded (not part of its typed API).
    const used = (client as unknown as { authCapabilities: Map<string, boolean> }).authCapabilities;
    return [...used].find(([, ok]) => ok)?.[0];
  });
}

const grantsSince = (n: number) => te.grants.slice(n);
const storedRefreshToken = async (id: number) => {
  const [row] = await sql<{ oauthRefreshToken: string }[]>`SELECT oauth_refresh_token FROM mailbox WHERE id = ${id}`;
  return testSecrets.open(row!.oauthRefreshToken);
};

describe('IMAP with OAuth 2.0 (Dovecot oauth2 passdb, local token endpoint)', () => {
  it('reads the mailbox with an access token from its refresh token, and reuses the token while it is valid', async () => {
    const mb = await oauthMailbox();
    await appendMail(mb.imap, rawMail({ subject: 'first over OAuth' }));
    await appendMail(mb.imap, rawMail({ subject: 'second over OAuth' }));
    const tokens = new AccessTokenCache();
    const grants = te.grants.length;
    const asked = te.introspections.length;

    expect(await readSubjects(mb.id, tokens)).toEqual(['first over OAuth', 'second over OAuth']);
    expect(await readSubjects(mb.id, tokens)).toHaveLength(2);
    // One grant, with the mailbox's refresh token and scope; two logins, each checked by Dovecot.
    expect(grantsSince(grants)).toEqual([{ refreshToken: mb.refreshToken, scope: OAUTH_SCOPE, status: 200 }]);
    expect(te.introspections.slice(asked)).toEqual([{ active: true }, { active: true }]);
    // Dovecot offers both; imapflow prefers the standard one (RFC 7628).
    expect(await loginMechanism(mb.id, tokens)).toBe('AUTH=OAUTHBEARER');
  });

  it('logs in with XOAUTH2 where the server offers nothing else (as Microsoft 365 does)', async () => {
    const xoauth2Only = await startDovecot({ users: [USER], oauth2: { introspectionUrl: te.introspectionUrl, mechanisms: ['xoauth2'] } });
    try {
      const mb = await oauthMailbox(xoauth2Only);
      await appendMail(mb.imap, rawMail({ subject: 'over XOAUTH2' }));
      const tokens = new AccessTokenCache();
      expect(await readSubjects(mb.id, tokens)).toEqual(['over XOAUTH2']);
      expect(await loginMechanism(mb.id, tokens)).toBe('AUTH=XOAUTH2');
    } finally {
      await xoauth2Only.stop();
    }
  });

  it('refreshes a short-lived token before it expires, all through a run longer than its life', async () => {
    const mb = await oauthMailbox();
    await appendMail(mb.imap, rawMail({ subject: 'kept reading' }));
    const tokens = new AccessTokenCache();
    te.lifetimeSeconds = 3;
    const grants = te.grants.length;
    const asked = te.introspections.length;
    try {
      const started = Date.now();
      let reads = 0;
      while (Date.now() - started < 8_000) {
        expect(await readSubjects(mb.id, tokens)).toEqual(['kept reading']);
        reads++;
        await new Promise((r) => setTimeout(r, 400));
      }
      // 8 s of 3-s tokens, each replaced at half its life: several grants, fewer than logins,
      // and the server never saw an expired one.
      const made = grantsSince(grants);
      expect(made.length).toBeGreaterThanOrEqual(3);
      expect(made.length).toBeLessThan(reads);
      expect(made.every((g) => g.status === 200)).toBe(true);
      expect(te.introspections.slice(asked).every((i) => i.active)).toBe(true);
    } finally {
      te.lifetimeSeconds = 3600;
    }
  });

  it('chooses a token that outlives a session meant to last (an IDLE period)', async () => {
    const mb = await oauthMailbox();
    const tokens = new AccessTokenCache();
    te.lifetimeSeconds = 100;
    try {
      const grants = te.grants.length;
      await readSubjects(mb.id, tokens);
      // 100-s tokens are replaced 50 s before they expire: one fresh enough for a 30-s session
      // is reused, one that would not outlive a 60-s session is not.
      await readSubjects(mb.id, tokens, 30_000);
      expect(grantsSince(grants)).toHaveLength(1);
      await readSubjects(mb.id, tokens, 60_000);
      expect(grantsSince(grants)).toHaveLength(2);
    } finally {
      te.lifetimeSeconds = 3600;
    }
  });

  it('replaces a token the server refuses before its expiry, once', async () => {
    const mb = await oauthMailbox();
    const tokens = new AccessTokenCache();
    await readSubjects(mb.id, tokens);
    te.revokeAccessTokens();
    const grants = te.grants.length;
    const asked = te.introspections.length;
    expect(await readSubjects(mb.id, tokens)).toEqual([]);
    expect(grantsSince(grants).map((g) => g.status)).toEqual([200]);
    expect(te.introspections.slice(asked)).toEqual([{ active: false }, { active: true }]);
  });

  it('stores a rotated refresh token back, sealed, and the next worker uses it', async () => {
    const mb = await oauthMailbox();
    te.rotate = true;
    try {
      await readSubjects(mb.id, new AccessTokenCache());
      const rotated = await storedRefreshToken(mb.id);
      expect(rotated).toMatch(/^rt-/);
      expect(rotated).not.toBe(mb.refreshToken);
      const [row] = await sql<{ oauthRefreshToken: string }[]>`SELECT oauth_refresh_token FROM mailbox WHERE id = ${mb.id}`;
      expect(row!.oauthRefreshToken).toMatch(/^v1\./);
      // The endpoint spent the old one; another worker (its own cache) logs in with the stored one.
      await expect(refreshAccessToken({ tokenUrl: te.tokenUrl, clientId: te.clientId, clientSecret: te.clientSecret, scope: null }, mb.refreshToken)).rejects.toBeInstanceOf(OAuthRefusedError);
      const grants = te.grants.length;
      expect(await readSubjects(mb.id, new AccessTokenCache())).toEqual([]);
      expect(grantsSince(grants)).toEqual([expect.objectContaining({ refreshToken: rotated, status: 200 })]);
    } finally {
      te.rotate = false;
    }
  });

  it('refreshes once for many connections at once, and workers take turns with a rotating endpoint', async () => {
    const mb = await oauthMailbox();
    te.rotate = true;
    try {
      const one = new AccessTokenCache();
      let grants = te.grants.length;
      await Promise.all(Array.from({ length: 5 }, () => readSubjects(mb.id, one)));
      expect(grantsSince(grants)).toHaveLength(1);

      // Three workers with empty caches at once: each refresh reads the token the previous one stored.
      grants = te.grants.length;
      await Promise.all(Array.from({ length: 3 }, () => readSubjects(mb.id, new AccessTokenCache())));
      expect(grantsSince(grants).map((g) => g.status)).toEqual([200, 200, 200]);
      expect(new Set(grantsSince(grants).map((g) => g.refreshToken)).size).toBe(3);

      // Two workers taking turns do not refresh because the other one rotated the refresh token.
      const [a, b] = [new AccessTokenCache(), new AccessTokenCache()];
      grants = te.grants.length;
      for (let i = 0; i < 3; i++) for (const worker of [a, b]) await readSubjects(mb.id, worker);
      expect(grantsSince(grants)).toHaveLength(2);
    } finally {
      te.rotate = false;
    }
  });

  it('stops with a clear, non-retryable error when the refresh token is revoked, naming no secret', async () => {
    const mb = await oauthMailbox();
    te.revokeRefreshToken(mb.refreshToken);
    const err = await readSubjects(mb.id, new AccessTokenCache()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApplicationFailure);
    const failure = err as ApplicationFailure;
    expect(failure.type).toBe(MAILBOX_AUTH_REFUSED);
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toBe(
      `mailbox ${mb.id}: the OAuth token endpoint ${te.tokenUrl} refused the refresh token (HTTP 400, invalid_grant); ` +
        'authorise the mailbox again (a new refresh token in its settings)',
    );
    for (const secret of [mb.refreshToken, te.clientSecret]) expect(JSON.stringify({ m: failure.message, s: failure.stack })).not.toContain(secret);
  });

  it('retries later (a retryable error) while the token endpoint is down', async () => {
    const mb = await oauthMailbox();
    te.failWith = 503;
    try {
      const err = await readSubjects(mb.id, new AccessTokenCache()).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(Error);
      expect(err).not.toBeInstanceOf(ApplicationFailure);
      expect((err as Error).message).toBe(`the OAuth token endpoint ${te.tokenUrl} answered HTTP 503 (temporarily_unavailable)`);
    } finally {
      te.failWith = undefined;
    }
    expect(await readSubjects(mb.id, new AccessTokenCache())).toEqual([]);
  });

  it("the mailbox watcher's activity stores an OAuth mailbox's new mail", async () => {
    const mb = await oauthMailbox();
    const refs = [];
    for (let i = 0; i < 3; i++) refs.push(await appendMail(mb.imap, rawMail({ subject: `watched ${i}` })));
    const act = createActivities({ sql, secrets: testSecrets });
    const mail = (await new MockActivityEnvironment().run(act.waitForMail, { mailboxId: mb.id, maxWaitSeconds: 5, maxBatch: 100 })) as NewMail;
    expect(mail).toEqual({ uidValidity: refs[0]!.uidValidity, uids: refs.map((r) => r.uid) });
    const stored = await sql<{ raw: Buffer }[]>`SELECT raw FROM inbound_email WHERE mailbox_id = ${mb.id} ORDER BY uid`;
    expect(stored.map((r) => /^Subject: (.*)$/m.exec(r.raw.toString())?.[1]?.trim())).toEqual(['watched 0', 'watched 1', 'watched 2']);
  });

  it("a revoked refresh token fails the watcher's activity for good, and the mailbox status says why", async () => {
    const mb = await oauthMailbox();
    te.revokeRefreshToken(mb.refreshToken);
    const act = createActivities({ sql, secrets: testSecrets });
    // The worker's own line for a failed activity, kept here instead of printed with its stack.
    const logged: string[] = [];
    const logger = new DefaultLogger('WARN', ({ level, message }) => void logged.push(`${level} ${message}`));
    const env = new MockActivityEnvironment(undefined, { logger });
    const err = await env.run(act.waitForMail, { mailboxId: mb.id, maxWaitSeconds: 5, maxBatch: 100 }).catch((e: unknown) => e);
    expect(logged).toEqual(['WARN Activity failed']);
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect(err).toMatchObject({ type: MAILBOX_AUTH_REFUSED, nonRetryable: true });
    const [status] = await sql<{ lastError: string }[]>`SELECT last_error FROM mailbox_status WHERE mailbox_id = ${mb.id}`;
    expect(status!.lastError).toBe((err as Error).message);
    expect(status!.lastError).toContain(`refused the refresh token (HTTP 400, invalid_grant)`);
  });

  it('a mailbox with a password still logs in with it', async () => {
    const cfg = await seedConfig(sql);
    await appendMail(cfg.imap, rawMail({ subject: 'over a password' }));
    const grants = te.grants.length;
    expect(await readSubjects(cfg.mailboxId, new AccessTokenCache())).toEqual(['over a password']);
    expect(te.grants.length).toBe(grants);
  });
});
