import { ImapFlow } from 'imapflow';
import type { SecretBox } from '../config/secret-box.js';
import type { ImapSettings, SealedImapSettings } from '../db/mailboxes.js';

export function imapClient(s: ImapSettings): ImapFlow {
  return new ImapFlow({
    host: s.host,
    port: s.port,
    secure: s.tls,
    auth: { user: s.user, pass: s.secret },
    logger: false,
  });
}

export async function withImap<T>(s: ImapSettings, fn: (client: ImapFlow) => Promise<T>): Promise<T> {
  const client = imapClient(s);
  client.on('error', () => {});
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.logout().catch(() => client.close());
  }
}

/**
 * Connects with a mailbox's stored settings: its sealed secret is opened here, just before
 * connecting, and is held nowhere else (never logged: imapflow's logger is off).
 */
export async function withMailboxImap<T>(s: SealedImapSettings, secrets: SecretBox, fn: (client: ImapFlow) => Promise<T>): Promise<T> {
  const { sealedSecret, ...rest } = s;
  return withImap({ ...rest, secret: secrets.open(sealedSecret) }, fn);
}
