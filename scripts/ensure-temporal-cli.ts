import { fileURLToPath } from 'node:url';
import { ensureTemporalCli } from '../stack/temporal-cli.js';

const cli = await ensureTemporalCli({
  projectRoot: fileURLToPath(new URL('..', import.meta.url)),
  explicitPath: process.env.TEMPORAL_CLI_PATH || undefined,
  log: (m) => console.log(`[temporal-cli] ${m}`),
});
console.log(cli.kind === 'binary' ? `[temporal-cli] ${cli.path} (${cli.source})` : '[temporal-cli] will use the SDK download');
