/**
 * Parses one stored e-mail in a process of its own and prints what it cost, as JSON:
 *   node --max-old-space-size=<MiB> --import tsx test/activities/parse-memory.child.ts <emailId>
 * with DATABASE_URL set. `maxRssMiB` is the process's peak resident memory (Linux), `baseRssMiB` its
 * memory before the parse (Node, tsx and the modules loaded, warmed up on a small message).
 */
import { readFileSync } from 'node:fs';
import { createParseActivities, parseMessage } from '../../activities/parse.js';
import { createSql } from '../../db/client.js';

const mib = (bytes: number) => Math.round(bytes / 1024 / 1024);
/**
 * The process's peak resident memory: VmHWM, which starts afresh with the program (getrusage's
 * maxRSS does not: it keeps the peak of the process that spawned this one, from before exec).
 */
function peakRss(): number {
  const hwm = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'));
  return hwm ? Number(hwm[1]) * 1024 : process.resourceUsage().maxRSS * 1024;
}
const sql = createSql(process.env.DATABASE_URL!, { max: 2 });
await sql`SELECT 1`;
// Warm up (modules' lazy tables, compiled code) on a small message, so that what is measured is the message's own cost.
await parseMessage(Buffer.from('From: a@example.com\r\nSubject: =?iso-8859-1?Q?caf=E9?=\r\nContent-Type: text/html\r\n\r\n<p>warm <a href="https://x.example/">up</a></p>\r\n'));
globalThis.gc?.();
const baseRssMiB = mib(process.memoryUsage.rss());
const started = Date.now();
const result = await createParseActivities({ sql }).parseEmail(Number(process.argv[2]));
const ms = Date.now() - started;
await sql.end();
console.log(JSON.stringify({ result, baseRssMiB, maxRssMiB: mib(peakRss()), heapMiB: mib(process.memoryUsage().heapUsed), ms }));
