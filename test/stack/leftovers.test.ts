import { spawn, type ChildProcess } from 'node:child_process';
import { cp, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { identify, removeStalePostmasterPid, stopLeftovers, writePidFile } from '../../stack/pid-files.js';
import { eventually } from '../harness/fixtures.js';
import { ROOT, api, cleanUp, launch, launchSetup, listening, type Launch, type Ports } from './launch.js';

const alive = async (pid: number) => (await identify(pid)) !== undefined;

describe('a launcher killed with SIGKILL', () => {
  let dataDir: string;
  let ports: Ports;
  const runs: Launch[] = [];

  beforeAll(async () => {
    ({ dataDir, ports } = await launchSetup('mailtrack-leftovers-'));
    // The global setup has built the workflow bundle: reuse it rather than run webpack here.
    await cp(resolve(ROOT, '.cache'), join(dataDir, 'cache'), { recursive: true }).catch(() => {});
  });
  afterAll(() => cleanUp(runs, dataDir));

  it('leaves servers that the next start stops before it starts its own', { timeout: 90_000 }, async () => {
    const first = launch(dataDir, ports);
    runs.push(first);
    await eventually(() => api(ports, '/health'), 60_000, `the first start; launcher said:\n${first.output()}`);
    const recorded = async (name: string) => (JSON.parse(await readFile(join(dataDir, 'run', `${name}.pid`), 'utf8')) as { pid: number }).pid;
    const temporalPid = await recorded('temporal');
    const postgresPid = await recorded('postgres');

    // The launcher only, not its group: its servers run in groups of their own anyway.
    process.kill(first.child.pid!, 'SIGKILL');
    await first.exited;
    expect(await alive(temporalPid)).toBe(true);
    expect(await listening(ports.TEMPORAL_PORT)).toBe(true);
    expect(await listening(ports.POSTGRES_PORT)).toBe(true);

    const started = Date.now();
    const second = launch(dataDir, ports);
    runs.push(second);
    await eventually(() => api(ports, '/health'), 30_000, `the second start; launcher said:\n${second.output()}`);
    const secondStart = Date.now() - started;
    console.log(`second start after a SIGKILL: ${secondStart} ms`);
    expect(secondStart).toBeLessThan(20_000);
    expect(second.output()).toContain(`stopped a Temporal dev server left running by an earlier start (pid ${temporalPid})`);
    expect(second.output()).toContain(`stopped a PostgreSQL server left running by an earlier start (pid ${postgresPid})`);
    expect(await alive(temporalPid)).toBe(false);
    expect(await alive(postgresPid)).toBe(false);

    process.kill(-second.child.pid!, 'SIGINT');
    expect(await second.exited).toBe(0);
    for (const port of Object.values(ports)) expect(await listening(port), `port ${port} still listening`).toBe(false);
    // A clean stop removes its records.
    expect((await readdir(join(dataDir, 'run'))).filter((n) => n.endsWith('.pid'))).toEqual([]);
  });
});

describe('leftover records', () => {
  let dir: string;
  const children: ChildProcess[] = [];
  const sleeper = (cwd?: string) => {
    const child = spawn('sleep', ['60'], { stdio: 'ignore', cwd });
    children.push(child);
    return child;
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mailtrack-pidfiles-'));
  });
  afterEach(() => children.splice(0).forEach((c) => c.kill('SIGKILL')));
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('leave alone a process whose launcher still runs', async () => {
    const child = sleeper();
    const forget = await writePidFile(join(dir, 'run', 'a.pid'), child.pid, { label: 'sleeper', stopSignal: 'SIGTERM' });
    const said: string[] = [];
    await stopLeftovers(join(dir, 'run'), (m) => said.push(m), 1_000);
    expect(said).toEqual([]);
    expect(await alive(child.pid!)).toBe(true);
    await forget();
    expect(await readdir(join(dir, 'run'))).toEqual([]);
  });

  it('never stop a process that only has the recorded pid (a recycled one)', async () => {
    const child = sleeper();
    const real = (await identify(child.pid!))!;
    // Recorded by a launcher that is gone, for a process started at another time.
    const record = { pid: child.pid, started: `${real.started}0`, exe: real.exe, label: 'sleeper', stopSignal: 'SIGTERM', owner: { pid: 999_999_999, started: 'x', exe: 'x' } };
    await mkdir(join(dir, 'run'), { recursive: true });
    await writeFile(join(dir, 'run', 'b.pid'), JSON.stringify(record));
    await stopLeftovers(join(dir, 'run'), () => {}, 1_000);
    expect(await alive(child.pid!)).toBe(true);
    expect(await readdir(join(dir, 'run'))).toEqual([]);
  });

  it.runIf(process.platform === 'linux')('remove a postmaster.pid that names no process of that data directory', async () => {
    const lock = join(dir, 'postmaster.pid');
    const ours = sleeper(dir);
    await writeFile(lock, `${ours.pid}\n${dir}\n`);
    await removeStalePostmasterPid(dir);
    expect(await readFile(lock, 'utf8')).toContain(String(ours.pid));

    const other = sleeper(tmpdir());
    await writeFile(lock, `${other.pid}\n${dir}\n`);
    await removeStalePostmasterPid(dir);
    await expect(readFile(lock)).rejects.toThrow(/ENOENT/);
  });
});
