import { z } from 'zod';

const PORT = 'must be a TCP port number, 1 to 65535';
const port = z.coerce.number({ error: PORT }).int(PORT).min(1, PORT).max(65535, PORT);
const flag = z
  .enum(['true', 'false', '1', '0', 'yes', 'no', 'on', 'off'], { error: 'must be true or false' })
  .transform((v) => ['true', '1', 'yes', 'on'].includes(v));

/** Every setting the product reads from the environment; the README's table lists the same. */
export const envSchema = z.object({
  DATA_DIR: z.string().min(1).default('.data'),
  DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/, error: 'must be a postgres:// URL' }).optional(),
  TEMPORAL_ADDRESS: z.string().regex(/^[^:\s]+:\d+$/, 'must be host:port').optional(),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  TEMPORAL_TASK_QUEUE: z.string().min(1).default('mailtrack'),
  TEMPORAL_PORT: port.default(7233),
  TEMPORAL_UI_PORT: port.default(8233),
  TEMPORAL_CLI_PATH: z.string().min(1).optional(),
  API_HOST: z.string().min(1).default('127.0.0.1'),
  API_PORT: port.default(3000),
  POSTGRES_PORT: port.default(5433),
  DEMO: flag.default(true),
  DEMO_IMAP_PORT: port.default(1143),
  // RFC 2177: clients should re-issue IDLE at least every 29 minutes.
  MAILBOX_IDLE_SECONDS: z.coerce.number({ error: 'must be a number of seconds' }).int().min(5).max(1740).default(300),
  SECRETS_KEY: z
    .string()
    .regex(/^[A-Za-z0-9+/]{43}=$/, 'must be 32 random bytes in base64 (44 characters), e.g. from `openssl rand -base64 32`')
    .optional(),
  ADMIN_API_KEY: z.string().min(32, 'must be at least 32 characters (use a random key, e.g. `mt_` + `openssl rand -base64 32`)').optional(),
  SMTP_URL: z.url({ protocol: /^smtps?$/, error: 'must be an smtp:// or smtps:// URL, e.g. smtp://user:pass@mail.example.com:587' }).optional(),
  ALERT_FROM: z.string().min(3).default('Mailtrack <alerts@localhost>'),
  PUBLIC_URL: z.url({ protocol: /^https?$/, error: 'must be an http or https URL' }).optional(),
  WORKER_MAX_CACHED_WORKFLOWS: z.coerce.number({ error: 'must be a whole number' }).int().min(10).max(100_000).optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export type Env = Readonly<z.infer<typeof envSchema>>;

export class ConfigError extends Error {}

/** Parses once; a bad value stops the process with a message naming the variable. */
export function loadEnv(source: NodeJS.ProcessEnv = process.env): Env {
  const present = Object.fromEntries(Object.entries(source).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = envSchema.safeParse(present);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}=${JSON.stringify(present[String(i.path[0])])}: ${i.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  return Object.freeze(parsed.data);
}

/** For entry points that need servers which `npm start` would otherwise provide. */
export function requireSetting<K extends keyof Env>(env: Env, key: K): NonNullable<Env[K]> {
  const value = env[key];
  if (value === undefined || value === null) throw new ConfigError(`Missing configuration: ${String(key)} must be set`);
  return value as NonNullable<Env[K]>;
}
