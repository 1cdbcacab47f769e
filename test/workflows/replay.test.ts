import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from '@temporalio/worker';
import { beforeAll, describe, expect, it } from 'vitest';
import { installRuntime } from '../../workers/runtime.js';
import { loadWorkflowBundle } from '../../workers/workflow-bundle.js';
import { BUNDLE_CACHE } from '../harness/global-setup.js';
import { historyFromStoredJSON, workflowTypeOf } from '../../workers/stored-history.js';

/**
 * Histories recorded by earlier versions of the workflow code (`npx tsx
 * scripts/record-histories.ts`), replayed against the current code: a change that would break
 * the workflows already running in production fails here. Never delete or re-record a file:
 * add new ones next to them (`--tag`).
 */
const DIR = fileURLToPath(new URL('./histories/', import.meta.url));
const FILES = readdirSync(DIR).filter((f) => f.endsWith('.json')).sort();
const load = (file: string) => historyFromStoredJSON(JSON.parse(readFileSync(join(DIR, file), 'utf8')));

/**
 * The workflow types the worker runs: the names `workflows/index.ts` (the bundle's entry point)
 * exports, read from its source (importing it would need the workflow sandbox).
 */
function exportedWorkflows(): string[] {
  const source = readFileSync(fileURLToPath(new URL('../../workflows/index.ts', import.meta.url)), 'utf8');
  const names = [...source.matchAll(/^export\s*\{([^}]*)\}\s*from/gm)].flatMap((m) => m[1]!.split(',').map((n) => n.trim().split(/\s+as\s+/).at(-1)!));
  names.push(...[...source.matchAll(/^export\s+(?:async\s+)?function\s*\*?\s*(\w+)/gm)].map((m) => m[1]!));
  return names.filter(Boolean).sort();
}

describe('stored workflow histories', () => {
  let bundle: { code: string };
  beforeAll(async () => {
    installRuntime('WARN', { coreLevel: 'ERROR' });
    bundle = await loadWorkflowBundle(BUNDLE_CACHE);
  });

  it('include at least one history of every workflow type the worker runs', () => {
    const exported = exportedWorkflows();
    // The reading of index.ts above still finds the workflows it was written for.
    expect(exported).toEqual(expect.arrayContaining(['processEmail', 'watchMailbox']));
    const stored = new Set(FILES.map((f) => workflowTypeOf(load(f))));
    const missing = exported.filter((w) => !stored.has(w));
    expect(missing, `no history stored in test/workflows/histories/ for ${missing.join(', ')}: record one with npx tsx scripts/record-histories.ts`).toEqual([]);
  });

  it.each(FILES)('%s replays with the current workflow code', async (file) => {
    // Throws DeterminismViolationError (or ReplayError) when the code no longer matches the history.
    await Worker.runReplayHistory({ workflowBundle: bundle }, load(file), file.replace(/\.json$/, ''));
  });
});
