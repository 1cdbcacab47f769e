import { spawn, type ChildProcess } from 'node:child_process';
import { Connection } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { ALL_SEARCH_ATTRIBUTES } from '../contracts/search-attributes.js';
import type { TemporalCli } from './temporal-cli.js';
import { writePidFile } from './pid-files.js';
import { killOnExit, stopChild } from './processes.js';

export interface DevServerOptions {
  cli: TemporalCli;
  port: number;
  /** Web UI port; omitted = headless (tests). */
  uiPort?: number;
  /** SQLite file; omitted = in memory (tests). */
  dbFilename?: string;
  namespace?: string;
  /** Where to record the server's pid, so a later start can stop it if this process is killed. */
  pidFile?: string;
}

export interface DevServer {
  address: string;
  uiUrl?: string;
  stop(): Promise<void>;
}

// File-backed SQLite is slow with its defaults; WAL keeps `npm start` responsive.
const SQLITE_PRAGMAS = ['journal_mode=WAL', 'synchronous=NORMAL'];
const pragmaArgs = (dbFilename: string | undefined) => (dbFilename ? SQLITE_PRAGMAS.flatMap((p) => ['--sqlite-pragma', p]) : []);

/**
 * One partition per task queue. The server splits each task queue into four partitions by
 * default, so that matching can spread over the hosts of a cluster; on one host that only adds
 * work (tasks and polls forwarded between partitions). `bench/ingest` on a 2-core machine, two
 * runs each way: the engine's burst of 1,000 at 29.3 and 30.4 e-mails/s with one partition
 * against 25.1 and 25.5 with four; the ceiling at 75.6 and 82.9 against 57.3 and 61.1. A
 * cluster keeps the server's default (docker-compose.yml).
 */
const SINGLE_HOST_ARGS = ['matching.numTaskqueueReadPartitions=1', 'matching.numTaskqueueWritePartitions=1'].flatMap((v) => ['--dynamic-config-value', v]);

function searchAttributeArgs(): string[] {
  const typeName: Record<string, string> = { KEYWORD: 'Keyword', DATETIME: 'Datetime', BOOL: 'Bool', TEXT: 'Text', INT: 'Int', DOUBLE: 'Double', KEYWORD_LIST: 'KeywordList' };
  return ALL_SEARCH_ATTRIBUTES.flatMap((k) => ['--search-attribute', `${k.name}=${typeName[k.type] ?? k.type}`]);
}

/** Resolves once the frontend answers, or rejects after `timeoutMs`. */
async function waitForTemporal(address: string, timeoutMs: number, exited?: () => string | undefined): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    const exitReason = exited?.();
    if (exitReason) throw new Error(`Temporal dev server exited: ${exitReason}`);
    try {
      const connection = await Connection.connect({ address, connectTimeout: 1000 });
      try {
        await connection.workflowService.getSystemInfo({});
        return;
      } finally {
        await connection.close();
      }
    } catch (err) {
      lastError = err;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  throw new Error(`Temporal at ${address} did not answer within ${timeoutMs} ms: ${String(lastError)}`);
}

/**
 * Starts `temporal server start-dev` with the product's search attributes. With a binary we
 * run it ourselves (so shutdown is a clean SIGTERM and SQLite is left consistent); without one,
 * the SDK downloads and manages it.
 */
export async function startDevServer(opts: DevServerOptions): Promise<DevServer> {
  const namespace = opts.namespace ?? 'default';
  const address = `127.0.0.1:${opts.port}`;
  const uiUrl = opts.uiPort ? `http://127.0.0.1:${opts.uiPort}` : undefined;
  if (opts.cli.kind === 'sdk-download') {
    const env = await TestWorkflowEnvironment.createLocal({
      server: {
        ip: '127.0.0.1',
        port: opts.port,
        namespace,
        ui: opts.uiPort !== undefined,
        uiPort: opts.uiPort,
        dbFilename: opts.dbFilename,
        searchAttributes: ALL_SEARCH_ATTRIBUTES,
        extraArgs: ['--log-level', 'error', ...SINGLE_HOST_ARGS, ...pragmaArgs(opts.dbFilename)],
      },
    });
    return { address, uiUrl, stop: () => env.teardown() };
  }

  const args = ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(opts.port), '--namespace', namespace, '--log-level', 'error', ...SINGLE_HOST_ARGS, ...searchAttributeArgs()];
  args.push(...(opts.uiPort ? ['--ui-port', String(opts.uiPort)] : ['--headless']));
  if (opts.dbFilename) args.push('--db-filename', opts.dbFilename, ...pragmaArgs(opts.dbFilename));
  // Its own process group: Ctrl-C reaches the launcher, which stops things in order.
  const child: ChildProcess = spawn(opts.cli.path, args, { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
  killOnExit(child);
  let stderr = '';
  let exitReason: string | undefined;
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  child.on('exit', (code, signal) => {
    exitReason = `code ${code ?? '-'} signal ${signal ?? '-'}; stderr: ${stderr.trim().slice(-1500)}`;
  });
  const forget = opts.pidFile ? await writePidFile(opts.pidFile, child.pid, { label: 'Temporal dev server', stopSignal: 'SIGTERM' }) : async () => {};
  const stop = async () => {
    await stopChild(child);
    await forget();
  };
  try {
    await waitForTemporal(address, 60_000, () => exitReason);
  } catch (err) {
    await stop();
    throw err;
  }
  return { address, uiUrl, stop };
}
