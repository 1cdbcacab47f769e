import type { Client } from '@temporalio/client';
import type { SecretBox } from '../config/secret-box.js';
import type { Sql } from '../db/client.js';

/** What the API needs from the outside world; built by its entry points and by tests. */
export interface AppDeps {
  sql: Sql;
  /** Starts, restarts and stops workflows (mailbox watchers); checked by /ready. */
  temporal: { client: Client; taskQueue: string; mailboxIdleSeconds: number };
  /** Encrypts secrets (IMAP passwords, webhook secrets) before they reach the database. */
  secrets: SecretBox;
}
