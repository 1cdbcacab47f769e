import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Sql } from '../../db/client.js';
import { insertImported } from '../../db/customers.js';
import type { ImportCustomer } from '../../domain/customer-import.js';
import { useTestApi, type TestApi } from '../harness/api.js';
import { uniqueSuffix } from '../harness/fixtures.js';

let sql: Sql;
let api: TestApi;
useTestApi((s, a) => ([sql, api] = [s, a]));
const sfx = uniqueSuffix();
const region = `Região Sudeste${sfx}`;
let regionId: number;
let companyId: number;
const company = `Empresa${sfx}`;
let personId: number;

beforeAll(async () => {
  const [created] = await sql<{ id: number }[]>`INSERT INTO region (name) VALUES (${region}) RETURNING id`;
  regionId = created!.id;
  const types = await sql<{ id: number }[]>`INSERT INTO customer_type (name) VALUES (${company}), (${`Pessoa Física${sfx}`}) RETURNING id`;
  [companyId, personId] = types.map((t) => t.id) as [number, number];
});

const importCsv = (body: string | Buffer, query = '', who: 'admin' | 'agent' = 'admin', contentType = 'text/csv') =>
  api.as(who, { method: 'POST', url: `/customers/import${query}`, headers: { 'content-type': contentType }, payload: body });
const countTagged = async (tag: string) => (await sql<{ n: number }[]>`SELECT count(*)::int AS n FROM customer WHERE name LIKE ${`%${tag}%`}`)[0]!.n;

/** A file with good rows and every kind of bad one: `;`, CRLF, a BOM, a quoted line break. */
function mixedFile(tag: string): string {
  const lines = [
    'Name;Code;E-mail;Phone;Region;Customer_Type;Consent_Email;consent_whatsapp', // 1
    `Ana ${tag};A-${tag};ana${tag}@example.com;11 3333-4444;${region.toUpperCase()};${company};sim;não`, // 2 good (region in another case)
    `;B-${tag};b${tag}@example.com;;${region};;;`, // 3 missing name
    `Carla ${tag};C-${tag};carla${tag}@example.com;;Atlantis;;;`, // 4 unknown region
    `Davi ${tag};A-${tag};davi${tag}@example.com;;${region};;;`, // 5 duplicate code in the file (line 2)
    `Elisa ${tag};E-${tag};not-an-address;;${region};;;`, // 6 bad e-mail
    `"Fábio\r\n${tag}";F-${tag};;;${region};;yes;1`, // 7-8 good, a line break inside quotes
    `Gabi ${tag};G-${tag};ANA${tag}@EXAMPLE.COM;;${region};;;`, // 9 duplicate e-mail in the file (line 2)
    `Hugo ${tag};EXISTING-${tag};hugo${tag}@example.com;;${region};;;`, // 10 code already in the database
    `Iara ${tag};;taken${tag}@example.com;;${region};;;`, // 11 e-mail already in the database
    `Juca ${tag};;;;sudeste ${sfx.slice(1)};;;`, // 12 unknown region (not a near miss)
    `Lia ${tag};;;(11) 98888-7777;regiao sudeste${sfx};;talvez;`, // 13 bad consent (region without accent is fine)
    ';;;;;;;', // 14 blank: skipped
    `Mara ${tag};;;;${region};;no;yes`, // 15 good, generated code
  ];
  return `\uFEFF${lines.join('\r\n')}\r\n`;
}

describe('POST /customers/import', () => {
  it('imports the good rows, reports each bad line with its reason, and writes nothing of a bad row', async () => {
    const tag = uniqueSuffix().slice(1);
    await sql`INSERT INTO customer (name, code, region_id) VALUES (${`Existing ${tag}`}, ${`EXISTING-${tag}`}, ${regionId})`;
    await sql`INSERT INTO customer (name, email, email_key, region_id) VALUES (${`Taken ${tag}`}, ${`Taken${tag}@Example.com`}, ${`taken${tag}@example.com`}, ${regionId})`;
    const before = await countTagged(tag);

    const res = await importCsv(mixedFile(tag));
    expect(res.statusCode, res.body).toBe(200);
    const report = res.json();
    expect(report).toMatchObject({ dryRun: false, rows: 12, imported: 3 });
    expect(report.failed.map((f: { line: number; field: string }) => [f.line, f.field])).toEqual([
      [3, 'name'],
      [4, 'region'],
      [5, 'code'],
      [6, 'email'],
      [9, 'email'],
      [10, 'code'],
      [11, 'email'],
      [12, 'region'],
      [13, 'consent_email'],
    ]);
    const reason = (line: number) => report.failed.find((f: { line: number }) => f.line === line).reason;
    expect(reason(3)).toBe('is required');
    expect(reason(4)).toBe('there is no region named «Atlantis»');
    expect(reason(5)).toBe(`«A-${tag}» is also the code on line 2`);
    expect(reason(6)).toMatch(/e-mail address/);
    expect(reason(9)).toBe(`«ANA${tag}@EXAMPLE.COM» is also the e-mail on line 2`);
    expect(reason(10)).toMatch(new RegExp(`already the code of customer «Existing ${tag}»`));
    expect(reason(11)).toMatch(new RegExp(`already the e-mail of customer «Taken ${tag}»`));

    // The good rows are in, whole; the bad ones are not there at all.
    expect(await countTagged(tag)).toBe(before + 3);
    const rows = await sql<{ name: string; code: string; email: string | null; phone: string | null; regionId: number; customerTypeId: number | null; consentEmail: boolean; consentWhatsapp: boolean }[]>`
      SELECT name, code, email, phone, region_id, customer_type_id, consent_email, consent_whatsapp, id FROM customer
       WHERE name LIKE ${`%${tag}%`} AND name NOT LIKE 'Existing%' AND name NOT LIKE 'Taken%' ORDER BY id`;
    expect(rows).toEqual([
      { name: `Ana ${tag}`, code: `A-${tag}`, email: `ana${tag}@example.com`, phone: '11 3333-4444', regionId, customerTypeId: companyId, consentEmail: true, consentWhatsapp: false, id: expect.any(Number) },
      { name: `Fábio\r\n${tag}`, code: `F-${tag}`, email: null, phone: null, regionId, customerTypeId: null, consentEmail: true, consentWhatsapp: true, id: expect.any(Number) },
      { name: `Mara ${tag}`, code: expect.stringMatching(/^C\d{6,}$/), email: null, phone: null, regionId, customerTypeId: null, consentEmail: false, consentWhatsapp: true, id: expect.any(Number) },
    ]);
    for (const name of ['Carla', 'Davi', 'Elisa', 'Gabi', 'Hugo', 'Iara', 'Juca', 'Lia']) {
      expect(await sql`SELECT 1 FROM customer WHERE name = ${`${name} ${tag}`}`, name).toHaveLength(0);
    }

    // The same file again: every good row is now a duplicate of itself, and nothing is written.
    const again = (await importCsv(mixedFile(tag))).json();
    expect(again.imported).toBe(1); // Mara has no code or e-mail: a file cannot tell her from a new Mara
    expect(again.failed.filter((f: { line: number }) => f.line === 2).map((f: { field: string }) => f.field)).toEqual(['code', 'email']);
  });

  it('writes nothing in a dry run, and reports what it would do', async () => {
    const tag = uniqueSuffix().slice(1);
    await sql`INSERT INTO customer (name, code, region_id) VALUES (${`Existing ${tag}`}, ${`EXISTING-${tag}`}, ${regionId})`;
    await sql`INSERT INTO customer (name, email, email_key, region_id) VALUES (${`Taken ${tag}`}, ${`taken${tag}@example.com`}, ${`taken${tag}@example.com`}, ${regionId})`;
    const [total] = await sql<{ n: number }[]>`SELECT count(*)::int AS n FROM customer WHERE name LIKE ${`%${tag}%`}`;
    const res = await importCsv(mixedFile(tag), '?dryRun=true');
    expect(res.statusCode, res.body).toBe(200);
    const report = res.json();
    expect(report).toMatchObject({ dryRun: true, rows: 12, imported: 3 });
    expect(report.failed).toHaveLength(9);
    const [after] = await sql<{ n: number }[]>`SELECT count(*)::int AS n FROM customer WHERE name LIKE ${`%${tag}%`}`;
    expect(after!.n).toBe(total!.n);
  });

  it('gives rows without a customer type the one the query names', async () => {
    const tag = uniqueSuffix().slice(1);
    const file = `name,region,customer_type\nOne ${tag},${region},\nTwo ${tag},${region},pessoa fisica${sfx}\n`;
    expect((await importCsv(file, `?customerTypeId=${companyId}`)).json()).toMatchObject({ imported: 2, failed: [] });
    const types = await sql<{ customerTypeId: number }[]>`SELECT customer_type_id FROM customer WHERE name LIKE ${`%${tag}`} ORDER BY id`;
    expect(types.map((t) => t.customerTypeId)).toEqual([companyId, personId]);
    const unknown = await importCsv(file, '?customerTypeId=999999999');
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json().errors).toEqual([{ field: 'querystring.customerTypeId', message: 'there is no customer type with id 999999999' }]);
  });

  it('reads a Windows-1252 file as Excel writes it in Brazil', async () => {
    const tag = uniqueSuffix().slice(1);
    const file = Buffer.from(`name;region\r\nJoão Ação ${tag};${region}\r\n`, 'latin1');
    const res = await importCsv(file);
    expect(res.json(), res.body).toMatchObject({ imported: 1, failed: [] });
    expect(await sql`SELECT 1 FROM customer WHERE name = ${`João Ação ${tag}`}`).toHaveLength(1);
  });

  it('refuses a file it cannot read as a whole, another content type, and callers who are not admins', async () => {
    const unknown = await importCsv(`name,region,notes\nA,${region},x\n`);
    expect(unknown.statusCode).toBe(400);
    expect(unknown.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(unknown.json().errors).toEqual([{ field: 'body', message: expect.stringMatching(/«notes», is not a column of the import/) }]);
    expect((await importCsv('')).statusCode).toBe(400);
    expect((await importCsv('name,region\n"A,B\n')).json().detail).toMatch(/not valid CSV/);
    expect((await importCsv(JSON.stringify({ name: 'A' }), '', 'admin', 'application/json')).statusCode).toBe(415);
    expect((await importCsv(`name,region\nA,${region}\n`, '', 'agent')).statusCode).toBe(403);
    expect((await importCsv(`name,region\nA,${region}\n`, '?dryRun=maybe')).statusCode).toBe(400);
    // The path is not a customer id.
    for (const method of ['GET', 'PATCH', 'DELETE'] as const) {
      const res = await api.as('agent', { method, url: '/customers/import', ...(method === 'PATCH' ? { payload: {} } : {}) });
      expect(res.statusCode, method).toBe(405);
      expect(res.headers.allow).toBe('POST');
    }
    // A customer body is JSON: a CSV sent to POST /customers is a 400, not a crash.
    expect((await api.as('admin', { method: 'POST', url: '/customers', headers: { 'content-type': 'text/csv' }, payload: 'name\nA' })).statusCode).toBe(400);
  });
});

describe('GET /customers/import/template', () => {
  it('downloads a template that imports cleanly once its example row is filled in', async () => {
    const res = await api.as('admin', '/customers/import/template');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(res.headers['content-disposition']).toBe('attachment; filename="customers-template.csv"');
    expect(res.body.startsWith('\uFEFFname,code,email,phone,phone2,mobile,region,customer_type,consent_email,consent_sms,consent_phone,consent_whatsapp\r\n')).toBe(true);
    const rows = parse(res.body, { bom: true }) as string[][];
    expect(rows).toHaveLength(2);

    const tag = uniqueSuffix().slice(1);
    const [header, example] = rows as [string[], string[]];
    const filled = header.map((column, i) => ({ name: `Template ${tag}`, code: `T-${tag}`, email: `template${tag}@example.com` })[column] ?? example[i]!);
    const dry = (await importCsv(`\uFEFF${stringify([header, filled])}`, '?dryRun=true')).json();
    expect(dry).toMatchObject({ rows: 1, imported: 1, failed: [] });
    const done = (await importCsv(`\uFEFF${stringify([header, filled])}`)).json();
    expect(done).toEqual({ dryRun: false, rows: 1, imported: 1, failed: [] });
    expect(await sql`SELECT 1 FROM customer WHERE code = ${`T-${tag}`}`).toHaveLength(1);

    const semicolon = await api.as('admin', '/customers/import/template?delimiter=semicolon');
    expect(semicolon.body.split('\r\n')[0]).toBe('\uFEFFname;code;email;phone;phone2;mobile;region;customer_type;consent_email;consent_sms;consent_phone;consent_whatsapp');
    expect((await api.as('agent', '/customers/import/template')).statusCode).toBe(403);
  });
});

describe('the import under load and races', () => {
  it(
    'imports 100,000 rows in one request',
    async () => {
      const tag = uniqueSuffix().slice(1);
      const n = 100_000;
      const lines = ['name;code;email;phone;mobile;region;consent_email;consent_sms'];
      for (let i = 1; i <= n; i++) {
        lines.push(`Bulk Customer ${i} ${tag};B${i}-${tag};bulk${i}.${tag}@example.com;11 3333-${String(i % 10_000).padStart(4, '0')};;${region};${i % 2 ? 'sim' : 'não'};0`);
      }
      const file = `\uFEFF${lines.join('\r\n')}\r\n`;
      const started = performance.now();
      const res = await importCsv(file);
      const seconds = (performance.now() - started) / 1000;
      console.log(`[customer import] ${n.toLocaleString('en')} rows (${(Buffer.byteLength(file) / 1e6).toFixed(1)} MB) imported in ${seconds.toFixed(1)} s`);
      expect(res.statusCode, res.body.slice(0, 500)).toBe(200);
      expect(res.json()).toEqual({ dryRun: false, rows: n, imported: n, failed: [] });
      const [stored] = await sql<{ count: number }[]>`SELECT count(*)::int AS count FROM customer WHERE code LIKE ${`B%-${tag}`}`;
      expect(stored!.count).toBe(n);

      // Search stays fast on them: a substring of one name, through the trigram index.
      await sql`ANALYZE customer`;
      const t0 = performance.now();
      const found = (await api.as('agent', `/customers?q=${encodeURIComponent(`customer 77777 ${tag}`)}`)).json();
      console.log(`[customer import] search among them took ${(performance.now() - t0).toFixed(0)} ms`);
      expect(found.items.map((c: { code: string }) => c.code)).toEqual([`B77777-${tag}`]);
      const plan = await sql`EXPLAIN SELECT id FROM customer WHERE search_text ILIKE ${`%customer 77777 ${tag}%`} ORDER BY id LIMIT 51`;
      expect(plan.map((r) => Object.values(r)[0]).join('\n')).toMatch(/Bitmap Index Scan on customer_search/);
    },
    120_000,
  );

  it('runs two imports of overlapping files at once without a deadlock: each code is imported once', async () => {
    const tag = uniqueSuffix().slice(1);
    const lines = Array.from({ length: 3000 }, (_, i) => `Overlap ${i} ${tag},O${i}-${tag},${region}`);
    const forward = `name,code,region\n${lines.join('\n')}`;
    const backward = `name,code,region\n${[...lines].reverse().join('\n')}`;
    const [a, b] = await Promise.all([importCsv(forward), importCsv(backward)]);
    expect([a.statusCode, b.statusCode]).toEqual([200, 200]);
    expect(a.json().imported + b.json().imported).toBe(3000);
    expect(a.json().failed.length + b.json().failed.length).toBe(3000);
    expect(await countTagged(`${tag}`)).toBe(3000);
  });

  it('reports rows that lost a race for their code or e-mail instead of writing them', async () => {
    const tag = uniqueSuffix().slice(1);
    const row = (line: number, code: string | null, email: string | null): ImportCustomer => ({
      line,
      name: `Race ${line} ${tag}`,
      code,
      email,
      emailKey: email,
      phone: null,
      phone2: null,
      mobile: null,
      regionId,
      customerTypeId: null,
      consentEmail: false,
      consentSms: false,
      consentPhone: false,
      consentWhatsapp: false,
    });
    // Taken after the import checked the file, as a concurrent import or e-mail would.
    await sql`INSERT INTO customer (name, code, region_id) VALUES ('first', ${`R1-${tag}`}, ${regionId})`;
    await sql`INSERT INTO customer (name, email, email_key, region_id) VALUES ('first', ${`r3${tag}@example.com`}, ${`r3${tag}@example.com`}, ${regionId})`;
    const rows = [row(2, `R1-${tag}`, null), row(3, `R2-${tag}`, null), row(4, null, `r3${tag}@example.com`), row(5, null, null)];
    const result = await insertImported(sql, rows);
    expect(result.inserted).toBe(2);
    expect(result.lost.map((r) => r.line)).toEqual([2, 4]);
    expect((await sql`SELECT name FROM customer WHERE name LIKE ${`Race % ${tag}`} ORDER BY id`).map((r) => r.name)).toEqual([`Race 3 ${tag}`, `Race 5 ${tag}`]);
  });
});
