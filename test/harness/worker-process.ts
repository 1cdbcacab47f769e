/**
 * A worker in a process of its own, for tests that kill it (SIGKILL) mid-work:
 *   tsx test/harness/worker-process.ts   with DATABASE_URL, TEMPORAL_ADDRESS, TASK_QUEUE, BUNDLE_CACHE set
 *   (and SMTP_URL for alert e-mail).
 * Prints "ready" once it polls.
 */
import { createSql } from '../../db/client.js';
import { createWorker } from '../../workers/create-worker.js';
import { installRuntime } from '../../workers/runtime.js';
import { loadWorkflowBundle } from '../../workers/workflow-bundle.js';
import { testSecrets } from './secrets.js';

const env = (name: string) => process.env[name] ?? (() => { throw new Error(`${name} is not set`); })();
installRuntime('ERROR');
const sql = createSql(env('DATABASE_URL'));
const { worker } = await createWorker({
  temporalAddress: env('TEMPORAL_ADDRESS'),
  namespace: 'default',
  taskQueue: env('TASK_QUEUE'),
  sql,
  secrets: testSecrets,
  alerts: process.env.SMTP_URL ? { smtp: { url: process.env.SMTP_URL, from: 'Mailtrack <alerts@mailtrack.test>' } } : undefined,
  workflowBundle: await loadWorkflowBundle(env('BUNDLE_CACHE')),
});
const running = worker.run();
console.log('ready');
await running;
await sql.end();
