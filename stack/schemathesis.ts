import { execFile } from 'node:child_process';
import { access, constants, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
/** Pinned so a new release cannot change what the suite checks. */
const PACKAGE = 'schemathesis==4.32.5';

/**
 * The `st` command of Schemathesis (API fuzzing from the OpenAPI document), installed once
 * from PyPI into `.tools/schemathesis-venv` (python3 needed) and reused afterwards.
 */
export async function ensureSchemathesis(projectRoot: string, log: (m: string) => void = () => {}): Promise<string> {
  const venv = resolve(projectRoot, '.tools', 'schemathesis-venv');
  const st = join(venv, 'bin', 'st');
  if (await access(st, constants.X_OK).then(() => true, () => false)) return st;
  log(`installing ${PACKAGE} from PyPI into ${venv}`);
  try {
    await run('python3', ['-m', 'venv', venv]);
    await run(join(venv, 'bin', 'pip'), ['install', '--quiet', '--disable-pip-version-check', PACKAGE], { timeout: 600_000 });
  } catch (err) {
    await rm(venv, { recursive: true, force: true });
    throw new Error(`could not install ${PACKAGE} (python3 -m venv + pip): ${(err as Error).message.split('\n')[0]}`, { cause: err });
  }
  return st;
}
