/**
 * Parses one stored e-mail in a process of its own and prints what it cost, as JSON:
 *   node --max-old-space-size=<MiB> --import tsx test/activities/parse-memory.child.ts <emailId>
 * with DATABASE_URL set. `maxRssMiB` is the process's peak resident memory, `baseRssMiB` its
 * memory before the parse (Node, tsx and the modules loaded).
 */
import { createParseActivities } from '../../activities/parse.js';
import { createSql } from '../../db/client.js';

const mib = (bytes: number) => Math.round(bytes / 1024 / 1024);
const sql = createSql(process.env.DATABASE_URL!, { max: 2 });
await sql`SELECT 1`;
globalThis.gc?.();
const baseRssMiB = mib(process.memoryUsage.rss());
const started = Date.now();
const result = await createParseActivities({ sql }).parseEmail(Number(process.argv[2]));
const ms = Date.now() - started;
await sql.end();
console.log(JSON.stringify({ result, baseRssMiB, maxRssMiB: mib(process.resourceUsage().maxRSS * 1024), heapMiB: mib(process.memoryUsage().heapUsed), ms }));
