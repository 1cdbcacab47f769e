import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleWorkflowCode } from '@temporalio/worker';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const WORKFLOWS_PATH = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));
/** Everything the workflow bundle can import. */
const SOURCE_DIRS = ['workflows', 'contracts', 'domain'];

async function sourceHash(): Promise<string> {
  const hash = createHash('sha256');
  const pkg = JSON.parse(await readFile(join(ROOT, 'node_modules/@temporalio/workflow/package.json'), 'utf8')) as { version: string };
  hash.update(pkg.version);
  for (const dir of SOURCE_DIRS) {
    const files = (await readdir(join(ROOT, dir), { recursive: true })).filter((f) => f.endsWith('.ts')).sort();
    for (const f of files) {
      hash.update(relative(ROOT, join(ROOT, dir, f)));
      hash.update(await readFile(join(ROOT, dir, f)));
    }
  }
  return hash.digest('hex').slice(0, 16);
}

/**
 * The workflow bundle, built once per source version and cached in `cacheDir`, so a second
 * start does not run webpack again.
 */
export async function loadWorkflowBundle(cacheDir: string): Promise<{ code: string }> {
  const file = join(cacheDir, `workflow-bundle-${await sourceHash()}.js`);
  try {
    return { code: await readFile(file, 'utf8') };
  } catch {
    const { code } = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: quietLogger });
    await mkdir(cacheDir, { recursive: true });
    await writeFile(`${file}.tmp`, code);
    await rename(`${file}.tmp`, file);
    return { code };
  }
}

const noop = () => {};
const quietLogger = { log: noop, trace: noop, debug: noop, info: noop, warn: noop, error: (m: string) => console.error(m) };
