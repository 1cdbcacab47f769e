import type { Socket } from 'node:net';
import hoodiecrow from 'hoodiecrow-imap';

export const DEMO_MAILBOX = { user: 'demo', password: 'demo', folder: 'INBOX' } as const;

export const WELCOME_MESSAGE_ID = '<welcome@mailtrack.demo>';

export function welcomeMessage(date: Date): string {
  return [
    'From: Antonio Carlos <antonio.carlos@citrus.cx>',
    'To: support@mailtrack.demo',
    'Subject: Welcome: my first e-mail becomes a ticket',
    `Date: ${date.toUTCString()}`,
    `Message-ID: ${WELCOME_MESSAGE_ID}`,
    'Content-Type: text/plain; charset=utf-8',
    '',
    'Hello! This e-mail sat in the demo mailbox when the stack started.',
    'It became a ticket through its own Temporal workflow.',
    '',
  ].join('\r\n');
}

export interface DemoMailbox {
  host: string;
  port: number;
  stop(): Promise<void>;
}

/**
 * A zero-setup IMAP server (hoodiecrow, in memory) for the demo. Its UIDVALIDITY changes at
 * every start, as a real server's does when a mailbox is rebuilt: the engine then reads the
 * folder again and its Message-ID dedupe keeps old mail from becoming new tickets.
 */
export async function startDemoMailbox(opts: { port: number; host?: string }): Promise<DemoMailbox> {
  const host = opts.host ?? '127.0.0.1';
  const server = hoodiecrow({
    plugins: ['IDLE', 'UIDPLUS', 'ENABLE', 'ID'],
    users: { [DEMO_MAILBOX.user]: { password: DEMO_MAILBOX.password } },
    storage: {
      INBOX: { uidvalidity: Math.floor(Date.now() / 1000), messages: [{ raw: welcomeMessage(new Date()) }] },
    },
  });
  const sockets = new Set<Socket>();
  server.server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.server.once('error', reject);
    server.listen(opts.port, host, () => resolve());
  });
  return {
    host,
    port: opts.port,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      }),
  };
}
