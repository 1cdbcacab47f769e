import { fileURLToPath } from 'node:url';
import type { Client } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll } from 'vitest';
import { createActivities } from '../../activities/index.js';
import { ALL_SEARCH_ATTRIBUTES } from '../../contracts/search-attributes.js';
import type { Sql } from '../../db/client.js';
import { ensureTestServer, timeSkippingServerOption } from '../../stack/temporal-test-server.js';
import { installRuntime } from '../../workers/runtime.js';
import { loadWorkflowBundle } from '../../workers/workflow-bundle.js';
import { testApi, type TestApi } from './api.js';
import { testSecrets, testSql, uniqueSuffix } from './common.js';
import { BUNDLE_CACHE } from './global-setup.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface TimeSkipping {
  /** Temporal's time-skipping test server: `env.sleep(ms)` moves its clock on, firing the timers due meanwhile. */
  env: TestWorkflowEnvironment;
  /** A client of that server (awaiting a workflow's result skips time too). */
  client: Client;
  sql: Sql;
  /** The app, for configuration (its own workflow calls go to the run's dev server, not here). */
  api: TestApi;
  /** The queue of this file's worker: the product's workflows and real activities on the test run's PostgreSQL. */
  taskQueue: string;
  /** The server's clock. */
  now(): Promise<Date>;
}

/**
 * A test file's rig on Temporal's time-skipping test server, for what takes days or weeks of
 * workflow time: its own server (installed into .tools/ on first use, see
 * stack/temporal-test-server.ts), a worker with the product's workflow bundle and activities,
 * and the API. The server's clock is one for the whole file, so its tests run one at a time.
 */
export function useTimeSkipping(name: string): TimeSkipping {
  const rig = { taskQueue: `${name}${uniqueSuffix()}` } as TimeSkipping;
  let worker: Worker | undefined;
  let running: Promise<void> | undefined;

  beforeAll(async () => {
    // Before the environment, which would otherwise install the SDK's default (chatty) runtime.
    installRuntime('WARN', { coreLevel: 'ERROR' });
    const server = await ensureTestServer({ projectRoot: ROOT, explicitPath: process.env.TEMPORAL_TEST_SERVER_PATH || undefined, log: (m) => console.log(`[test-server] ${m}`) });
    rig.env = await TestWorkflowEnvironment.createTimeSkipping({ server: timeSkippingServerOption(server) });
    rig.client = rig.env.client;
    await rig.env.connection.operatorService.addSearchAttributes({
      namespace: rig.env.namespace ?? 'default',
      searchAttributes: Object.fromEntries(ALL_SEARCH_ATTRIBUTES.map((k) => [k.name, searchAttributeTypeCode(k.type)])),
    });
    rig.sql = testSql();
    worker = await Worker.create({
      connection: rig.env.nativeConnection,
      taskQueue: rig.taskQueue,
      workflowBundle: await loadWorkflowBundle(BUNDLE_CACHE),
      activities: createActivities({ sql: rig.sql, secrets: testSecrets }),
    });
    running = worker.run();
    rig.api = await testApi(rig.sql, { taskQueue: rig.taskQueue });
  });
  afterAll(async () => {
    worker?.shutdown();
    await running;
    await rig.api?.close();
    await rig.env?.teardown();
    await rig.sql?.end();
  });

  rig.now = async () => new Date(await rig.env.currentTimeMs());
  return rig;
}

/** The proto enum of a search attribute type (IndexedValueType), which the operator service takes. */
function searchAttributeTypeCode(type: string): number {
  const codes: Record<string, number> = { TEXT: 1, KEYWORD: 2, INT: 3, DOUBLE: 4, BOOL: 5, DATETIME: 6, KEYWORD_LIST: 7 };
  const code = codes[type];
  if (code === undefined) throw new Error(`no IndexedValueType for search attribute type ${type}`);
  return code;
}
