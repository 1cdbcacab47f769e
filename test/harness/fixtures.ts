import { randomUUID } from 'node:crypto';
import { inject } from 'vitest';
import type { Sql } from '../../db/client.js';
import type { ImapSettings } from '../../db/mailboxes.js';
import { withImap } from '../../activities/imap.js';
import { seedDemo, viaInject, type SeededDemo } from '../../stack/demo-seed.js';
import { testApi } from './api.js';
import { uniqueSuffix } from './common.js';

export { testSecrets, testSql, uniqueSuffix } from './common.js';
export { appendMail } from '../../stack/dovecot.js';

/** A folder of its own in the test Dovecot, so test files never see each other's mail. */
export async function testImapFolder(user = 'support'): Promise<ImapSettings> {
  const { host, port, users } = inject('imap');
  const account = users.find((u) => u.user === user);
  if (!account) throw new Error(`no Dovecot user ${user}`);
  const settings = { host, port, tls: false, user: account.user, secret: account.password, folder: `T${randomUUID().slice(0, 8)}` };
  await withImap(settings, (c) => c.mailboxCreate(settings.folder));
  return settings;
}

/** The demo configuration with unique names and a mailbox on a fresh Dovecot folder. */
/**
 * The demo configuration with unique names and a mailbox on a fresh Dovecot folder, made
 * through the API as `npm start` makes it. The mailbox is inactive, so no watcher starts: each
 * test starts the watcher it needs on its own task queue.
 */
export async function seedConfig(sql: Sql, opts: { autoConvert?: boolean } = {}): Promise<SeededDemo & { imap: ImapSettings }> {
  const imap = await testImapFolder();
  const api = await testApi(sql);
  try {
    const seeded = await seedDemo(viaInject(api.app, api.keys.admin), imap, { suffix: uniqueSuffix(), autoConvert: opts.autoConvert, activeMailbox: false });
    return { ...seeded, imap };
  } finally {
    await api.close();
  }
}

export interface MailSpec {
  from?: string;
  subject?: string;
  body?: string;
  messageId?: string;
  extraHeaders?: string[];
}

export function rawMail(m: MailSpec = {}): string {
  return [
    ...(m.from === undefined ? ['From: Test Sender <sender@example.com>'] : m.from ? [`From: ${m.from}`] : []),
    'To: support@mailtrack.test',
    `Subject: ${m.subject ?? 'Test subject'}`,
    `Date: ${new Date().toUTCString()}`,
    `Message-ID: ${m.messageId ?? `<${randomUUID()}@test>`}`,
    ...(m.extraHeaders ?? []),
    'Content-Type: text/plain; charset=utf-8',
    '',
    m.body ?? 'Test body',
    '',
  ].join('\r\n');
}

export { eventually } from '../../stack/eventually.js';
