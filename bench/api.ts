/**
 * The ticket API on a realistic database: 1,000,000 tickets, 100,000 customers, two years.
 *
 *   npx tsx bench/api.ts [--tickets 1000000] [--explain]
 *
 * Starts PostgreSQL (embedded, in a temp dir), migrates, seeds with one INSERT ... SELECT
 * FROM generate_series per table, and serves the app (buildApp) on a free port. Prints, each
 * next to the same figure for a bare route in the same process (same auth, `SELECT 1` on the
 * same database: the ceiling):
 *  - p50/p99 of the filtered ticket list, one client at a time: status + occurrence +
 *    assignee (its most common combination), the first page and page 1,000 by the keyset
 *    cursor (the last page when it has fewer), and status + occurrence at page 1,000;
 *  - requests/s of GET /tickets/:protocol under load (autocannon, 50 connections, 10 s, in a
 *    worker thread so that the server's event loop is its own).
 * `--explain` prints the plans (EXPLAIN ANALYZE) of the list queries measured.
 * BENCH_DATABASE_URL=<url> reuses a database this script seeded (no start, no seeding).
 */
import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { Client } from '@temporalio/client';
import autocannon from 'autocannon';
import { z } from 'zod';
import { buildApp } from '../api/app.js';
import { newSecretsKey, parseSecretsKey, secretBox } from '../config/secret-box.js';
import { ensureAdminKey } from '../db/api-keys.js';
import { createSql, type Sql } from '../db/client.js';
import type { Fragment } from '../db/crud.js';
import { migrate } from '../db/migrate.js';
import { ANY_ROLE } from '../domain/roles.js';
import { startEmbeddedPostgres } from '../stack/embedded-postgres.js';
import { freePort } from '../stack/free-port.js';

const { values } = parseArgs({ options: { tickets: { type: 'string', default: '1000000' }, explain: { type: 'boolean', default: false } } });
const TICKETS = Number(values.tickets);
const CUSTOMERS = Math.max(1000, Math.round(TICKETS / 10));
/** The newest tickets come with their e-mail (message, events, an attachment on one in five): those that are read. */
const WITH_EMAIL = Math.min(50_000, TICKETS);
const PAGE = 50;
/** autocannon in its own thread, so the server's event loop is the server's alone. */
const WORKERS = Number(process.env.BENCH_WORKERS ?? 1);
const DEEP = 1000;

const log = (m: string) => console.log(m);
const ms = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e6;
const quantile = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))]!;

export async function seed(sql: Sql): Promise<void> {
  await sql.begin(async (tx) => {
    await tx`SELECT setseed(0.42)`;
    await tx`INSERT INTO sector (name) SELECT 'Sector ' || g FROM generate_series(1, 10) g`;
    await tx`INSERT INTO region (name) VALUES ('Bench region')`;
    await tx`INSERT INTO customer_type (name) VALUES ('Bench type')`;
    // 50 agents (the assignees), 5 BackOffice users, 5 admins (the mailboxes' creators).
    await tx`
      INSERT INTO app_user (login, name, email, role)
      SELECT 'user' || g, 'User ' || g, 'user' || g || '@bench.example', CASE WHEN g <= 50 THEN 'agent' WHEN g <= 55 THEN 'backoffice' ELSE 'admin' END
        FROM generate_series(1, 60) g`;
    await tx`INSERT INTO user_sector (user_id, sector_id) SELECT u.id, s.id FROM app_user u JOIN sector s ON s.id % 10 = u.id % 10`;
    await tx`INSERT INTO occurrence_type (name, sector_id) SELECT 'Type ' || g, NULL FROM generate_series(1, 5) g`;
    await tx`
      INSERT INTO occurrence (occurrence_type_id, name, sla_value, sla_unit, sector_id)
      SELECT t.ids[1 + (g - 1) / 4], 'Occurrence ' || g, 4 + g % 5 * 4, 'hours', s.ids[1 + g % 10]
        FROM generate_series(1, 20) g,
             (SELECT array_agg(id ORDER BY id) AS ids FROM occurrence_type) t, (SELECT array_agg(id ORDER BY id) AS ids FROM sector) s`;
    await tx`
      INSERT INTO mailbox (name, imap_host, imap_port, imap_user, imap_secret, sector_id)
      SELECT 'mailbox ' || g, 'imap.bench.example', 993, 'user' || g, 'not a secret', g FROM generate_series(1, 4) g`;
    await tx`
      INSERT INTO customer (code, name, email, email_key, region_id, customer_type_id)
      SELECT 'C' || lpad(g::text, 6, '0'), 'Customer ' || g, 'customer' || g || '@bench.example', 'customer' || g || '@bench.example',
             (SELECT min(id) FROM region), (SELECT min(id) FROM customer_type)
        FROM generate_series(1, ${CUSTOMERS}::int) g`;

    // Tickets over two years, oldest first (ids grow with time). Statuses: 15% open, 4%
    // waiting for the customer, 2% cancelled, 24% resolved, 55% closed. Occurrences skewed
    // (the first ~30%, the last ~2%); assignees skewed among 50 agents, 8% unassigned;
    // customers skewed (some write often); 10% came through the API, not a mailbox.
    await tx`
      INSERT INTO ticket (protocol, status, subject, description, customer_id, channel, mailbox_id, creator_user_id,
                          occurrence_type_id, occurrence_id, sector_id, assignee_user_id, sla_due_at, sla_state, created_at, updated_at)
      SELECT to_char(s.at, 'YYYY') || CASE WHEN s.g >= 100000 THEN s.g::text ELSE lpad(s.g::text, 6, '0') END,
             CASE WHEN s.r < 0.15 THEN 'open' WHEN s.r < 0.19 THEN 'waiting_customer' WHEN s.r < 0.21 THEN 'cancelled'
                  WHEN s.r < 0.45 THEN 'resolved' ELSE 'closed' END,
             'Ticket ' || s.g || ': ' || o.name,
             'Hello, I need help with ' || o.name || '. ' || repeat('Some details of the request. ', 6),
             c.ids[s.customer], CASE WHEN s.api THEN 'api' ELSE 'email' END,
             CASE WHEN s.api THEN NULL ELSE mb.ids[1 + s.g % 4] END, cr.ids[1 + s.g % 5],
             o.occurrence_type_id, o.id, o.sector_id, CASE WHEN s.unassigned THEN NULL ELSE ag.ids[s.assignee] END,
             s.at + make_interval(hours => o.sla_value),
             CASE WHEN s.sla < 0.10 THEN 'breached' WHEN s.sla < 0.15 THEN 'at_risk' ELSE 'on_time' END,
             s.at, s.at + interval '1 hour'
        FROM (SELECT g, random() AS r, random() AS sla, random() < 0.1 AS api, random() < 0.08 AS unassigned,
                     1 + floor(20 * power(random(), 2.5))::int AS occ, 1 + floor(50 * power(random(), 1.7))::int AS assignee,
                     1 + floor(${CUSTOMERS}::int * power(random(), 1.3))::int AS customer,
                     now() - interval '730 days' + (g::float8 / ${TICKETS}::int) * interval '730 days' AS at
                FROM generate_series(1, ${TICKETS}::int) g) s
        CROSS JOIN (SELECT array_agg(id ORDER BY id) AS ids FROM occurrence) oc
        JOIN occurrence o ON o.id = oc.ids[s.occ]
        CROSS JOIN (SELECT array_agg(id ORDER BY id) AS ids FROM customer) c
        CROSS JOIN (SELECT array_agg(id ORDER BY id) AS ids FROM mailbox) mb
        CROSS JOIN (SELECT array_agg(id ORDER BY id) AS ids FROM app_user WHERE role = 'admin') cr
        CROSS JOIN (SELECT array_agg(id ORDER BY id) AS ids FROM app_user WHERE role = 'agent') ag
       ORDER BY s.g`;
    await tx`SELECT setval('protocol_sequence', ${TICKETS}::int)`;

    // The newest tickets' source e-mails, one attachment in five.
    await tx`
      INSERT INTO inbound_email (mailbox_id, uid_validity, uid, message_id, size, raw, received_at, subject, from_address, from_name,
                                 to_addresses, sent_at, text_body, parsed_at, outcome, outcome_reason, outcome_at)
      SELECT t.mailbox_id, 1, t.id, '<' || t.id || '@bench.example>', length(m.raw), convert_to(m.raw, 'UTF8'), t.created_at, t.subject,
             cu.email, cu.name, ARRAY['support@mailtrack.bench'], t.created_at, t.description, t.created_at, 'ticket_created',
             'ticket ' || t.protocol, t.created_at
        FROM (SELECT * FROM ticket WHERE channel = 'email' ORDER BY id DESC LIMIT ${WITH_EMAIL}::int) t
        JOIN customer cu ON cu.id = t.customer_id
        CROSS JOIN LATERAL (SELECT 'Received: from mx.bench.example by mailtrack' || E'\r\n' || 'From: ' || cu.name || ' <' || cu.email || '>' || E'\r\n' ||
                                   'To: support@mailtrack.bench' || E'\r\n' || 'Subject: ' || t.subject || E'\r\n' ||
                                   'Message-ID: <' || t.id || '@bench.example>' || E'\r\n\r\n' || t.description || E'\r\n' AS raw) m`;
    await tx`
      UPDATE ticket t SET source_email_id = e.id FROM inbound_email e
       WHERE e.mailbox_id = t.mailbox_id AND e.uid_validity = 1 AND e.uid = t.id`;
    await tx`
      INSERT INTO email_attachment (email_id, position, filename, content_type, size, sha256, inline, content)
      SELECT e.id, 0, 'report-' || e.id || '.pdf', 'application/pdf', 4096, encode(sha256(b.content), 'hex'), false, b.content
        FROM inbound_email e CROSS JOIN (SELECT convert_to(repeat('%PDF', 1024), 'UTF8') AS content) b
       WHERE e.id % 5 = 0`;

    // Timeline: created, assigned, and the status change of those no longer open.
    await tx`
      INSERT INTO ticket_event (ticket_id, kind, actor, at, data)
      SELECT id, 'created', CASE WHEN channel = 'email' THEN 'system:email' ELSE 'system:api' END, created_at,
             CASE WHEN source_email_id IS NULL THEN '{}'::jsonb ELSE jsonb_build_object('emailId', source_email_id) END
        FROM ticket ORDER BY id`;
    await tx`
      INSERT INTO ticket_event (ticket_id, kind, actor, at, data)
      SELECT id, 'assigned', 'system:distribution', created_at + interval '1 minute', jsonb_build_object('userId', assignee_user_id)
        FROM ticket WHERE assignee_user_id IS NOT NULL ORDER BY id`;
    await tx`
      INSERT INTO ticket_event (ticket_id, kind, actor, at, data)
      SELECT id, 'status_changed', 'user:user' || (1 + id % 50), updated_at, jsonb_build_object('from', 'open', 'to', status)
        FROM ticket WHERE status NOT IN ('open', 'waiting_customer') ORDER BY id`;
  });
  await sql`VACUUM ANALYZE`;
}

/** `n` requests one after the other; milliseconds each. */
async function sequential(base: string, key: string, path: string, n: number): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < n + 20; i++) {
    const t0 = process.hrtime.bigint();
    const res = await fetch(base + path, { headers: { authorization: `Bearer ${key}` } });
    await res.arrayBuffer();
    if (res.status !== 200) throw new Error(`${path}: ${res.status}`);
    if (i >= 20) times.push(ms(t0)); // the first 20 warm up
  }
  return times;
}

async function load(base: string, key: string, paths: string[]): Promise<{ rps: number; p50: number; p99: number; errors: number }> {
  const result = await autocannon({
    url: base,
    connections: 50,
    duration: 10,
    workers: WORKERS,
    headers: { authorization: `Bearer ${key}` },
    requests: paths.map((path) => ({ method: 'GET', path })),
  });
  return { rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, errors: result.errors + result.non2xx };
}

const fmt = (n: number) => n.toFixed(1).padStart(7);

// ---- run ------------------------------------------------------------------------------

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await main();

async function main() {
  // BENCH_DATABASE_URL: a database this script seeded before (skips the start and the seeding).
  const reuse = process.env.BENCH_DATABASE_URL;
  const dir = await mkdtemp(join(tmpdir(), 'mailtrack-bench-api-'));
  await chmod(dir, 0o755);
  const db = reuse ? { url: reuse, stop: async () => {} } : await startEmbeddedPostgres({ dir: join(dir, 'data'), port: await freePort(), database: 'bench' });
  const sql = createSql(db.url, { max: 10 });
  try {
    await migrate(db.url);
    const t0 = process.hrtime.bigint();
    if (!reuse) await seed(sql);
    const [counts] = await sql<{ tickets: number; events: number; emails: number; size: string }[]>`
      SELECT (SELECT count(*) FROM ticket)::int AS tickets, (SELECT count(*) FROM ticket_event)::int AS events,
             (SELECT count(*) FROM inbound_email)::int AS emails, pg_size_pretty(pg_database_size(current_database())) AS size`;
    log(`${reuse ? 'reused' : 'seeded'} ${counts!.tickets} tickets, ${counts!.emails} e-mails, ${counts!.events} events (${counts!.size})${reuse ? '' : ` in ${(ms(t0) / 1000).toFixed(0)} s`}`);

    // The app, with a stub Temporal client (only /ready would use it; no workflow is started).
    const temporal = { client: { connection: { workflowService: { getSystemInfo: async () => ({}) } } } as unknown as Client, taskQueue: 'bench', mailboxIdleSeconds: 30 };
    const app = await buildApp({ sql, temporal, secrets: secretBox(parseSecretsKey(newSecretsKey())) });
    app.get(
      '/bench/ceiling',
      { config: { roles: ANY_ROLE }, schema: { hide: true, response: { 200: z.object({ ok: z.boolean() }) } } },
      async () => {
        await sql`SELECT 1`;
        return { ok: true };
      },
    );
    const key = `mt_${randomBytes(32).toString('base64url')}`;
    await ensureAdminKey(sql, key);
    const base = await app.listen({ host: '127.0.0.1', port: await freePort() });

    // The most common status + occurrence + assignee combination, and where page 1,000 begins.
    const [combo] = await sql<{ status: string; occurrenceId: number; assigneeUserId: number; n: number }[]>`
      SELECT status, occurrence_id, assignee_user_id, count(*)::int AS n FROM ticket
       WHERE assignee_user_id IS NOT NULL GROUP BY 1, 2, 3 ORDER BY n DESC LIMIT 1`;
    const { status, occurrenceId, assigneeUserId, n } = combo!;
    const filter = `status=${status}&occurrenceId=${occurrenceId}&assigneeUserId=${assigneeUserId}`;
    const pages = Math.ceil(n / PAGE);
    const deepPage = Math.min(DEEP, pages);
    /** The cursor of page `p` (1-based) of a filter: the id of the last ticket of page p - 1. */
    const cursorOf = async (where: Fragment, p: number) =>
      p <= 1 ? '' : `&before=${(await sql<{ id: number }[]>`SELECT id FROM ticket WHERE ${where} ORDER BY id DESC OFFSET ${(p - 1) * PAGE - 1} LIMIT 1`)[0]!.id}`;
    const deepCursor = await cursorOf(sql`status = ${status} AND occurrence_id = ${occurrenceId} AND assignee_user_id = ${assigneeUserId}`, deepPage);
    // Two filters (status + occurrence) always reach page 1,000 on a million tickets.
    const [wide] = await sql<{ n: number }[]>`SELECT count(*)::int AS n FROM ticket WHERE status = ${status} AND occurrence_id = ${occurrenceId}`;
    const wideDeep = Math.min(DEEP, Math.ceil(wide!.n / PAGE));
    const wideCursor = await cursorOf(sql`status = ${status} AND occurrence_id = ${occurrenceId}`, wideDeep);

    const lists = [
      { name: `list ${filter}, page 1`, path: `/tickets?${filter}&limit=${PAGE}` },
      { name: `list ${filter}, page ${deepPage}${deepPage < DEEP ? ' (the last)' : ''}`, path: `/tickets?${filter}&limit=${PAGE}${deepCursor}` },
      { name: `list status=${status}&occurrenceId=${occurrenceId}, page ${wideDeep}`, path: `/tickets?status=${status}&occurrenceId=${occurrenceId}&limit=${PAGE}${wideCursor}` },
    ];
    const check = (await (await fetch(`${base}${lists[1]!.path}`, { headers: { authorization: `Bearer ${key}` } })).json()) as { items: unknown[] };
    if (check.items.length === 0) throw new Error('the deep page is empty: the cursor is wrong');

    if (values.explain) {
      for (const l of lists) {
        const q = new URLSearchParams(l.path.split('?')[1]);
        const before = q.get('before');
        const plan = await sql.unsafe(
          `EXPLAIN (ANALYZE, BUFFERS) SELECT * FROM ticket WHERE status = $1 AND occurrence_id = $2 ${q.has('assigneeUserId') ? `AND assignee_user_id = ${Number(q.get('assigneeUserId'))}` : ''}
            ${before ? `AND id < ${Number(before)}` : ''} ORDER BY id DESC LIMIT ${PAGE + 1}`,
          [status, occurrenceId],
        );
        log(`\n${l.name}:\n${plan.map((r) => `  ${String(Object.values(r)[0])}`).join('\n')}`);
      }
    }

    const protocols = (await sql<{ protocol: string }[]>`
      SELECT protocol FROM ticket WHERE source_email_id IS NOT NULL ORDER BY md5(id::text) LIMIT 2000`).map((r) => r.protocol);

    const cpu = cpus();
    const [pg] = await sql<{ version: string }[]>`SELECT current_setting('server_version') AS version`;
    log(`\nmachine: ${cpu[0]?.model ?? 'unknown CPU'}, ${cpu.length} cores, Node ${process.versions.node}, PostgreSQL ${pg!.version}; the database and the load generator share the machine`);
    log(`tickets: ${n} match ${filter} (${pages} pages of ${PAGE}); ${wide!.n} match status + occurrence`);

    const ceiling = await sequential(base, key, '/bench/ceiling', 500);
    log(`\none client at a time, 500 requests each (ms)                               p50      p99`);
    log(`  ${'bare route (same auth, SELECT 1): the ceiling'.padEnd(72)}${fmt(quantile(ceiling, 0.5))}  ${fmt(quantile(ceiling, 0.99))}`);
    for (const l of lists) {
      const times = await sequential(base, key, l.path, 500);
      const p99 = quantile(times, 0.99);
      log(`  ${l.name.padEnd(72)}${fmt(quantile(times, 0.5))}  ${fmt(p99)}   ${(p99 / quantile(ceiling, 0.99)).toFixed(1)}x the ceiling; target p99 <= 50 ms: ${p99 <= 50 ? 'met' : 'MISSED'}`);
    }

    log(`\nunder load: autocannon, 50 connections, 10 s (a worker thread)              req/s   p50 ms   p99 ms`);
    const bare = await load(base, key, ['/bench/ceiling']);
    log(`  ${'bare route (same auth, SELECT 1): the ceiling'.padEnd(72)}${fmt(bare.rps)}  ${fmt(bare.p50)}  ${fmt(bare.p99)}${bare.errors ? `  ${bare.errors} errors` : ''}`);
    const detail = await load(base, key, protocols.map((p) => `/tickets/${p}`));
    log(
      `  ${`GET /tickets/:protocol (${protocols.length} tickets, each with its e-mail)`.padEnd(72)}${fmt(detail.rps)}  ${fmt(detail.p50)}  ${fmt(detail.p99)}${detail.errors ? `  ${detail.errors} errors` : ''}` +
        `   ${((detail.rps / bare.rps) * 100).toFixed(0)}% of the ceiling; target >= 2,000 req/s: ${detail.rps >= 2000 ? 'met' : 'MISSED'}`,
    );
    await app.close();
  } finally {
    await sql.end();
    await db.stop();
    await rm(dir, { recursive: true, force: true });
  }
}
