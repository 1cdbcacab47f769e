import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, inject } from 'vitest';
import { BUNDLE_CACHE } from './global-setup.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/**
 * Workers in processes of their own (test/harness/worker-process.ts), for tests that kill them
 * with SIGKILL; every one still alive is killed after the file's tests.
 */
export function useWorkerProcesses(): (taskQueue: string, env?: Record<string, string>) => Promise<ChildProcess> {
  const children: ChildProcess[] = [];
  afterAll(() => children.forEach((c) => c.kill('SIGKILL')));
  return async (taskQueue, env = {}) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/harness/worker-process.ts'], {
      cwd: ROOT,
      env: { ...process.env, DATABASE_URL: inject('databaseUrl'), TEMPORAL_ADDRESS: inject('temporalAddress'), TASK_QUEUE: taskQueue, BUNDLE_CACHE, ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    children.push(child);
    await new Promise<void>((resolve, reject) => {
      child.stdout!.on('data', (d: Buffer) => d.toString().includes('ready') && resolve());
      child.once('exit', (code) => reject(new Error(`worker process exited (${code}) before it was ready`)));
    });
    return child;
  };
}
