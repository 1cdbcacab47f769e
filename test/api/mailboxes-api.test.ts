import { Client, Connection } from '@temporalio/client';
import { MockActivityEnvironment } from '@temporalio/testing';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createActivities } from '../../activities/index.js';
import type { NewMail } from '../../activities/mailbox.js';
import { buildApp, type App } from '../../api/app.js';
import type { Sql } from '../../db/client.js';
import { mailboxWorkflowId } from '../../contracts/workflow-ids.js';
import { testApi, type TestApi } from '../harness/api.js';
import { appendMail, rawMail, testImapFolder, testSecrets, testSql, uniqueSuffix } from '../harness/fixtures.js';
import { checkCase, hostileBodies, type BodyCase } from '../harness/hostile-bodies.js';

/**
 * The app under test is built here with the test run's secrets key (so the test can open what
 * the API sealed) and a Temporal client of its own; testApi gives the keys of each role. No
 * worker polls this task queue: the watcher workflows exist and run, their tasks wait.
 */
let sql: Sql;
let api: TestApi;
let app: App;
let connection: Connection;
let client: Client;
const sfx = uniqueSuffix();
const taskQueue = `mailboxes${sfx}`;
const SECRET = `  pä55 w0rd ${sfx} `;

/** The ids of the configuration the mailboxes point at (made in SQL: other resources' routes are not under test here). */
const f = {} as Record<
  'sector' | 'otherSector' | 'user' | 'customerType' | 'region' | 'group' | 'type' | 'otherType' | 'occurrence' | 'bareOccurrence' | 'groupOnlyOccurrence' | 'sectorOnlyOccurrence' | 'otherOccurrence' | 'solution' | 'otherSolution',
  number
>;

const as = (who: 'admin' | 'agent' | 'backoffice', opts: InjectOptions | string): Promise<LightMyRequestResponse> => {
  const o = typeof opts === 'string' ? { method: 'GET' as const, url: opts } : opts;
  return app.inject({ ...o, headers: { ...o.headers, authorization: `Bearer ${api.keys[who]}` } });
};
const post = (payload: unknown) => as('admin', { method: 'POST', url: '/mailboxes', payload: payload as object });
const patch = (id: number, payload: unknown) => as('admin', { method: 'PATCH', url: `/mailboxes/${id}`, payload: payload as object });
const del = (id: number) => as('admin', { method: 'DELETE', url: `/mailboxes/${id}` });

const imap = () => ({ host: 'imap.example.com', port: 993, user: 'support@example.com', secret: SECRET });
let n = 0;
/** A valid create body: a plain mailbox, inactive unless said, so that no watcher starts. */
const body = (extra: Record<string, unknown> = {}) => ({ name: `Mailbox ${++n}${sfx}`, imap: imap(), active: false, ...extra });
/** autoConvert on with a consistent type, occurrence and solution in the mailbox's sector. */
const converting = () => ({
  sectorId: f.sector,
  autoConvert: true,
  customerTypeId: f.customerType,
  regionId: f.region,
  creatorUserId: f.user,
  occurrenceTypeId: f.type,
  occurrenceId: f.occurrence,
  solutionId: f.solution,
});

/** The secret never comes back, in any answer. */
function secretless(res: LightMyRequestResponse, secret = SECRET): LightMyRequestResponse {
  expect(res.body).not.toContain(secret.trim());
  expect(res.body).not.toMatch(/"secret"|imapSecret|sealed/i);
  return res;
}

async function created(extra: Record<string, unknown> = {}) {
  const res = secretless(await post(body(extra)));
  expect(res.statusCode, res.body).toBe(201);
  return res.json();
}

const fields = (res: LightMyRequestResponse) => (res.json().errors ?? []).map((e: { field: string }) => e.field);
const storedSecret = async (id: number) => (await sql<{ imapSecret: string }[]>`SELECT imap_secret FROM mailbox WHERE id = ${id}`)[0]!.imapSecret;
const watcher = (id: number, runId?: string) => client.workflow.getHandle(mailboxWorkflowId(id), runId);
const status = async (id: number, runId?: string) => {
  const d = await watcher(id, runId).describe();
  return { status: d.status.name, runId: d.runId };
};
async function terminationReason(id: number, runId: string): Promise<string | null | undefined> {
  const history = await watcher(id, runId).fetchHistory();
  return history.events?.at(-1)?.workflowExecutionTerminatedEventAttributes?.reason;
}

beforeAll(async () => {
  sql = testSql();
  api = await testApi(sql);
  connection = await Connection.connect({ address: inject('temporalAddress') });
  client = new Client({ connection });
  app = await buildApp({ sql, temporal: { client, taskQueue, mailboxIdleSeconds: 30 }, secrets: testSecrets });
  const one = async (q: Promise<{ id: number }[]>) => (await q)[0]!.id;
  f.sector = await one(sql`INSERT INTO sector (name) VALUES (${`Mail desk${sfx}`}) RETURNING id`);
  f.otherSector = await one(sql`INSERT INTO sector (name) VALUES (${`Elsewhere${sfx}`}) RETURNING id`);
  f.user = await one(sql`INSERT INTO app_user (login, name, role) VALUES (${`creator${sfx}`}, 'Creator', 'agent') RETURNING id`);
  f.customerType = await one(sql`INSERT INTO customer_type (name) VALUES (${`Retail${sfx}`}) RETURNING id`);
  f.region = await one(sql`INSERT INTO region (name) VALUES (${`South${sfx}`}) RETURNING id`);
  f.group = await one(sql`INSERT INTO solution_group (name) VALUES (${`Responders${sfx}`}) RETURNING id`);
  f.type = await one(sql`INSERT INTO occurrence_type (name, sector_id) VALUES (${`Question${sfx}`}, ${f.sector}) RETURNING id`);
  f.otherType = await one(sql`INSERT INTO occurrence_type (name, sector_id) VALUES (${`Billing${sfx}`}, ${f.otherSector}) RETURNING id`);
  const occurrence = (typeId: number, name: string, sectorId: number | null, groupId: number | null) =>
    one(sql`INSERT INTO occurrence (occurrence_type_id, name, sla_value, sla_unit, sector_id, solution_group_id) VALUES (${typeId}, ${name}, 4, 'hours', ${sectorId}, ${groupId}) RETURNING id`);
  f.occurrence = await occurrence(f.type, 'General question', f.sector, f.group);
  f.bareOccurrence = await occurrence(f.type, 'Orphan question', null, null);
  f.groupOnlyOccurrence = await occurrence(f.type, 'Group question', null, f.group);
  f.sectorOnlyOccurrence = await occurrence(f.type, 'Desk question', f.sector, null);
  f.otherOccurrence = await occurrence(f.otherType, 'Invoice', f.otherSector, null);
  f.solution = await one(sql`INSERT INTO solution (occurrence_id, name, flow) VALUES (${f.occurrence}, 'Answer', 'main') RETURNING id`);
  f.otherSolution = await one(sql`INSERT INTO solution (occurrence_id, name, flow) VALUES (${f.otherOccurrence}, 'Refund', 'main') RETURNING id`);
});
afterAll(async () => {
  await app?.close();
  await api?.close();
  await connection?.close();
  await sql?.end();
});

describe('/mailboxes', () => {
  it('creates, reads, lists, changes and deletes a mailbox, with the defaults', async () => {
    const mailbox = await created({ ...converting() });
    expect(mailbox).toEqual({
      id: expect.any(Number),
      name: expect.stringContaining(sfx),
      imap: { host: 'imap.example.com', port: 993, tls: true, user: 'support@example.com', folder: 'INBOX', hasSecret: true, auth: 'password', oauth: null },
      ...converting(),
      acknowledge: false,
      acknowledgementSubject: null,
      acknowledgementBody: null,
      senderTicketLimit: 20,
      afterProcessing: 'leave',
      afterProcessingFolder: null,
      maxMessageBytes: 26214400,
      closeResolvedAfterHours: 96,
      hasPushSecret: false,
      autoDistribute: false,
      distributionTarget: null,
      active: false,
      createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      updatedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    });
    const plain = await created();
    expect(plain).toMatchObject({ autoConvert: false, sectorId: null, occurrenceId: null, autoDistribute: false });

    expect(secretless(await api.as('agent', `/mailboxes/${mailbox.id}`)).json()).toEqual(mailbox);
    const listed = secretless(await as('backoffice', `/mailboxes?name=${encodeURIComponent(sfx.toUpperCase())}&sectorId=${f.sector}&autoConvert=true&active=false`)).json();
    expect(listed.items).toEqual([mailbox]);
    expect(secretless(await as('admin', `/mailboxes?name=${encodeURIComponent(sfx)}&autoConvert=false`)).json().items.map((m: { id: number }) => m.id)).toContain(plain.id);
    expect(secretless(await as('admin', `/mailboxes?name=${encodeURIComponent(sfx)}&active=true`)).json().items).toEqual([]);

    const changed = secretless(await patch(mailbox.id, { name: `Renamed${sfx}`, imap: { folder: 'Support/Inbox', tls: false }, regionId: null }));
    expect(changed.statusCode, changed.body).toBe(200);
    expect(changed.json()).toMatchObject({ name: `Renamed${sfx}`, imap: { host: 'imap.example.com', folder: 'Support/Inbox', tls: false, hasSecret: true }, regionId: null, customerTypeId: f.customerType });
    expect(changed.json().updatedAt >= mailbox.updatedAt).toBe(true);

    expect((await del(mailbox.id)).statusCode).toBe(204);
    expect((await as('admin', `/mailboxes/${mailbox.id}`)).statusCode).toBe(404);
    expect((await patch(mailbox.id, { name: 'gone' })).statusCode).toBe(404);
    expect((await del(mailbox.id)).statusCode).toBe(404);
  });

  it('pages oldest first with a keyset cursor', async () => {
    const ids = [(await created()).id, (await created()).id, (await created()).id];
    const first = (await as('admin', `/mailboxes?name=${encodeURIComponent(sfx)}&limit=2&after=${ids[0]! - 1}`)).json();
    expect(first.items.map((m: { id: number }) => m.id)).toEqual(ids.slice(0, 2));
    const second = (await as('admin', `/mailboxes?name=${encodeURIComponent(sfx)}&limit=2&after=${first.nextAfter}`)).json();
    expect(second.items.map((m: { id: number }) => m.id)[0]).toBe(ids[2]);
  });

  it('refuses a second mailbox with the same name with a 409 naming the field', async () => {
    const { name } = await created();
    const res = await post(body({ name }));
    expect(res.statusCode).toBe(409);
    expect(fields(res)).toEqual(['body.name']);
  });

  it('refuses to delete a mailbox that has received e-mail (disable it instead)', async () => {
    const mailbox = await created();
    await sql`INSERT INTO inbound_email (mailbox_id, uid_validity, uid, size, raw) VALUES (${mailbox.id}, 1, 1, 1, ${Buffer.from('x')})`;
    const res = await del(mailbox.id);
    expect(res.statusCode).toBe(409);
    expect(res.json().detail).toMatch(new RegExp(`mailbox ${mailbox.id} is in use by inbound email`));
    expect((await as('admin', `/mailboxes/${mailbox.id}`)).statusCode).toBe(200);
  });
});

describe('the IMAP secret (SPEC §3 rule 5)', () => {
  it('is stored encrypted, never returned, and kept by a PATCH that does not name it', async () => {
    const mailbox = await created();
    const sealed = await storedSecret(mailbox.id);
    expect(sealed).toMatch(/^v1\.[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(sealed).not.toContain(SECRET.trim());
    // Kept exactly as sent: spaces are part of a password.
    expect(testSecrets.open(sealed)).toBe(SECRET);

    secretless(await patch(mailbox.id, { name: `Kept${sfx}`, imap: { host: 'imap2.example.com' } }));
    expect(await storedSecret(mailbox.id)).toBe(sealed);

    const next = `n3w-s3cret${sfx}`;
    secretless(await patch(mailbox.id, { imap: { secret: next } }), next);
    const resealed = await storedSecret(mailbox.id);
    expect(resealed).not.toBe(sealed);
    expect(testSecrets.open(resealed)).toBe(next);

    // Not in a refusal either.
    const refused = secretless(await post({ ...body(), name: `Refused${sfx}`, autoConvert: true }));
    expect(refused.statusCode).toBe(400);
  });

  it('is what the activities connect with: an API-made mailbox is read from Dovecot', async () => {
    const folder = await testImapFolder();
    const { secret, ...connection } = folder;
    const mailbox = await created({ imap: { ...connection, secret } });
    const ref = await appendMail(folder, rawMail({ subject: 'through the sealed secret' }));
    const act = createActivities({ sql, secrets: testSecrets });
    const mail = (await new MockActivityEnvironment().run(act.waitForMail, { mailboxId: mailbox.id, maxWaitSeconds: 5, maxBatch: 10 })) as NewMail;
    expect(mail).toEqual({ uidValidity: ref.uidValidity, uids: [ref.uid] });
  });
});

describe("SPEC §3's rules, each a 400 naming the field", () => {
  const refused = async (res: Promise<LightMyRequestResponse>, expected: string[]) => {
    const r = secretless(await res);
    expect(r.statusCode, r.body).toBe(400);
    expect(r.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(fields(r)).toEqual(expected);
    return r.json();
  };

  it('1. autoConvert needs the creator, the occurrence type and the occurrence', async () => {
    await refused(post(body({ autoConvert: true })), ['body.creatorUserId', 'body.occurrenceTypeId', 'body.occurrenceId']);
    await refused(post(body({ ...converting(), creatorUserId: undefined })), ['body.creatorUserId']);
    const plain = await created({ sectorId: f.sector });
    await refused(patch(plain.id, { autoConvert: true, creatorUserId: f.user }), ['body.occurrenceTypeId', 'body.occurrenceId']);
    // Against the merged result: clearing a setting autoConvert needs is refused too.
    const converter = await created(converting());
    await refused(patch(converter.id, { creatorUserId: null }), ['body.creatorUserId']);
  });

  it("2. the occurrence belongs to the type, and both to the mailbox's sector or to none", async () => {
    const wrongType = await refused(post(body({ ...converting(), sectorId: null, occurrenceId: f.otherOccurrence, solutionId: null })), ['body.occurrenceId']);
    expect(wrongType.errors[0].message).toMatch(/«Invoice» belongs to another occurrence type/);
    // Each rule broken is named, the same field twice if need be.
    const both = await refused(post(body({ ...converting(), occurrenceId: f.otherOccurrence, solutionId: null })), ['body.occurrenceId', 'body.occurrenceId']);
    expect(both.errors[1].message).toMatch(/«Invoice» is linked to sector \d+, not to the mailbox's sector \d+/);
    await refused(post(body({ ...converting(), occurrenceTypeId: f.otherType, occurrenceId: f.otherOccurrence, solutionId: null })), ['body.occurrenceTypeId', 'body.occurrenceId']);
    await refused(post(body({ occurrenceId: f.occurrence })), ['body.occurrenceTypeId']);
    // A type and an occurrence of no sector fit any mailbox; a mailbox of no sector takes any.
    await created({ ...converting(), occurrenceId: f.bareOccurrence, solutionId: null });
    await created({ ...converting(), sectorId: null, occurrenceTypeId: f.otherType, occurrenceId: f.otherOccurrence, solutionId: null });
    const mailbox = await created(converting());
    await refused(patch(mailbox.id, { sectorId: f.otherSector }), ['body.occurrenceTypeId', 'body.occurrenceId']);
  });

  it('3. the solution belongs to the occurrence', async () => {
    await refused(post(body({ ...converting(), solutionId: f.otherSolution })), ['body.solutionId']);
    await refused(post(body({ solutionId: f.solution })), ['body.solutionId']);
    const mailbox = await created(converting());
    await refused(patch(mailbox.id, { occurrenceId: f.sectorOnlyOccurrence }), ['body.solutionId']);
    expect((await patch(mailbox.id, { occurrenceId: f.sectorOnlyOccurrence, solutionId: null })).statusCode).toBe(200);
  });

  it('4. autoDistribute needs the occurrence to have a solution group or a sector, in the seeds\' words', async () => {
    const message = 'Associate a solution group or a sector with occurrence «Orphan question» before enabling automatic distribution.';
    const res = await refused(post(body({ ...converting(), occurrenceId: f.bareOccurrence, solutionId: null, autoDistribute: true })), ['body.autoDistribute']);
    expect(res.errors[0].message).toBe(message);
    expect(res.detail).toContain(message);
    const mailbox = await created({ ...converting(), autoDistribute: true });
    const changed = await refused(patch(mailbox.id, { occurrenceId: f.bareOccurrence, solutionId: null }), ['body.autoDistribute']);
    expect(changed.errors[0].message).toBe(message);
  });

  it('4. distributionTarget: solution_group falls back to the sector (seeds), sector needs one', async () => {
    const groupOnly = { ...converting(), occurrenceId: f.groupOnlyOccurrence, solutionId: null, autoDistribute: true };
    const sectorOnly = { ...converting(), occurrenceId: f.sectorOnlyOccurrence, solutionId: null, autoDistribute: true };
    const json = await refused(post(body({ ...groupOnly, distributionTarget: 'sector' })), ['body.distributionTarget']);
    expect(json.errors[0].message).toMatch(/«Group question» to have a sector/);
    expect((await created({ ...groupOnly, distributionTarget: 'solution_group' })).distributionTarget).toBe('solution_group');
    expect((await created({ ...sectorOnly, distributionTarget: 'solution_group' })).distributionTarget).toBe('solution_group');
    expect((await created({ ...sectorOnly, distributionTarget: 'sector' })).distributionTarget).toBe('sector');
  });
});

describe('the watcher workflow mailbox:<id> follows the configuration', () => {
  it('starts on create, restarts on an IMAP change, stops on disable and delete', async () => {
    const mailbox = await created({ active: true });
    const first = await status(mailbox.id);
    expect(first.status).toBe('RUNNING');

    // Other changes need no restart: the activities read the settings every round.
    expect((await patch(mailbox.id, { name: `Still watched${sfx}`, autoDistribute: false })).statusCode).toBe(200);
    expect(await status(mailbox.id)).toEqual(first);
    // The same IMAP values are no change.
    expect((await patch(mailbox.id, { imap: { host: 'imap.example.com' } })).statusCode).toBe(200);
    expect(await status(mailbox.id)).toEqual(first);

    expect((await patch(mailbox.id, { imap: { folder: 'Elsewhere' } })).statusCode).toBe(200);
    const second = await status(mailbox.id);
    expect(second.status).toBe('RUNNING');
    expect(second.runId).not.toBe(first.runId);
    expect((await status(mailbox.id, first.runId)).status).toBe('TERMINATED');

    // A new secret is an IMAP change too.
    expect((await patch(mailbox.id, { imap: { secret: 'rotated' } })).statusCode).toBe(200);
    const third = await status(mailbox.id);
    expect(third.runId).not.toBe(second.runId);

    expect((await patch(mailbox.id, { active: false })).statusCode).toBe(200);
    expect(await status(mailbox.id)).toEqual({ status: 'TERMINATED', runId: third.runId });
    expect(await terminationReason(mailbox.id, third.runId)).toBe('mailbox disabled by admin');
    // Changing a disabled mailbox starts nothing.
    expect((await patch(mailbox.id, { imap: { folder: 'Again' } })).statusCode).toBe(200);
    expect((await status(mailbox.id)).runId).toBe(third.runId);

    expect((await patch(mailbox.id, { active: true })).statusCode).toBe(200);
    const fourth = await status(mailbox.id);
    expect(fourth.status).toBe('RUNNING');

    expect((await del(mailbox.id)).statusCode).toBe(204);
    expect(await status(mailbox.id)).toEqual({ status: 'TERMINATED', runId: fourth.runId });
    expect(await terminationReason(mailbox.id, fourth.runId)).toBe('mailbox deleted by admin');
  });

  it('starts nothing for an inactive mailbox', async () => {
    const mailbox = await created({ active: false });
    await expect(watcher(mailbox.id).describe()).rejects.toThrow();
  });
});

describe('/mailboxes with hostile bodies', () => {
  const valid = () => ({ ...body(), ...converting(), autoDistribute: true, distributionTarget: 'solution_group' });
  const ids = ['sectorId', 'customerTypeId', 'regionId', 'creatorUserId', 'occurrenceTypeId', 'occurrenceId', 'solutionId'];

  /** The cases of the nested `imap` object, named `body.imap.<field>`. */
  const imapCases = (required: string[]): BodyCase[] =>
    hostileBodies({ ...imap(), tls: true, folder: 'INBOX' }, { required }).map((c) => ({ ...c, field: c.field.replace(/^body\./, 'body.imap.') }));
  const checkImapCase = (res: LightMyRequestResponse, c: BodyCase) => {
    const what = `imap ${c.name}: ${res.statusCode} ${res.body.slice(0, 300)}`;
    expect(res.statusCode, what).toBeLessThan(500);
    const key = c.field.replace(/^body\.imap\./, '');
    if (res.statusCode >= 400) {
      expect(res.headers['content-type'], what).toMatch(/^application\/problem\+json/);
      expect(fields(res), what).toContain(c.field);
    } else {
      expect(c.expect, what).toBe('fine');
      if (key === 'secret') expect(res.json().imap.hasSecret, what).toBe(true);
      else expect(res.json().imap[key], what).toEqual(c.body[key]);
    }
    if (typeof c.body.secret === 'string' && c.body.secret.length < 5000) secretless(res, c.body.secret);
  };

  it('create: answers each with a 4xx naming the field, or stores the value as sent', async () => {
    for (const c of hostileBodies(valid(), { required: ['name', 'imap'], ids })) {
      checkCase(secretless(await post({ ...c.body, name: c.field === 'body.name' ? c.body.name : `${c.name}${sfx}` })), c);
    }
    for (const c of imapCases(['host', 'port', 'user', 'secret'])) {
      checkImapCase(await post({ ...valid(), imap: c.body }), c);
    }
    for (const port of [0, 65536, 99.5, -1]) {
      expect(fields(await post({ ...valid(), imap: { ...imap(), port } }))).toEqual(['body.imap.port']);
    }
  });

  it('update: answers each with a 4xx naming the field, or stores the value as sent', async () => {
    const mailbox = await created(converting());
    for (const c of hostileBodies(valid(), { required: [], ids })) {
      checkCase(secretless(await patch(mailbox.id, { ...c.body, name: c.field === 'body.name' ? c.body.name : `${c.name}${sfx}` })), c);
    }
    for (const c of imapCases([])) {
      checkImapCase(await patch(mailbox.id, { imap: c.body }), c);
    }
    expect(fields(await patch(mailbox.id, { imap: { port: 70000 } }))).toEqual(['body.imap.port']);
    expect(fields(await patch(mailbox.id, { imap: null }))).toEqual(['body.imap']);
    expect(fields(await patch(mailbox.id, { name: null }))).toEqual(['body.name']);
  });
});
