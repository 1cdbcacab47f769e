import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ensureTemporalCli } from '../../stack/temporal-cli.js';

let dir: string;
let savedPath: string | undefined;

async function fakeBinary(path: string): Promise<string> {
  await mkdir(join(path, '..'), { recursive: true });
  await writeFile(path, '#!/bin/sh\nexit 0\n');
  await chmod(path, 0o755);
  return path;
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'temporal-cli-'));
  savedPath = process.env.PATH;
});
afterEach(async () => {
  process.env.PATH = savedPath;
  await rm(dir, { recursive: true, force: true });
});

describe('finding the Temporal CLI', () => {
  it('takes TEMPORAL_CLI_PATH first, even with another on PATH and one cached', async () => {
    const explicit = await fakeBinary(join(dir, 'explicit', 'temporal'));
    await fakeBinary(join(dir, 'bin', 'temporal'));
    await fakeBinary(join(dir, 'project', '.tools', 'temporal-venv', 'bin', 'temporal'));
    process.env.PATH = join(dir, 'bin');
    expect(await ensureTemporalCli({ projectRoot: join(dir, 'project'), explicitPath: explicit })).toEqual({ kind: 'binary', path: explicit, source: 'TEMPORAL_CLI_PATH' });
  });

  it('refuses a TEMPORAL_CLI_PATH that is not an executable, naming it', async () => {
    await expect(ensureTemporalCli({ projectRoot: dir, explicitPath: join(dir, 'missing') })).rejects.toThrow(/TEMPORAL_CLI_PATH=.*missing is not an executable/);
  });

  it('then `temporal` on PATH, before the cached copy', async () => {
    const onPath = await fakeBinary(join(dir, 'bin', 'temporal'));
    await fakeBinary(join(dir, 'project', '.tools', 'temporal-venv', 'bin', 'temporal'));
    process.env.PATH = join(dir, 'bin');
    expect(await ensureTemporalCli({ projectRoot: join(dir, 'project') })).toEqual({ kind: 'binary', path: onPath, source: 'PATH' });
  });

  it('then the copy the project installed in .tools/', async () => {
    const cached = await fakeBinary(join(dir, 'project', '.tools', 'go-bin', 'temporal'));
    process.env.PATH = join(dir, 'empty');
    expect(await ensureTemporalCli({ projectRoot: join(dir, 'project') })).toEqual({ kind: 'binary', path: cached, source: 'cached' });
  });

  it('last, the SDK download, when nothing can be installed here', async () => {
    // No python3 and no go on this PATH: neither install route is possible.
    process.env.PATH = join(dir, 'empty');
    expect(await ensureTemporalCli({ projectRoot: join(dir, 'project') })).toEqual({ kind: 'sdk-download' });
  });
});
