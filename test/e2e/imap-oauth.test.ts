import { ActivityFailure, ApplicationFailure, WorkflowFailedError } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMailboxWatcher } from '../../clients/mailbox-watchers.js';
import { MAILBOX_AUTH_REFUSED } from '../../contracts/failures.js';
import { startDovecot, type Dovecot } from '../../stack/dovecot.js';
import { useE2E } from '../harness/e2e.js';
import { appendMail, rawMail } from '../harness/fixtures.js';
import { oauthMailbox } from '../harness/oauth-mailbox.js';
import { startTokenEndpoint, type TokenEndpoint } from '../harness/token-endpoint.js';

// The product's worker and mailbox watcher on a mailbox that logs in with OAuth 2.0: a Dovecot
// of this file's own checks each access token with a local token endpoint (introspection).
const e2e = useE2E('oauth');
let te: TokenEndpoint;
let dovecot: Dovecot;

beforeAll(async () => {
  te = await startTokenEndpoint();
  dovecot = await startDovecot({ users: [{ user: 'support', password: 'support-secret' }], oauth2: { introspectionUrl: te.introspectionUrl } });
});
afterAll(async () => {
  await dovecot?.stop();
  await te?.close();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('a mailbox on OAuth 2.0 (Dovecot oauth2 passdb, local token endpoint)', () => {
  it('turns its mail into tickets while its short-lived access tokens expire and are refreshed', async () => {
    te.lifetimeSeconds = 3;
    const mb = await oauthMailbox(e2e.sql, dovecot, te);
    const grants = te.grants.length;
    const asked = te.introspections.length;
    const watcher = await startMailboxWatcher({ client: e2e.client, taskQueue: e2e.taskQueue, idleSeconds: 2, mailboxId: mb.id });
    try {
      const first = await appendMail(mb.imap, rawMail({ subject: 'OAuth: before the token expires' }));
      expect(await e2e.outcomeOf({ mailboxId: mb.id, ...first })).toMatchObject({ outcome: 'ticket_created' });
      // Longer than a token's life: the watcher has reconnected with new tokens meanwhile.
      await sleep(4_000);
      const second = await appendMail(mb.imap, rawMail({ subject: 'OAuth: after it expired' }));
      expect(await e2e.outcomeOf({ mailboxId: mb.id, ...second })).toMatchObject({ outcome: 'ticket_created' });

      const made = te.grants.slice(grants);
      expect(made.length).toBeGreaterThanOrEqual(2);
      expect(made.every((g) => g.status === 200 && g.refreshToken === mb.refreshToken)).toBe(true);
      // Every login the server checked carried a live token: none was used past its expiry.
      expect(te.introspections.length).toBeGreaterThan(asked);
      expect(te.introspections.slice(asked).every((i) => i.active)).toBe(true);
    } finally {
      await watcher.terminate('test done').catch(() => {});
      te.lifetimeSeconds = 3600;
    }
  });

  it('stops its watcher with a clear error when the refresh token is revoked, shown in the mailbox status', async () => {
    const mb = await oauthMailbox(e2e.sql, dovecot, te);
    te.revokeRefreshToken(mb.refreshToken);
    const watcher = await startMailboxWatcher({ client: e2e.client, taskQueue: e2e.taskQueue, idleSeconds: 2, mailboxId: mb.id });
    const err = await watcher.result().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    const activity = (err as WorkflowFailedError).cause;
    expect(activity).toBeInstanceOf(ActivityFailure);
    const failure = (activity as ActivityFailure).cause as ApplicationFailure;
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure.type).toBe(MAILBOX_AUTH_REFUSED);
    const message = `mailbox ${mb.id}: the OAuth token endpoint ${te.tokenUrl} refused the refresh token (HTTP 400, invalid_grant); authorise the mailbox again (a new refresh token in its settings)`;
    expect(failure.message).toBe(message);
    // Not retried: one attempt, one grant asked for.
    expect(te.grants.filter((g) => g.refreshToken === mb.refreshToken)).toHaveLength(1);

    const { status, body } = await e2e.get<{ connected: boolean; lastError: { message: string; at: string } | null }>(`/mailboxes/${mb.id}/status`);
    expect(status).toBe(200);
    expect(body).toMatchObject({ connected: false, lastError: { message } });
  });
});
