import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../harness/fixtures.js';
import { api as apiOn, cleanUp, launch as launchOn, launchSetup, listening, type Launch, type Ports } from './launch.js';

// `npm start` as a user runs it: the launcher in its own process group, stopped with the
// SIGINT a terminal sends on Ctrl-C, started twice on the same data directory.
let dataDir: string;
let ports: Ports;
const runs: Launch[] = [];

beforeAll(async () => {
  ({ dataDir, ports } = await launchSetup('mailtrack-launcher-'));
});
afterAll(() => cleanUp(runs, dataDir));

const launch = () => {
  const run = launchOn(dataDir, ports);
  runs.push(run);
  return run;
};
const api = <T>(path: string) => apiOn<T>(ports, path, dataDir);

async function ctrlC(run: Launch) {
  process.kill(-run.child.pid!, 'SIGINT');
  expect(await run.exited).toBe(0);
  for (const port of Object.values(ports)) expect(await listening(port), `port ${port} still listening`).toBe(false);
}

describe('npm start', () => {
  it('turns the demo mail into a ticket, stops cleanly on Ctrl-C, and starts again quickly on the same data', { timeout: 180_000 }, async () => {
    const first = launch();
    const tickets = await eventually(async () => {
      const page = await api<{ items: { subject: string; protocol: string }[] }>('/tickets');
      return page?.items.length ? page.items : undefined;
    }, 90_000, `the demo ticket; launcher said:\n${first.output()}`);
    expect(tickets.map((t) => t.subject)).toEqual(['Welcome: my first e-mail becomes a ticket']);
    // The first admin key: printed once, kept in the data directory for its owner only.
    const keyFile = join(dataDir, 'admin-api-key');
    const key = (await readFile(keyFile, 'utf8')).trim();
    expect(key).toMatch(/^mt_[\w-]{43}$/);
    expect((await stat(keyFile)).mode & 0o777).toBe(0o600);
    expect(first.output()).toContain(key);
    expect(await api('/me')).toMatchObject({ login: 'admin', role: 'admin' });
    await ctrlC(first);

    const started = Date.now();
    const second = launch();
    await eventually(() => api('/health'), 30_000, `the second start; launcher said:\n${second.output()}`);
    // Wall clock from the command to an answering API, process start-up included.
    expect(Date.now() - started).toBeLessThan(15_000);
    // The demo mailbox came back with a new UIDVALIDITY: the welcome mail is read again and
    // recognised by its Message-ID, so there is still one ticket.
    const emails = await eventually(async () => {
      const page = await api<{ items: { outcome: string | null; outcomeReason: string | null }[] }>('/emails');
      return page && page.items.length === 2 && page.items.every((e) => e.outcome) ? page.items : undefined;
    }, 30_000, 'the welcome mail to be read again');
    expect(emails[0]).toMatchObject({ outcome: 'ignored', outcomeReason: expect.stringMatching(/same Message-ID/) });
    expect((await api<{ items: unknown[] }>('/tickets'))!.items).toHaveLength(1);
    expect(second.output()).not.toMatch(/installing|workflow bundle ready \(\d{4,} ms\)/);
    expect(second.output()).not.toContain(key);
    await ctrlC(second);
  });
});
