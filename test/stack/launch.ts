import { spawn, type ChildProcess } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../stack/free-port.js';
import { stopLeftovers } from '../../stack/pid-files.js';

// `npm start` as a user runs it: the launcher in its own process group, on its own data
// directory and free ports.
export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export type Ports = Record<'API_PORT' | 'TEMPORAL_PORT' | 'TEMPORAL_UI_PORT' | 'POSTGRES_PORT' | 'DEMO_IMAP_PORT', number>;

export interface Launch {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

export const listening = (port: number) =>
  new Promise<boolean>((res) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => (s.destroy(), res(true)));
    s.once('error', () => res(false));
  });

/** A data directory PostgreSQL (run as its own user when we are root) can reach, and free ports. */
export async function launchSetup(prefix: string): Promise<{ dataDir: string; ports: Ports }> {
  const dataDir = await mkdtemp(join(tmpdir(), prefix));
  await chmod(dataDir, 0o755);
  const [a, b, c, d, e] = await Promise.all([1, 2, 3, 4, 5].map(() => freePort()));
  return { dataDir, ports: { API_PORT: a!, TEMPORAL_PORT: b!, TEMPORAL_UI_PORT: c!, POSTGRES_PORT: d!, DEMO_IMAP_PORT: e! } };
}

export function launch(dataDir: string, ports: Ports): Launch {
  const env = { ...process.env, DATA_DIR: dataDir, ...Object.fromEntries(Object.entries(ports).map(([k, v]) => [k, String(v)])) };
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/start.ts'], { cwd: ROOT, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | null>((res) => child.once('exit', (code) => res(code)));
  return { child, output: () => out, exited };
}

/** GET `path` with the admin key the first start wrote into the data directory; undefined unless 2xx. */
export const api = async <T>(ports: Ports, path: string, dataDir?: string): Promise<T | undefined> => {
  try {
    const key = dataDir ? (await readFile(join(dataDir, 'admin-api-key'), 'utf8').catch(() => '')).trim() : '';
    const headers: Record<string, string> = key ? { authorization: `Bearer ${key}` } : {};
    const res = await fetch(`http://127.0.0.1:${ports.API_PORT}${path}`, { headers, signal: AbortSignal.timeout(5000) });
    return res.ok ? ((await res.json()) as T) : undefined;
  } catch {
    return undefined;
  }
};

/**
 * After the tests: stops the launchers still running (a failed test), group and all, then the
 * servers they started, and deletes the data directory.
 */
export async function cleanUp(runs: Launch[], dataDir: string): Promise<void> {
  for (const run of runs) {
    if (run.child.pid && run.child.exitCode === null && run.child.signalCode === null) {
      try {
        process.kill(-run.child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
      await run.exited;
    }
  }
  await stopLeftovers(join(dataDir, 'run'), () => {}, 5_000);
  await rm(dataDir, { recursive: true, force: true });
}
