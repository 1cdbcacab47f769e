import type { LightMyRequestResponse } from 'fastify';
import { describe, expect, it } from 'vitest';
import type { Sql } from '../../db/client.js';
import { useTestApi, type TestApi } from '../harness/api.js';
import { testSecrets, uniqueSuffix } from '../harness/fixtures.js';
import { checkCase, hostileBodies } from '../harness/hostile-bodies.js';

/**
 * The operating settings of a mailbox in the API (issue 8, "mailboxes people can run"):
 * acknowledgement, sender limit, after-processing, size limit, push secret, OAuth 2.0 client;
 * and its live status. Mailboxes here are inactive, so no watcher starts.
 */
let sql: Sql;
let api: TestApi;
useTestApi((s, a) => ([sql, api] = [s, a]));
const sfx = uniqueSuffix();
let n = 0;

const PUSH = `push-secret-${sfx}-0123456789`;
const REFRESH = `1//refresh-${sfx}`;
const CLIENT_SECRET = `client-secret-${sfx}`;

const post = (payload: object) => api.as('admin', { method: 'POST', url: '/mailboxes', payload });
const patch = (id: number, payload: object) => api.as('admin', { method: 'PATCH', url: `/mailboxes/${id}`, payload });
const body = (extra: Record<string, unknown> = {}) => ({ name: `Ops ${++n}${sfx}`, imap: { host: 'imap.example.com', port: 993, user: 'ops@example.com', secret: 'pw' }, active: false, ...extra });
const fields = (res: LightMyRequestResponse) => (res.json().errors ?? []).map((e: { field: string }) => e.field);

/** No secret of this file in any answer. */
function secretless(res: LightMyRequestResponse): LightMyRequestResponse {
  for (const s of [PUSH, REFRESH, CLIENT_SECRET]) expect(res.body).not.toContain(s);
  expect(res.body).not.toMatch(/"(pushSecret|refreshToken|clientSecret)"/);
  return res;
}

async function created(extra: Record<string, unknown> = {}) {
  const res = secretless(await post(body(extra)));
  expect(res.statusCode, res.body).toBe(201);
  return res.json();
}

const stored = async (id: number) =>
  (await sql<{ pushSecret: string | null; oauthClientSecret: string | null; oauthRefreshToken: string | null; imapSecret: string | null }[]>`
    SELECT push_secret, oauth_client_secret, oauth_refresh_token, imap_secret FROM mailbox WHERE id = ${id}`)[0]!;

describe('the operating settings of a mailbox', () => {
  it('have defaults: no acknowledgement, 20 tickets per sender an hour, mail left alone, 25 MiB, resolved tickets closed after four days, no push', async () => {
    const m = await created();
    expect(m).toMatchObject({
      imap: { auth: 'password', oauth: null, hasSecret: true },
      acknowledge: false,
      acknowledgementSubject: null,
      acknowledgementBody: null,
      senderTicketLimit: 20,
      afterProcessing: 'leave',
      afterProcessingFolder: null,
      maxMessageBytes: 26214400,
      closeResolvedAfterHours: 96,
      hasPushSecret: false,
    });
  });

  it('are stored as given, and a PATCH changes only what it names', async () => {
    const m = await created({
      acknowledge: true,
      acknowledgementSubject: 'We got it: {subject}',
      acknowledgementBody: 'Hello,\n\nyour request is {protocol}.\n',
      senderTicketLimit: 0,
      afterProcessing: 'move',
      afterProcessingFolder: 'Processed',
      maxMessageBytes: 10 * 1024 * 1024,
      closeResolvedAfterHours: null,
    });
    expect(m).toMatchObject({ acknowledge: true, acknowledgementSubject: 'We got it: {subject}', acknowledgementBody: 'Hello,\n\nyour request is {protocol}.\n', senderTicketLimit: 0, afterProcessing: 'move', afterProcessingFolder: 'Processed', maxMessageBytes: 10485760, closeResolvedAfterHours: null });
    expect((await patch(m.id, { closeResolvedAfterHours: 48 })).json()).toMatchObject({ closeResolvedAfterHours: 48, maxMessageBytes: 10485760 });
    const changed = (await patch(m.id, { afterProcessing: 'seen', acknowledgementSubject: null })).json();
    expect(changed).toMatchObject({ afterProcessing: 'seen', afterProcessingFolder: 'Processed', acknowledgementSubject: null, acknowledgementBody: 'Hello,\n\nyour request is {protocol}.\n', acknowledge: true });
    // An empty template is the default.
    expect((await patch(m.id, { acknowledgementBody: '   ' })).json().acknowledgementBody).toBeNull();
  });

  it('keep the push secret write-only and sealed; null turns push off', async () => {
    const m = await created({ pushSecret: PUSH });
    expect(m.hasPushSecret).toBe(true);
    const sealed = (await stored(m.id)).pushSecret!;
    expect(sealed).toMatch(/^v1\./);
    expect(testSecrets.open(sealed)).toBe(PUSH);
    secretless(await api.as('agent', `/mailboxes/${m.id}`));
    expect((await patch(m.id, { name: `Kept push${sfx}` })).json().hasPushSecret).toBe(true);
    expect((await stored(m.id)).pushSecret).toBe(sealed);
    expect((await patch(m.id, { pushSecret: null })).json().hasPushSecret).toBe(false);
    expect((await stored(m.id)).pushSecret).toBeNull();
    expect(fields(await patch(m.id, { pushSecret: 'short' }))).toEqual(['body.pushSecret']);
  });

  it('take an OAuth 2.0 client instead of a password, its secrets write-only and sealed', async () => {
    const oauth = { tokenUrl: 'https://login.example.com/tenant/oauth2/v2.0/token', clientId: 'app-123', clientSecret: CLIENT_SECRET, refreshToken: REFRESH, scope: 'https://outlook.office.com/IMAP.AccessAsUser.All offline_access' };
    const m = await created({ imap: { host: 'outlook.office365.com', port: 993, user: 'support@example.com', auth: 'oauth2', oauth } });
    expect(m.imap).toEqual({
      host: 'outlook.office365.com',
      port: 993,
      tls: true,
      user: 'support@example.com',
      folder: 'INBOX',
      hasSecret: false,
      auth: 'oauth2',
      oauth: { tokenUrl: oauth.tokenUrl, clientId: 'app-123', scope: oauth.scope, hasClientSecret: true, hasRefreshToken: true },
    });
    const s = await stored(m.id);
    expect(s.imapSecret).toBeNull();
    expect(testSecrets.open(s.oauthRefreshToken!)).toBe(REFRESH);
    expect(testSecrets.open(s.oauthClientSecret!)).toBe(CLIENT_SECRET);

    // Only the OAuth fields given change; null removes the client secret.
    const changed = secretless(await patch(m.id, { imap: { oauth: { clientSecret: null, scope: null } } })).json();
    expect(changed.imap.oauth).toEqual({ tokenUrl: oauth.tokenUrl, clientId: 'app-123', scope: null, hasClientSecret: false, hasRefreshToken: true });
    expect((await stored(m.id)).oauthRefreshToken).toBe(s.oauthRefreshToken);
    // Back to a password needs one.
    expect(fields(await patch(m.id, { imap: { auth: 'password' } }))).toEqual(['body.imap.secret']);
    expect(secretless(await patch(m.id, { imap: { auth: 'password', secret: 'app password' } })).json().imap).toMatchObject({ auth: 'password', hasSecret: true });
  });

  it('are refused, each naming its field, when they cannot work', async () => {
    const refused = async (res: Promise<LightMyRequestResponse>, expected: string[]) => {
      const r = secretless(await res);
      expect(r.statusCode, r.body).toBe(400);
      expect(r.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(fields(r)).toEqual(expected);
      return r.json();
    };
    await refused(post(body({ imap: { host: 'h', port: 993, user: 'u' } })), ['body.imap.secret']);
    await refused(post(body({ imap: { host: 'h', port: 993, user: 'u', auth: 'oauth2' } })), ['body.imap.oauth.tokenUrl', 'body.imap.oauth.clientId', 'body.imap.oauth.refreshToken']);
    await refused(post(body({ imap: { host: 'h', port: 993, user: 'u', auth: 'oauth2', oauth: { tokenUrl: 'http://login.example.com/token', clientId: 'c', refreshToken: 'r' } } })), ['body.imap.oauth.tokenUrl']);
    await refused(post(body({ afterProcessing: 'move' })), ['body.afterProcessingFolder']);
    const json = await refused(post(body({ afterProcessing: 'move', afterProcessingFolder: 'inbox' })), ['body.afterProcessingFolder']);
    expect(json.detail).toMatch(/must differ from the folder the mailbox reads/);
    await refused(post(body({ maxMessageBytes: 1000 })), ['body.maxMessageBytes']);
    await refused(post(body({ maxMessageBytes: 1024 ** 3 })), ['body.maxMessageBytes']);
    await refused(post(body({ senderTicketLimit: -1 })), ['body.senderTicketLimit']);
    for (const hours of [0, 8761, 1.5, '48']) await refused(post(body({ closeResolvedAfterHours: hours })), ['body.closeResolvedAfterHours']);
    await refused(post(body({ acknowledgementSubject: 'Hi\r\nBcc: everyone@example.com' })), ['body.acknowledgementSubject']);
    // Against the merged result: a mailbox that moves mail cannot lose its folder, nor read the folder it moves to.
    const m = await created({ afterProcessing: 'move', afterProcessingFolder: 'Done' });
    await refused(patch(m.id, { afterProcessingFolder: null }), ['body.afterProcessingFolder']);
    await refused(patch(m.id, { imap: { folder: 'Done' } }), ['body.afterProcessingFolder']);
  });

  it('answer hostile bodies with a 4xx naming the field, or store the value as sent', async () => {
    const valid = { ...body(), acknowledge: true, acknowledgementSubject: 'Subject', acknowledgementBody: 'Body', senderTicketLimit: 5, afterProcessing: 'seen', afterProcessingFolder: 'Done', maxMessageBytes: 100000, closeResolvedAfterHours: 48 };
    const m = await created();
    const cases = hostileBodies(valid, { required: [] }).filter((c) => !['body.name', 'body.imap', 'body.active'].includes(c.field));
    for (const c of cases) {
      // A value of a list may refuse any other text.
      checkCase(secretless(await patch(m.id, c.body)), c.field === 'body.afterProcessing' && c.expect === 'fine' ? { ...c, expect: 'fine-or-refused' } : c);
    }
    for (const c of hostileBodies({ pushSecret: PUSH }, { required: [] })) {
      const res = secretless(await patch(m.id, c.body));
      expect(res.statusCode, `${c.name}: ${res.body}`).toBeLessThan(500);
      if (res.statusCode < 400) expect(res.json().hasPushSecret).toBe(true);
      else expect(fields(res)).toContain(c.field);
    }
  });
});

describe('GET /mailboxes/:id/status', () => {
  it('answers for every role, before the watcher ever ran, and 404 for no mailbox', async () => {
    const m = await created();
    for (const role of ['admin', 'agent', 'backoffice'] as const) {
      const res = await api.as(role, `/mailboxes/${m.id}/status`);
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json()).toEqual({
        mailboxId: m.id,
        active: false,
        connected: false,
        connectedSince: null,
        lastSeenAt: null,
        lastError: null,
        lastMessage: null,
        cursor: null,
        folder: null,
        backlog: { onServer: null, unprocessed: 0, afterProcessing: 0 },
      });
    }
    const none = await api.as('agent', '/mailboxes/999999999/status');
    expect(none.statusCode).toBe(404);
    expect(none.json().detail).toBe('There is no mailbox with id 999999999.');
  });

  it('counts e-mails without an outcome, and those whose message still awaits after-processing', async () => {
    const m = await created({ afterProcessing: 'seen' });
    const insert = (uid: number, outcome: string | null, postProcessed: boolean) => sql`
      INSERT INTO inbound_email (mailbox_id, uid_validity, uid, size, raw, outcome, outcome_at, post_processed_at)
      VALUES (${m.id}, 7, ${uid}, 1, ${Buffer.from('x')}, ${outcome}, ${outcome ? new Date() : null}, ${postProcessed ? new Date() : null})`;
    await insert(1, null, false);
    await insert(2, null, false);
    await insert(3, 'ignored', false);
    await insert(4, 'ignored', true);
    await sql`INSERT INTO mailbox_status (mailbox_id, connected, connected_at, seen_at, last_error, last_error_at) VALUES (${m.id}, true, now(), now() - interval '10 minutes', 'ETIMEOUT: Socket timeout', now())`;
    const status = (await api.as('agent', `/mailboxes/${m.id}/status`)).json();
    expect(status.backlog).toEqual({ onServer: null, unprocessed: 2, afterProcessing: 1 });
    // Not heard from for ten minutes: not connected, whatever it said last.
    expect(status.connected).toBe(false);
    expect(status.lastError).toEqual({ message: 'ETIMEOUT: Socket timeout', at: expect.stringMatching(/^\d{4}-\d\d-\d\dT.*Z$/) });
  });
});
