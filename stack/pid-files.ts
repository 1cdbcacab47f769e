import { execFile } from 'node:child_process';
import { mkdir, readFile, readdir, readlink, realpath, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { promisify } from 'node:util';

// The launcher's servers run in their own process groups (so Ctrl-C reaches the launcher
// only); a launcher killed with SIGKILL cannot stop them. Each one is recorded in a pid file
// under the data directory, and the next start stops what an earlier, dead launcher left.

const run = promisify(execFile);

/** What tells one process from a later one that got the same pid. */
interface Identity {
  /** Start time (on Linux, with the boot id), as the system reports it. */
  started: string;
  /** The running executable. */
  exe: string;
}

interface PidRecord extends Identity {
  pid: number;
  /** For the log line: "a <label>". */
  label: string;
  /** The signal that stops it cleanly. */
  stopSignal: NodeJS.Signals;
  /** The launcher that started it: while that one lives, the process is not a leftover. */
  owner: Identity & { pid: number };
}

/** The identity of a live process, or undefined when it is gone (or a zombie) or cannot be read. */
export async function identify(pid: number): Promise<Identity | undefined> {
  try {
    if (process.platform === 'linux') {
      const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
      // Fields after the command name, which may hold spaces and parentheses: state is the
      // 3rd field of the line, the start time (in clock ticks since boot) the 22nd.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (fields[0] === 'Z' || fields[0] === 'X') return undefined;
      const [bootId, exe] = await Promise.all([readFile('/proc/sys/kernel/random/boot_id', 'utf8'), readlink(`/proc/${pid}/exe`)]);
      return { started: `${bootId.trim()}:${fields[19]}`, exe: exe.replace(/ \(deleted\)$/, '') };
    }
    // macOS and other Unixes: lstart is a fixed 24-character date, then the command path.
    const { stdout } = await run('ps', ['-o', 'lstart=', '-o', 'comm=', '-p', String(pid)]);
    const line = stdout.trim();
    if (!line || line.endsWith('<defunct>')) return undefined;
    return { started: line.slice(0, 24).trim(), exe: line.slice(24).trim() };
  } catch {
    return undefined;
  }
}

const same = (a: Identity | undefined, b: Identity) => a !== undefined && a.started === b.started && a.exe === b.exe;

/**
 * Records a child just spawned (the spawn has exec'ed the binary when it returns) in `file`;
 * returns the function that removes the record once the child is stopped.
 */
export async function writePidFile(file: string, pid: number | undefined, info: { label: string; stopSignal: NodeJS.Signals }): Promise<() => Promise<void>> {
  const [child, owner] = pid === undefined ? [] : await Promise.all([identify(pid), identify(process.pid)]);
  // Already gone, or unreadable: nothing we could later recognise, so nothing to record.
  if (pid === undefined || !child || !owner) return async () => {};
  const record: PidRecord = { pid, ...child, ...info, owner: { pid: process.pid, ...owner } };
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, `${JSON.stringify(record, null, 2)}\n`);
  return () => rm(file, { force: true });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitGone(pid: number, recorded: Identity, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (!same(await identify(pid), recorded)) return true;
    if (Date.now() > deadline) return false;
    await sleep(100);
  }
}

function signal(target: number, sig: NodeJS.Signals): void {
  try {
    process.kill(target, sig);
  } catch {
    // Gone already, or not ours to signal: the caller checks what is left.
  }
}

async function stopLeftover(file: string, log: (m: string) => void, graceMs: number): Promise<void> {
  let record: PidRecord;
  try {
    record = JSON.parse(await readFile(file, 'utf8')) as PidRecord;
  } catch {
    await rm(file, { force: true });
    return;
  }
  // Its launcher still runs (a second `npm start` on the same data): not a leftover; the
  // port check then says what is in the way.
  if (same(await identify(record.owner.pid), record.owner)) return;
  // Gone, or the pid now belongs to another process: nothing to stop.
  if (!same(await identify(record.pid), record)) {
    await rm(file, { force: true });
    return;
  }
  signal(record.pid, record.stopSignal);
  if (!(await waitGone(record.pid, record, graceMs))) {
    // Its own process group (spawned detached): take its children too.
    signal(-record.pid, 'SIGKILL');
    signal(record.pid, 'SIGKILL');
    if (!(await waitGone(record.pid, record, 5_000))) throw new Error(`could not stop a ${record.label} left running by an earlier start (pid ${record.pid})`);
  }
  log(`stopped a ${record.label} left running by an earlier start (pid ${record.pid})`);
  await rm(file, { force: true });
}

/** Stops, in parallel, every process recorded in `dir` whose launcher is gone. */
export async function stopLeftovers(dir: string, log: (m: string) => void, graceMs = 15_000): Promise<void> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return;
  }
  await Promise.all(names.filter((n) => n.endsWith('.pid')).map((n) => stopLeftover(join(dir, n), log, graceMs)));
}

/**
 * PostgreSQL refuses to start while `postmaster.pid` names a live process of its user, which
 * a recycled pid can be after PostgreSQL itself was killed. A postmaster or backend of this
 * cluster has the data directory as its working directory; when the recorded pid is not such
 * a process, the lock is stale and is removed. Linux only; elsewhere PostgreSQL's own check
 * applies.
 */
export async function removeStalePostmasterPid(dataDir: string): Promise<void> {
  if (process.platform !== 'linux') return;
  const lock = join(dataDir, 'postmaster.pid');
  let pid: number;
  try {
    pid = Number((await readFile(lock, 'utf8')).split('\n')[0]);
  } catch {
    return;
  }
  if (Number.isInteger(pid) && pid > 0) {
    const alive = await identify(pid);
    const cwd = alive ? await readlink(`/proc/${pid}/cwd`).catch(() => undefined) : undefined;
    // Unreadable cwd of a live postgres: leave the decision to PostgreSQL.
    if (alive && (cwd === undefined ? basename(alive.exe) === 'postgres' : cwd === (await realpath(dataDir)))) return;
  }
  await rm(lock, { force: true });
}
