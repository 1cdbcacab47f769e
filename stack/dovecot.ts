// A private, throwaway Dovecot IMAP server for tests and the benchmark: loopback only, plaintext
// auth, its own config/run/state/log dirs, so any number of instances (and the
// system's own Dovecot) can run side by side. Needs root, like Dovecot itself.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { access, chown, constants, mkdir, mkdtemp, readFile, readdir, readlink, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { withImap } from '../activities/imap.js';
import type { ImapSettings } from '../db/mailboxes.js';
import { freePort } from './free-port.js';

export interface DovecotUser {
  user: string;
  password: string;
}

export interface Dovecot {
  host: string;
  port: number;
  users: DovecotUser[];
  stop(): Promise<void>;
}

/**
 * OAuth 2.0 login (XOAUTH2 and OAUTHBEARER) next to the passwords: Dovecot's `oauth2` passdb
 * asks a token-introspection endpoint (RFC 7662, POST `token=...`) whether an access token is
 * active and whose it is (`username`). Passwords keep working for every user.
 */
export interface DovecotOAuth2 {
  introspectionUrl: string;
  /** The SASL mechanisms offered (default both; Microsoft 365 offers XOAUTH2 only). */
  mechanisms?: ('xoauth2' | 'oauthbearer')[];
}

const HOST = '127.0.0.1';
const START_TIMEOUT_MS = 15_000;
const STOP_TIMEOUT_MS = 10_000;

const DEFAULT_USERS: DovecotUser[] = [
  { user: 'support', password: 'support-secret' },
  { user: 'sales', password: 'sales-secret' },
];

export async function startDovecot(opts: { users?: DovecotUser[]; port?: number; oauth2?: DovecotOAuth2 } = {}): Promise<Dovecot> {
  const binary = await findDovecot();
  const users = opts.users ?? DEFAULT_USERS;
  for (const { user, password } of users) {
    // passwd-file is colon/line separated; anything else would silently corrupt it.
    if (!/^[\w.@+-]+$/.test(user) || /[:\r\n]/.test(password)) {
      throw new Error(`Invalid Dovecot test user ${JSON.stringify(user)}`);
    }
  }
  const port = opts.port ?? (await freePort());
  const { uid, gid } = await lookupUser('dovecot');

  const dir = await mkdtemp(path.join(os.tmpdir(), 'dovecot-test-'));
  const configPath = path.join(dir, 'dovecot.conf');
  const logPath = path.join(dir, 'dovecot.log');
  await mkdir(path.join(dir, 'state'));
  await mkdir(path.join(dir, 'home'));
  await writeFile(path.join(dir, 'passwd'), users.map((u) => `${u.user}:{PLAIN}${u.password}\n`).join(''));
  if (opts.oauth2) await writeFile(path.join(dir, 'oauth2.conf.ext'), renderOAuth2Config(opts.oauth2));
  await writeFile(configPath, renderConfig(dir, port, logPath, opts.oauth2 ? (opts.oauth2.mechanisms ?? ['xoauth2', 'oauthbearer']) : []));
  // auth runs as dovecot and mail processes run as the static userdb uid
  // (dovecot), so they need to traverse the temp dir, read passwd and create homes.
  for (const p of [dir, path.join(dir, 'home'), path.join(dir, 'passwd')]) await chown(p, uid, gid);

  // -F keeps the master in the foreground as our child (and in our process
  // group, so a Ctrl-C reaches it too); it takes its own children down on SIGTERM.
  const child = spawn(binary, ['-F', '-c', configPath], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  let death: string | undefined;
  const exited = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      death = `dovecot exited early (code ${code}, signal ${signal})`;
      resolve();
    });
    child.once('error', (err) => {
      death = `could not run ${binary}: ${err.message}`;
      resolve();
    });
  });
  // Safety net for a test run that exits without calling stop().
  const killOnExit = (): void => void child.kill('SIGTERM');
  process.once('exit', killOnExit);

  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      process.removeListener('exit', killOnExit);
      await shutdown(child, exited, dir);
      await rm(dir, { recursive: true, force: true });
    })();
    return stopped;
  };

  try {
    await waitForGreeting(port, () => death);
  } catch (err) {
    const log = await readFile(logPath, 'utf8').catch(() => '');
    await stop();
    const tail = log.trim().split('\n').slice(-20).join('\n');
    throw new Error(
      `Dovecot did not come up on ${HOST}:${port}: ${(err as Error).message}\n` +
        `--- dovecot stderr ---\n${stderr.trim()}\n--- last lines of dovecot.log ---\n${tail}`,
      { cause: err },
    );
  }

  return { host: HOST, port, users, stop };
}

function renderConfig(dir: string, port: number, logPath: string, oauth2Mechanisms: string[]): string {
  const oauth2 = oauth2Mechanisms.join(' ');
  return `
protocols = imap
listen = ${HOST}
base_dir = ${dir}/run
state_dir = ${dir}/state
log_path = ${logPath}
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login${oauth2 ? ` ${oauth2}` : ''}
# Login processes refuse to run as root; these users ship with the Debian package.
default_login_user = dovenull
default_internal_user = dovecot
# The dovecot user is a system uid (< 500), rejected by the default first_valid_uid.
first_valid_uid = 1
mail_location = maildir:~/Maildir
passdb {
  driver = passwd-file
  args = ${dir}/passwd
}
${
  oauth2
    ? `passdb {
  driver = oauth2
  mechanisms = ${oauth2}
  args = ${dir}/oauth2.conf.ext
}`
    : ''
}
userdb {
  driver = static
  args = uid=dovecot gid=dovecot home=${dir}/home/%u
}
service imap-login {
  inet_listener imap {
    port = ${port}
  }
  # Otherwise every instance would fight over port 993.
  inet_listener imaps {
    port = 0
  }
}
`;
}

// No auth cache (Dovecot's default): every login asks the endpoint, so a revoked or expired
// token is refused at once.
function renderOAuth2Config(o: DovecotOAuth2): string {
  if (/[\s]/.test(o.introspectionUrl)) throw new Error(`Invalid introspection URL ${JSON.stringify(o.introspectionUrl)}`);
  return `introspection_mode = post
introspection_url = ${o.introspectionUrl}
force_introspection = yes
username_attribute = username
active_attribute = active
active_value = true
timeout_msecs = 5000
`;
}

async function findDovecot(): Promise<string> {
  const dirs = ['/usr/sbin', ...(process.env.PATH ?? '').split(path.delimiter).filter(Boolean)];
  for (const d of dirs) {
    const candidate = path.join(d, 'dovecot');
    if (await access(candidate, constants.X_OK).then(() => true, () => false)) return candidate;
  }
  throw new Error('Dovecot is not installed: run `bash .ci/run` once, or `apt-get install -y dovecot-imapd`');
}

function lookupUser(name: string): Promise<{ uid: number; gid: number }> {
  return new Promise((resolve, reject) => {
    execFile('getent', ['passwd', name], (err, stdout) => {
      const [, , uid, gid] = stdout.trim().split(':');
      if (err || uid === undefined || gid === undefined) {
        reject(new Error(`System user ${name} not found (is dovecot-imapd installed?)`));
      } else {
        resolve({ uid: Number(uid), gid: Number(gid) });
      }
    });
  });
}

async function waitForGreeting(port: number, death: () => string | undefined): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  let last = 'no attempt made';
  while (Date.now() < deadline) {
    const dead = death();
    if (dead) throw new Error(dead);
    try {
      const greeting = await readGreeting(port);
      if (greeting.startsWith('* OK')) return;
      last = `unexpected greeting ${JSON.stringify(greeting)}`;
    } catch (err) {
      last = (err as Error).message;
    }
    await sleep(100);
  }
  throw new Error(`timed out after ${START_TIMEOUT_MS} ms (last attempt: ${last})`);
}

function readGreeting(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: HOST, port });
    let data = '';
    socket.setTimeout(1000, () => socket.destroy(new Error('no greeting within 1 s')));
    socket.on('data', (chunk: Buffer) => {
      data += chunk.toString();
      const eol = data.indexOf('\r\n');
      if (eol >= 0) {
        socket.destroy();
        resolve(data.slice(0, eol));
      }
    });
    socket.once('error', reject);
    socket.once('close', () => reject(new Error('connection closed before greeting')));
  });
}

async function shutdown(child: ChildProcess, exited: Promise<void>, dir: string): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) {
    child.kill('SIGTERM');
    // A cleared (not merely lost) timer, so stop() does not hold the event loop open.
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), STOP_TIMEOUT_MS)));
    if (await Promise.race([exited.then(() => false), timedOut])) {
      child.kill('SIGKILL');
      await exited;
    }
    clearTimeout(timer);
  }
  // The master can exit a moment before its children (auth, imap, log...), and
  // once orphaned they are not ours to wait on. They all chdir into base_dir,
  // which is how we recognise them.
  const deadline = Date.now() + STOP_TIMEOUT_MS;
  let left = await processesUnder(dir);
  while (left.length > 0 && Date.now() < deadline) {
    await sleep(50);
    left = await processesUnder(dir);
  }
  for (const pid of left) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
}

async function processesUnder(dir: string): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const cwd = await readlink(`/proc/${entry}/cwd`).catch(() => '');
    if (cwd === dir || cwd.startsWith(dir + path.sep)) pids.push(Number(entry));
  }
  return pids;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** APPENDs a message over IMAP, as a mail server delivers it, and returns its UID and the folder's UIDVALIDITY. */
export async function appendMail(imap: ImapSettings, raw: string | Buffer): Promise<{ uid: number; uidValidity: number }> {
  return withImap(imap, async (c) => {
    const res = await c.append(imap.folder, raw);
    if (!res || res.uid === undefined || res.uidValidity === undefined) throw new Error('APPEND returned no UID (UIDPLUS missing?)');
    return { uid: res.uid, uidValidity: Number(res.uidValidity) };
  });
}
