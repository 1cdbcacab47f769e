/** The benchmarks' side of bench/worker-process.ts: starts one, asks it for its figures, stops it. */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { killOnExit } from '../stack/processes.js';
import type { FromWorker, ToWorker, WorkerProcessConfig } from './worker-process.js';

export interface WorkerProcess {
  child: ChildProcess;
  stats(lateness?: boolean): Promise<Extract<FromWorker, { type: 'stats' }>>;
  stop(): Promise<void>;
}

/** Forks the worker and waits until it polls; killed with this process. */
export async function startWorkerProcess(config: WorkerProcessConfig): Promise<WorkerProcess> {
  const child = fork(fileURLToPath(new URL('./worker-process.ts', import.meta.url)), [JSON.stringify(config)], {
    cwd: fileURLToPath(new URL('..', import.meta.url)),
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  killOnExit(child);
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const next = <T extends FromWorker['type']>(type: T) =>
    new Promise<Extract<FromWorker, { type: T }>>((ok, fail) => {
      const onMessage = (m: FromWorker) => {
        if (m.type !== type) return;
        child.off('message', onMessage);
        ok(m as Extract<FromWorker, { type: T }>);
      };
      child.on('message', onMessage);
      void exited.then(() => fail(new Error(`the ${config.kind} worker on ${config.taskQueue} exited`)));
    });
  await next('ready');
  return {
    child,
    stats: (lateness = false) => {
      const answer = next('stats');
      child.send({ type: 'stats', lateness } satisfies ToWorker);
      return answer;
    },
    stop: async () => {
      child.send({ type: 'shutdown' } satisfies ToWorker);
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
