import { spawn, type ChildProcess } from 'node:child_process';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../harness/fixtures.js';
import { freePort } from '../../stack/free-port.js';

// `npm start` as a user runs it: the launcher in its own process group, stopped with the
// SIGINT a terminal sends on Ctrl-C, started twice on the same data directory.
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

const listening = (port: number) =>
  new Promise<boolean>((res) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => (s.destroy(), res(true)));
    s.once('error', () => res(false));
  });

let dataDir: string;
let ports: Record<'API_PORT' | 'TEMPORAL_PORT' | 'TEMPORAL_UI_PORT' | 'POSTGRES_PORT' | 'DEMO_IMAP_PORT', number>;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'mailtrack-launcher-'));
  await chmod(dataDir, 0o755);
  const [a, b, c, d, e] = await Promise.all([1, 2, 3, 4, 5].map(() => freePort()));
  ports = { API_PORT: a!, TEMPORAL_PORT: b!, TEMPORAL_UI_PORT: c!, POSTGRES_PORT: d!, DEMO_IMAP_PORT: e! };
});
afterAll(() => rm(dataDir, { recursive: true, force: true }));

function launch(): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const env = { ...process.env, DATA_DIR: dataDir, ...Object.fromEntries(Object.entries(ports).map(([k, v]) => [k, String(v)])) };
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/start.ts'], { cwd: ROOT, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | null>((res) => child.once('exit', (code) => res(code)));
  return { child, output: () => out, exited };
}

const api = async <T>(path: string): Promise<T | undefined> => {
  try {
    const res = await fetch(`http://127.0.0.1:${ports.API_PORT}${path}`, { signal: AbortSignal.timeout(5000) });
    return res.ok ? ((await res.json()) as T) : undefined;
  } catch {
    return undefined;
  }
};

async function ctrlC(run: ReturnType<typeof launch>) {
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
    await ctrlC(second);
  });
});
