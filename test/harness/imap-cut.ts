import { execFile } from 'node:child_process';
import { readFile, readdir } from 'node:fs/promises';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * The config file of the Dovecot (stack/dovecot.ts) that listens on `port`: its master runs as
 * `dovecot -F -c <dir>/dovecot.conf`, and that file names the port.
 */
async function dovecotConfigFor(port: number): Promise<string> {
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const argv = (await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '')).split('\0');
    const c = argv.indexOf('-c');
    if (!argv[0]?.endsWith('dovecot') || c < 0 || !argv[c + 1]) continue;
    const config = await readFile(argv[c + 1]!, 'utf8').catch(() => '');
    if (new RegExp(`^\\s*port = ${port}\\s*$`, 'm').test(config)) return argv[c + 1]!;
  }
  throw new Error(`no Dovecot master process found listening on port ${port}`);
}

/**
 * Cuts every IMAP connection `user` has to the Dovecot on `port`, server side (`doveadm kick`
 * asks each of the user's imap processes to disconnect), as a server restart or a dropped
 * connection does to a client. False when the user had no connection to cut.
 */
export async function kickImapUser(port: number, user: string): Promise<boolean> {
  const config = await dovecotConfigFor(port);
  try {
    await run('doveadm', ['-c', config, 'kick', user]);
    return true;
  } catch (err) {
    // doveadm's EX_NOUSER: "no users kicked".
    if ((err as { code?: unknown }).code === 68) return false;
    throw err;
  }
}
