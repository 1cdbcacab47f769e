// Runs before `npm start` and `npm test` (npm's pre-scripts), with no dependencies of its own:
// installs what a fresh machine lacks, and does nothing on a machine that has it all.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const forTests = process.argv.includes('--test');
const say = (m) => console.log(`[bootstrap] ${m}`);
const run = (cmd, args) => execFileSync(cmd, args, { cwd: root, stdio: 'inherit' });
const onPath = (name) => (process.env.PATH ?? '').split(delimiter).some((d) => d && existsSync(join(d, name)));

const major = Number(process.versions.node.split('.')[0]);
if (major < 22) {
  console.error(
    [
      `mailtrack needs Node.js 22 or newer (the LTS lines 22 and 24); this is ${process.versions.node}.`,
      'Install one from https://nodejs.org, or fetch the official binaries from npm into this project:',
      '  npm install --prefix .tools/node24 node@24 && export PATH="$PWD/.tools/node24/node_modules/.bin:$PATH"',
    ].join('\n'),
  );
  process.exit(1);
}

// npm dependencies: reinstall only when package-lock.json changed since the last install.
const lockHash = createHash('sha256').update(readFileSync(join(root, 'package-lock.json'))).digest('hex');
const stamp = join(root, 'node_modules', '.mailtrack-lock-hash');
if (!existsSync(stamp) || readFileSync(stamp, 'utf8') !== lockHash) {
  say('installing npm dependencies (npm ci)');
  run('npm', ['ci', '--no-audit', '--no-fund']);
  writeFileSync(stamp, lockHash);
}

// Tests need a real IMAP server: Dovecot, from Debian's packages.
const hasDovecot = existsSync('/usr/sbin/dovecot') || onPath('dovecot');
if (forTests && !hasDovecot) {
  if (process.getuid?.() === 0 && onPath('apt-get')) {
    say('installing Dovecot (apt-get install dovecot-imapd)');
    run('apt-get', ['update', '-qq']);
    execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'dovecot-imapd'], {
      stdio: 'inherit',
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
  } else {
    console.error('The tests need Dovecot: install it with `sudo apt-get install -y dovecot-imapd` and run `npm test` again.');
    process.exit(1);
  }
}
