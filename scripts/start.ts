import { ConfigError, loadEnv } from '../config/env.js';
import { startStack } from '../stack/start-stack.js';

const log = (m: string) => console.log(`[mailtrack] ${m}`);

let env;
try {
  env = loadEnv();
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  console.error(err.message);
  process.exit(2);
}

const t0 = Date.now();
const stack = await startStack(env, log).catch((err: unknown) => {
  console.error(`[mailtrack] could not start: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
log(`up in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
log(`API          ${stack.apiUrl}  (tickets: ${stack.apiUrl}/tickets, docs: ${stack.apiUrl}/docs)`);
if (stack.temporalUiUrl) log(`Temporal UI  ${stack.temporalUiUrl}/namespaces/${env.TEMPORAL_NAMESPACE}/workflows`);
log(`Temporal     ${stack.temporalAddress}`);
if (env.DEMO) log(`demo mailbox imap://127.0.0.1:${env.DEMO_IMAP_PORT} (user demo, password demo); drop a mail with: npm run demo:mail`);
log('press Ctrl-C to stop');

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    log('stopping...');
    stack.stop().then(
      () => {
        log('stopped');
        process.exit(0);
      },
      (err: unknown) => {
        console.error(err);
        process.exit(1);
      },
    );
  });
}
