import { parseArgs } from 'node:util';
import { ImapFlow } from 'imapflow';
import { loadEnv } from '../config/env.js';
import { DEMO_MAILBOX } from '../stack/demo-mailbox.js';

const { values } = parseArgs({
  options: {
    from: { type: 'string', default: 'maria.silva@example.com' },
    subject: { type: 'string', default: `Help needed (${new Date().toISOString()})` },
    body: { type: 'string', default: 'Hello, my order has not arrived yet. Can you help?' },
  },
});

const env = loadEnv();
const raw = [
  `From: ${values.from}`,
  'To: support@mailtrack.demo',
  `Subject: ${values.subject}`,
  `Date: ${new Date().toUTCString()}`,
  `Message-ID: <${Date.now()}.${Math.random().toString(36).slice(2)}@demo-mail>`,
  'Content-Type: text/plain; charset=utf-8',
  '',
  values.body,
  '',
].join('\r\n');

const client = new ImapFlow({ host: '127.0.0.1', port: env.DEMO_IMAP_PORT, secure: false, auth: { user: DEMO_MAILBOX.user, pass: DEMO_MAILBOX.password }, logger: false });
await client.connect();
const appended = await client.append(DEMO_MAILBOX.folder, raw);
await client.logout();
console.log(`appended UID ${appended ? appended.uid : '?'} from ${values.from}; it becomes a ticket in a few seconds: curl http://${env.API_HOST}:${env.API_PORT}/tickets`);
