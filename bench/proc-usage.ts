/** Memory and CPU of the processes a benchmark runs (Linux /proc), shared by bench/sla and bench/ingest. */
import { readdir, readFile } from 'node:fs/promises';

export async function procStatus(pid: number): Promise<{ rss: number; hwm: number } | undefined> {
  try {
    const text = await readFile(`/proc/${pid}/status`, 'utf8');
    const kib = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN) * 1024;
    return { rss: kib('VmRSS'), hwm: kib('VmHWM') };
  } catch {
    return undefined;
  }
}

/** Fields of /proc/<pid>/stat after the command name: [state, ppid, …]. */
async function procStat(pid: number): Promise<string[] | undefined> {
  try {
    const text = await readFile(`/proc/${pid}/stat`, 'utf8');
    return text.slice(text.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}
const CLOCK_TICKS = 100; // USER_HZ, 100 on every Linux this runs on
/** CPU seconds of `pid` itself, and with `children` those of its exited, reaped children. */
const cpuOf = (f: string[], children = false) => (Number(f[11]) + Number(f[12]) + (children ? Number(f[13]) + Number(f[14]) : 0)) / CLOCK_TICKS;

export interface Pids {
  temporal?: number;
  postgres?: number;
}

/** Our children by command name: the Temporal dev server and the postmaster. */
export async function findPids(): Promise<Pids> {
  const pids: Pids = {};
  for (const entry of await readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    const stat = await procStat(pid);
    if (!stat || Number(stat[1]) !== process.pid) continue;
    const comm = (await readFile(`/proc/${pid}/comm`, 'utf8').catch(() => '')).trim();
    if (comm === 'temporal') pids.temporal = pid;
    if (comm === 'postgres') pids.postgres = pid;
  }
  return pids;
}

/** CPU seconds so far: the worker, the Temporal server, PostgreSQL (all its processes), this bench, and everything else on the machine. */
export async function cpuNow(pids: Pids, workerPid: number | undefined) {
  const one = async (pid: number | undefined) => (pid ? ((s) => (s ? cpuOf(s) : 0))(await procStat(pid)) : 0);
  let postgres = 0;
  if (pids.postgres) {
    const all = await readdir('/proc').catch(() => [] as string[]);
    for (const entry of all) {
      if (!/^\d+$/.test(entry)) continue;
      const s = await procStat(Number(entry));
      if (s && Number(s[1]) === pids.postgres) postgres += cpuOf(s);
    }
    const master = await procStat(pids.postgres);
    if (master) postgres += cpuOf(master, true);
  }
  const self = process.cpuUsage();
  const ours = { worker: await one(workerPid), temporal: await one(pids.temporal), postgres, bench: (self.user + self.system) / 1e6 };
  // The machine's busy time (/proc/stat: user nice system idle iowait irq softirq steal): the rest is other people's.
  const machine = (await readFile('/proc/stat', 'utf8').catch(() => '')).split('\n')[0]!.split(/\s+/).slice(1).map(Number);
  const busy = machine.length >= 8 ? (machine[0]! + machine[1]! + machine[2]! + machine[5]! + machine[6]! + machine[7]!) / CLOCK_TICKS : NaN;
  return { ...ours, others: busy - ours.worker - ours.temporal - ours.postgres - ours.bench };
}
export type Cpu = Awaited<ReturnType<typeof cpuNow>>;
