import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleWorkflowCode } from '@temporalio/worker';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const WORKFLOWS_PATH = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));
/** Everything the workflow bundle can import. */
const SOURCE_DIRS = ['workflows', 'contracts', 'domain'];
/**
 * Modules evaluated once per worker thread and shared by every workflow in it, instead of once
 * per workflow (the SDK's reusable V8 context gives each workflow its own copy of the modules it
 * imports). Only stateless code belongs here: Luxon (its caches of time zones are the same for
 * every workflow), the SDK's workflow API, the pure rules and the contracts (definitions). A ticket's
 * workflow held about 1.3 MiB in the worker's cache without it, mostly Luxon (bench/sla.ts).
 */
const PRELOADED = [
  'luxon',
  '@temporalio/workflow',
  ...['service-time', 'sla-clock', 'ticket-status', 'distribution', 'email-outcome', 'auto-close'].map((m) => fileURLToPath(new URL(`../domain/${m}.ts`, import.meta.url))),
  ...['failures', 'search-attributes', 'ticket', 'workflow-ids', 'assignment', 'triage'].map((m) => fileURLToPath(new URL(`../contracts/${m}.ts`, import.meta.url))),
];

async function sourceHash(): Promise<string> {
  const hash = createHash('sha256');
  const pkg = JSON.parse(await readFile(join(ROOT, 'node_modules/@temporalio/workflow/package.json'), 'utf8')) as { version: string };
  hash.update(pkg.version);
  hash.update(PRELOADED.map((m) => relative(ROOT, m)).join());
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
    const { code } = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, preloadModules: PRELOADED, logger: quietLogger });
    await mkdir(cacheDir, { recursive: true });
    await writeFile(`${file}.tmp`, code);
    await rename(`${file}.tmp`, file);
    return { code };
  }
}

const noop = () => {};
const quietLogger = { log: noop, trace: noop, debug: noop, info: noop, warn: noop, error: (m: string) => console.error(m) };
