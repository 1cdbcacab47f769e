import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';
import './provided.js';
import { migrate } from '../../db/migrate.js';
import { startDovecot } from '../../stack/dovecot.js';
import { startEmbeddedPostgres } from '../../stack/embedded-postgres.js';
import { freePort } from '../../stack/free-port.js';
import { ensureTemporalCli } from '../../stack/temporal-cli.js';
import { startDevServer } from '../../stack/temporal-dev-server.js';
import { loadWorkflowBundle } from '../../workers/workflow-bundle.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const BUNDLE_CACHE = resolve(ROOT, '.cache');

/**
 * Starts, once per test run, the real parts the tests use: a Temporal dev server (in
 * memory), PostgreSQL (an embedded one in a temp dir, or TEST_DATABASE_URL, which must be a disposable
 * database) and
 * Dovecot; and warms the workflow bundle cache. Stops them all at the end.
 */
export default async function setup(project: TestProject) {
  const log = (m: string) => console.log(`[test-setup] ${m}`);
  const stops: (() => Promise<unknown>)[] = [];
  const teardown = async () => {
    for (const s of stops.reverse()) await s().catch((e: unknown) => console.error(e));
  };
  try {
    const [cli, pgDir] = await Promise.all([
      ensureTemporalCli({ projectRoot: ROOT, explicitPath: process.env.TEMPORAL_CLI_PATH || undefined, log }),
      mkdtemp(join(tmpdir(), 'mailtrack-test-pg-')),
    ]);
    stops.push(() => rm(pgDir, { recursive: true, force: true }));
    // mkdtemp makes it private to us; PostgreSQL runs as its own user when we are root.
    await chmod(pgDir, 0o755);
    const [temporal, db, dovecot] = await Promise.all([
      freePort().then((port) => startDevServer({ cli, port })),
      process.env.TEST_DATABASE_URL
        ? Promise.resolve(undefined)
        : freePort().then((port) => startEmbeddedPostgres({ dir: join(pgDir, 'data'), port, database: 'mailtrack_test' })),
      startDovecot(),
    ]);
    stops.push(temporal.stop, dovecot.stop);
    if (db) stops.push(db.stop);
    const databaseUrl = db?.url ?? process.env.TEST_DATABASE_URL!;
    await Promise.all([migrate(databaseUrl), loadWorkflowBundle(BUNDLE_CACHE)]);

    project.provide('temporalAddress', temporal.address);
    project.provide('databaseUrl', databaseUrl);
    project.provide('imap', { host: dovecot.host, port: dovecot.port, users: dovecot.users });
  } catch (err) {
    await teardown();
    throw err;
  }
  return teardown;
}
