import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { SMTPServer } from 'smtp-server';

export interface MailCatcher {
  /** `smtp://127.0.0.1:<port>`, for SMTP_URL. */
  url: string;
  close(): Promise<void>;
}

/**
 * The SMTP server of `npm start` (a dev machine has none): every alert e-mail lands as an
 * `.eml` file in `dir`, which any mail client opens. Loopback only, no TLS, no login.
 */
export async function startMailCatcher(dir: string, opts: { port?: number; log?: (line: string) => void } = {}): Promise<MailCatcher> {
  await mkdir(dir, { recursive: true });
  const log = opts.log ?? ((line: string) => console.log(line));
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, callback) {
      // Sortable by arrival; the random part keeps two in the same millisecond apart.
      const name = `${new Date().toISOString().replace(/[:.]/g, '-')}-${randomUUID().slice(0, 8)}.eml`;
      const file = join(dir, name);
      // Written aside and renamed, so a reader never opens half a message.
      pipeline(stream, createWriteStream(`${file}.part`))
        .then(() => rename(`${file}.part`, file))
        .then(
          () => {
            log(`alert mail to ${session.envelope.rcptTo.map((r) => r.address).join(', ')} saved as ${file}`);
            callback();
          },
          (err: Error) => callback(err),
        );
    },
  });
  const port = await new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve((server.server.address() as AddressInfo).port));
  });
  return { url: `smtp://127.0.0.1:${port}`, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}
