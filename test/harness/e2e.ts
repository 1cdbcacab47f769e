import { Client, Connection } from '@temporalio/client';
import type { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, inject } from 'vitest';
import { startMailboxWatcher } from '../../clients/mailbox-watchers.js';
import { emailWorkflowId } from '../../contracts/workflow-ids.js';
import type { Sql } from '../../db/client.js';
import type { RecordedOutcome } from '../../domain/email-outcome.js';
import { createWorker } from '../../workers/create-worker.js';
import { installRuntime } from '../../workers/runtime.js';
import { loadWorkflowBundle } from '../../workers/workflow-bundle.js';
import { testApi, type TestApi } from './api.js';
import { testSecrets, testSql, uniqueSuffix } from './common.js';
import { eventually, seedConfig } from './fixtures.js';
import { BUNDLE_CACHE } from './global-setup.js';
import { startSmtpReceiver, type SmtpReceiver } from './receivers.js';

export interface E2E {
  sql: Sql;
  client: Client;
  /** The app with a key per role. */
  api: TestApi;
  taskQueue: string;
  bundle: { code: string };
  /** The demo configuration on a fresh Dovecot folder, its watcher running on this file's worker. */
  watchedMailbox(opts?: { autoConvert?: boolean }): Promise<Awaited<ReturnType<typeof seedConfig>>>;
  /** Waits for the watcher to start the e-mail's workflow, then for its result. */
  outcomeOf(ref: { mailboxId: number; uidValidity: number; uid: number }): Promise<RecordedOutcome>;
  /** GET as an admin. */
  get<T>(url: string): Promise<{ status: number; body: T }>;
  /** The SMTP server alerts go to (a real one, on loopback). */
  smtp: SmtpReceiver;
}

/**
 * A test file's end-to-end rig, set up before its tests and taken down after them: a worker on
 * a task queue of its own (real Temporal, PostgreSQL, Dovecot), a Temporal client and the API.
 */
export function useE2E(name: string): E2E {
  const rig = { taskQueue: `${name}${uniqueSuffix()}` } as E2E;
  let worker: Worker | undefined;
  let running: Promise<void> | undefined;
  let connection: Connection | undefined;

  beforeAll(async () => {
    // The test run's output shows failures, not the worker's chatter.
    installRuntime('WARN', { coreLevel: 'ERROR' });
    rig.sql = testSql();
    rig.bundle = await loadWorkflowBundle(BUNDLE_CACHE);
    rig.smtp = await startSmtpReceiver();
    const alerts = { smtp: { url: rig.smtp.url, from: 'Mailtrack <alerts@mailtrack.test>' } };
    ({ worker } = await createWorker({ temporalAddress: inject('temporalAddress'), namespace: 'default', taskQueue: rig.taskQueue, sql: rig.sql, secrets: testSecrets, alerts, workflowBundle: rig.bundle }));
    running = worker.run();
    connection = await Connection.connect({ address: inject('temporalAddress') });
    rig.client = new Client({ connection });
    // Actions the API sends to workflows start them on this file's task queue.
    rig.api = await testApi(rig.sql, { taskQueue: rig.taskQueue });
  });
  afterAll(async () => {
    worker?.shutdown();
    await running;
    await connection?.close();
    await rig.api?.close();
    await rig.smtp?.close();
    await rig.sql?.end();
  });

  rig.watchedMailbox = async (opts = {}) => {
    const cfg = await seedConfig(rig.sql, opts);
    await startMailboxWatcher({ client: rig.client, taskQueue: rig.taskQueue, idleSeconds: 30, mailboxId: cfg.mailboxId });
    return cfg;
  };
  rig.outcomeOf = async (ref) => {
    const handle = rig.client.workflow.getHandle(emailWorkflowId(ref));
    await eventually(() => handle.describe().then(() => true, () => undefined), 50_000, `workflow ${handle.workflowId}`);
    return handle.result() as Promise<RecordedOutcome>;
  };
  rig.get = async <T>(url: string) => {
    const res = await rig.api.as('admin', { method: 'GET', url });
    return { status: res.statusCode, body: res.json() as T };
  };
  return rig;
}
