import { ImapFlow } from 'imapflow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keepIdleBelowSocketTimeout, untilNewMail } from '../../activities/mailbox.js';
import { appendMail } from '../../stack/dovecot.js';
import { DEMO_MAILBOX, startDemoMailbox, type DemoMailbox } from '../../stack/demo-mailbox.js';
import { freePort } from '../../stack/free-port.js';

/**
 * Issue 8, "Idle equals the socket timeout": on a server that sends nothing while a client
 * idles (the in-memory demo server; Dovecot would say `* OK Still here` every 2 minutes), an
 * IDLE as long as the socket timeout let the socket time out at the end of every wait. The
 * watcher's IDLE is re-issued before the socket timeout (here 2 s instead of imapflow's 5
 * minutes, so the test is short): the socket never times out, and new mail is still noticed.
 */
let server: DemoMailbox;
const clients: ImapFlow[] = [];

beforeAll(async () => {
  server = await startDemoMailbox({ port: await freePort() });
});
afterAll(async () => {
  for (const c of clients) await c.logout().catch(() => c.close());
  await server?.stop();
});

/** A client with a short socket timeout, its socket timeouts and errors counted, the folder selected. */
async function idleClient(socketTimeout: number) {
  const client = new ImapFlow({ host: server.host, port: server.port, secure: false, auth: { user: DEMO_MAILBOX.user, pass: DEMO_MAILBOX.password }, logger: false, socketTimeout });
  clients.push(client);
  const seen = { timeouts: 0, errors: [] as string[], closed: false };
  client.on('error', (err: Error) => seen.errors.push(err.message));
  client.on('close', () => (seen.closed = true));
  await client.connect();
  (client as unknown as { socket: NodeJS.EventEmitter }).socket.on('timeout', () => seen.timeouts++);
  const lock = await client.getMailboxLock('INBOX');
  lock.release();
  return { client, seen };
}

describe('the watcher waits in IDLE without letting the socket time out', () => {
  it('re-issues IDLE below the socket timeout, so a silent server never times the socket out', async () => {
    const { client, seen } = await idleClient(2_000);
    expect(keepIdleBelowSocketTimeout(client)).toBe(1_600);
    let ticks = 0;
    const woken = await untilNewMail(client, 7_000, new AbortController().signal, async () => void ticks++);
    expect(woken).toBe('timeout');
    expect(seen).toEqual({ timeouts: 0, errors: [], closed: false });
    expect(ticks).toBeGreaterThanOrEqual(1);
    // The connection is still good for the next round.
    expect(await client.search({ all: true }, { uid: true })).toEqual(expect.any(Array));
  }, 20_000);

  it('without it, the same wait lets the socket time out (what the watcher did before)', async () => {
    const { client, seen } = await idleClient(2_000);
    const woken = await untilNewMail(client, 5_000, new AbortController().signal, async () => {});
    expect(woken).toBe('timeout');
    expect(seen.timeouts).toBeGreaterThanOrEqual(1);
  }, 20_000);

  it('still wakes for new mail at once, and when the wait is cancelled', async () => {
    const { client } = await idleClient(2_000);
    keepIdleBelowSocketTimeout(client);
    const started = Date.now();
    const appended = new Promise((r) => setTimeout(r, 2_500)).then(() =>
      appendMail({ host: server.host, port: server.port, tls: false, user: DEMO_MAILBOX.user, secret: DEMO_MAILBOX.password, folder: 'INBOX' }, 'From: a@example.com\r\nSubject: hi\r\n\r\nbody\r\n'),
    );
    expect(await untilNewMail(client, 15_000, new AbortController().signal, async () => {})).toBe('mail');
    await appended;
    expect(Date.now() - started).toBeLessThan(6_000);

    const abort = new AbortController();
    setTimeout(() => abort.abort(), 300);
    expect(await untilNewMail(client, 15_000, abort.signal, async () => {})).toBe('cancelled');
  }, 20_000);

  it('wakes at once for mail the server announced before the wait began (during the last look)', async () => {
    const { client } = await idleClient(2_000);
    const before = client.mailbox ? client.mailbox.exists : 0;
    await appendMail({ host: server.host, port: server.port, tls: false, user: DEMO_MAILBOX.user, secret: DEMO_MAILBOX.password, folder: 'INBOX' }, 'From: a@example.com\r\nSubject: early\r\n\r\nbody\r\n');
    // A command makes the server say EXISTS while nobody listens for it.
    await client.noop();
    expect(client.mailbox && client.mailbox.exists).toBe(before + 1);
    const started = Date.now();
    expect(await untilNewMail(client, 10_000, new AbortController().signal, async () => {}, before)).toBe('mail');
    expect(Date.now() - started).toBeLessThan(1_000);
  }, 20_000);
});
