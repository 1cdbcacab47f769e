import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../stack/free-port.js';
import { ensureTemporalCli } from '../../stack/temporal-cli.js';
import { startDevServer, type DevServer } from '../../stack/temporal-dev-server.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface PersistentTemporal {
  address: string;
  /** Stops the server (SIGTERM) and starts it again on the same port and database file. */
  restart(): Promise<void>;
  /** Stops it for good and removes its database file. */
  stop(): Promise<void>;
}

/**
 * A Temporal dev server of a test's own, with its state in a SQLite file on disk
 * (`--db-filename`) and on a port of its own, so the test can restart it and find every
 * workflow where it was. The suite's shared server keeps its state in memory and cannot be
 * restarted.
 */
export async function startPersistentTemporal(): Promise<PersistentTemporal> {
  const [cli, dir, port] = await Promise.all([
    ensureTemporalCli({ projectRoot: ROOT, explicitPath: process.env.TEMPORAL_CLI_PATH || undefined }),
    mkdtemp(join(tmpdir(), 'mailtrack-temporal-')),
    freePort(),
  ]);
  const dbFilename = join(dir, 'temporal.db');
  const start = () => startDevServer({ cli, port, dbFilename });
  let server: DevServer | undefined;
  try {
    server = await start();
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    address: server.address,
    async restart() {
      await server?.stop();
      server = undefined;
      server = await start();
    },
    async stop() {
      await server?.stop();
      server = undefined;
      await rm(dir, { recursive: true, force: true });
    },
  };
}
