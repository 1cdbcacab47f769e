import { ImapFlow } from 'imapflow';
import type { ImapSettings } from '../db/mailboxes.js';

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
