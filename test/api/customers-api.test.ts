import { randomInt } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Sql } from '../../db/client.js';
import { findOrCreateByEmail } from '../../db/customers.js';
import { generatedCustomerCode } from '../../domain/customer-naming.js';
import { useTestApi, type TestApi } from '../harness/api.js';
import { uniqueSuffix } from '../harness/fixtures.js';
import { checkCase, hostileBodies } from '../harness/hostile-bodies.js';

let sql: Sql;
let api: TestApi;
useTestApi((s, a) => ([sql, api] = [s, a]));
const sfx = uniqueSuffix();
let north: number;
let south: number;
let company: number;
let person: number;

beforeAll(async () => {
  const [n, s] = await sql<{ id: number }[]>`INSERT INTO region (name) VALUES (${`North${sfx}`}), (${`South${sfx}`}) RETURNING id`;
  const [c, p] = await sql<{ id: number }[]>`INSERT INTO customer_type (name) VALUES (${`Company${sfx}`}), (${`Person${sfx}`}) RETURNING id`;
  [north, south, company, person] = [n!.id, s!.id, c!.id, p!.id];
});

let serial = 0;
/** A body with a name, code and e-mail no other test uses. */
const fresh = (extra: Record<string, unknown> = {}) => {
  serial += 1;
  return { name: `Customer ${serial}${sfx}`, code: `K${serial}${sfx}`, email: `c${serial}${sfx}@example.com`, regionId: north, ...extra };
};
const post = (payload: unknown, who: 'admin' | 'agent' | 'backoffice' = 'admin') => api.as(who, { method: 'POST', url: '/customers', payload: payload as object });
const patch = (id: number, payload: unknown, who: 'admin' | 'agent' | 'backoffice' = 'admin') =>
  api.as(who, { method: 'PATCH', url: `/customers/${id}`, payload: payload as object });
const list = async (query: string) => (await api.as('backoffice', `/customers?${query}`)).json();
const openTicketFor = async (customerId: number) => {
  const protocol = `9${Date.now()}${randomInt(1000, 9999)}`;
  await sql`INSERT INTO ticket (protocol, subject, description, customer_id, channel) VALUES (${protocol}, 'Help', 'Please', ${customerId}, 'api')`;
  return protocol;
};

describe('/customers', () => {
  it('creates, reads, lists, changes and deletes a customer with its observers', async () => {
    const body = {
      name: `Maria da Silva${sfx}`,
      code: `123.456.789-09${sfx}`,
      email: `Maria.Silva${sfx}@Example.com`,
      phone: '+55 11 3333-4444',
      phone2: '(11) 2222-1111',
      mobile: '+55 11 99999-8888',
      regionId: north,
      customerTypeId: person,
      consentEmail: true,
      consentSms: false,
      consentPhone: true,
      consentWhatsapp: true,
      observerIds: [api.userIds.backoffice, api.userIds.agent, api.userIds.agent],
    };
    const created = await post(body, 'agent');
    expect(created.statusCode, created.body).toBe(201);
    const c = created.json();
    expect(c).toEqual({
      ...body,
      id: expect.any(Number),
      observerIds: [api.userIds.backoffice, api.userIds.agent].sort((a, b) => a - b),
      createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT.*Z$/),
      updatedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT.*Z$/),
    });
    const [row] = await sql<{ emailKey: string }[]>`SELECT email_key FROM customer WHERE id = ${c.id}`;
    expect(row!.emailKey).toBe(`maria.silva${sfx}@example.com`);

    expect((await api.as('backoffice', `/customers/${c.id}`)).json()).toEqual(c);
    expect((await list(`q=${encodeURIComponent(`silva${sfx.toUpperCase()}`)}`)).items).toEqual([c]);

    const changed = await patch(c.id, { phone: null, customerTypeId: company, observerIds: [api.userIds.admin] }, 'agent');
    expect(changed.statusCode, changed.body).toBe(200);
    expect(changed.json()).toMatchObject({ id: c.id, name: body.name, phone: null, customerTypeId: company, observerIds: [api.userIds.admin], email: body.email });
    expect(changed.json().updatedAt >= c.updatedAt).toBe(true);
    expect((await sql`SELECT user_id FROM customer_observer WHERE customer_id = ${c.id}`).map((r) => r.userId)).toEqual([api.userIds.admin]);
    expect((await patch(c.id, { observerIds: [] })).json().observerIds).toEqual([]);

    expect((await api.as('agent', { method: 'DELETE', url: `/customers/${c.id}` })).statusCode).toBe(403);
    expect((await api.as('admin', { method: 'DELETE', url: `/customers/${c.id}` })).statusCode).toBe(204);
    expect((await api.as('admin', `/customers/${c.id}`)).statusCode).toBe(404);
    expect((await api.as('admin', { method: 'DELETE', url: `/customers/${c.id}` })).statusCode).toBe(404);
  });

  it('lets admins and agents create and change customers, every role read them, and only admins delete', async () => {
    expect((await post(fresh(), 'backoffice')).statusCode).toBe(403);
    const c = (await post(fresh(), 'agent')).json();
    expect((await patch(c.id, { name: 'x' }, 'backoffice')).statusCode).toBe(403);
    expect((await patch(c.id, { name: `Renamed${sfx}` }, 'agent')).statusCode).toBe(200);
    expect((await api.as('backoffice', `/customers/${c.id}`)).statusCode).toBe(200);
  });

  it('generates the code when none is given, as the e-mail path does, and refuses that form from people', async () => {
    const created = await post({ name: `No code${sfx}`, regionId: south });
    expect(created.statusCode, created.body).toBe(201);
    const c = created.json();
    expect(c.code).toBe(generatedCustomerCode(c.id));
    expect(c).toMatchObject({ email: null, phone: null, phone2: null, mobile: null, customerTypeId: null, consentEmail: false, consentSms: false, consentPhone: false, consentWhatsapp: false, observerIds: [] });

    const taken = await post(fresh({ code: 'C000000999999' }));
    expect(taken.statusCode).toBe(400);
    expect(taken.json().errors).toEqual([{ field: 'body.code', message: expect.stringMatching(/form of generated codes/) }]);
    // A customer may keep its own generated code (a client that sends back what it read), not take another.
    expect((await patch(c.id, { code: c.code, name: `Still no code${sfx}` })).statusCode).toBe(200);
    expect((await patch(c.id, { code: generatedCustomerCode(c.id + 1) })).statusCode).toBe(400);
    // A code of one's own (a CPF, a CNPJ) replaces the generated one.
    expect((await patch(c.id, { code: `12.345.678/0001-90${sfx}` })).json().code).toBe(`12.345.678/0001-90${sfx}`);
  });

  it('generates codes in the database exactly as generatedCustomerCode does', async () => {
    const ids = [1, 42, 999_999, 1_000_000, 12_345_678];
    const codes = await sql.begin(async (tx) => {
      await tx`CREATE TEMP TABLE code_probe (id bigint, code text) ON COMMIT DROP`;
      await tx`CREATE TRIGGER code_probe BEFORE INSERT ON code_probe FOR EACH ROW EXECUTE FUNCTION customer_generated_code()`;
      return tx<{ code: string }[]>`INSERT INTO code_probe (id) SELECT unnest(${ids}::bigint[]) RETURNING code`;
    });
    expect(codes.map((r) => r.code)).toEqual(ids.map(generatedCustomerCode));
  });

  it('refuses a second customer with a code or an e-mail address in use, in any case, naming the field', async () => {
    const first = (await post(fresh())).json();
    const sameCode = await post(fresh({ code: first.code }));
    expect(sameCode.statusCode).toBe(409);
    expect(sameCode.json().errors).toEqual([{ field: 'body.code', message: expect.stringMatching(/already taken/) }]);

    const sameEmail = await post(fresh({ email: first.email.toUpperCase() }));
    expect(sameEmail.statusCode).toBe(409);
    expect(sameEmail.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(sameEmail.json().errors).toEqual([{ field: 'body.email', message: `is already the e-mail of customer «${first.name}» (id ${first.id})` }]);

    const other = (await post(fresh())).json();
    expect((await patch(other.id, { email: ` ${first.email}` })).statusCode).toBe(400);
    const changed = await patch(other.id, { email: first.email.replace('c', 'C') });
    expect(changed.statusCode).toBe(409);
    expect(changed.json().errors[0].field).toBe('body.email');
    // A customer may change the case of its own address; clearing it frees the address.
    expect((await patch(first.id, { email: first.email.toUpperCase() })).statusCode).toBe(200);
    expect((await patch(first.id, { email: null })).json().email).toBeNull();
    expect((await patch(other.id, { email: first.email })).statusCode).toBe(200);
  });

  it('keeps the e-mail path finding customers the API created, whatever the case of the sender', async () => {
    const c = (await post(fresh({ email: `Ana.Paula${sfx}@Example.COM` }))).json();
    const found = await findOrCreateByEmail(sql, { name: 'ana', email: `ana.paula${sfx}@example.com`, emailKey: `ana.paula${sfx}@example.com`, regionId: null, customerTypeId: null });
    expect(found).toEqual({ id: c.id, created: false });
    const made = await findOrCreateByEmail(sql, { name: 'new', email: `new${sfx}@example.com`, emailKey: `new${sfx}@example.com`, regionId: null, customerTypeId: null });
    expect(made.created).toBe(true);
    const read = (await api.as('admin', `/customers/${made.id}`)).json();
    expect(read).toMatchObject({ code: generatedCustomerCode(made.id), regionId: null, email: `new${sfx}@example.com` });
    // Taking that address for an API customer is refused: it is that customer's.
    expect((await post(fresh({ email: `NEW${sfx}@example.com` }))).statusCode).toBe(409);
  });

  it('needs a region that exists, and says which reference does not exist', async () => {
    const { regionId: _, ...noRegion } = fresh();
    const missing = await post(noRegion);
    expect(missing.statusCode).toBe(400);
    expect(missing.json().errors).toEqual([{ field: 'body.regionId', message: 'is required' }]);
    expect((await post(fresh({ regionId: 999_999_999 }))).json().errors).toEqual([{ field: 'body.regionId', message: 'there is no region with id 999999999' }]);
    expect((await post(fresh({ customerTypeId: 999_999_999 }))).json().errors).toEqual([{ field: 'body.customerTypeId', message: 'there is no customer type with id 999999999' }]);
    expect((await post(fresh({ observerIds: [api.userIds.agent, 999_999_999] }))).json().errors).toEqual([{ field: 'body.observerIds', message: 'there is no user with id 999999999' }]);
    const c = (await post(fresh())).json();
    expect((await patch(c.id, { regionId: null })).statusCode).toBe(400);
    expect((await patch(c.id, { observerIds: [999_999_998] })).json().errors).toEqual([{ field: 'body.observerIds', message: 'there is no user with id 999999998' }]);
    expect((await api.as('admin', `/customers/${c.id}`)).json().observerIds).toEqual([]);
    expect((await patch(999_999_999, { name: 'Nobody' })).statusCode).toBe(404);
  });

  it('searches by part of the name, the e-mail or the code, in any case, and filters by region and customer type', async () => {
    const tag = uniqueSuffix().slice(1);
    const a = (await post({ name: `Joana Prado ${tag}`, code: `CPF-${tag}-1`, email: `joana.${tag}@acme.example`, regionId: north, customerTypeId: company })).json();
    const b = (await post({ name: `Pedro Alves ${tag}`, code: `CNPJ-${tag}-2`, email: `pedro.${tag}@other.example`, regionId: south, customerTypeId: company })).json();
    const c = (await post({ name: `Rita ${tag} Prado`, code: `X-${tag}-3`, regionId: south, customerTypeId: person })).json();
    const ids = async (query: string) => (await list(query)).items.map((x: { id: number }) => x.id);

    expect(await ids(`q=${tag}`)).toEqual([a.id, b.id, c.id]);
    expect(await ids(`q=${encodeURIComponent(`PRADO ${tag.toUpperCase()}`)}`)).toEqual([a.id]);
    expect(await ids(`q=${encodeURIComponent(`${tag} prado`)}`)).toEqual([c.id]);
    expect(await ids(`q=${encodeURIComponent(`${tag}@ACME`)}`)).toEqual([a.id]);
    expect(await ids(`q=${encodeURIComponent(`cnpj-${tag}`)}`)).toEqual([b.id]);
    expect(await ids(`q=${tag}&regionId=${south}`)).toEqual([b.id, c.id]);
    expect(await ids(`q=${tag}&regionId=${south}&customerTypeId=${company}`)).toEqual([b.id]);
    expect(await ids(`q=${tag}&customerTypeId=${person}`)).toEqual([c.id]);
    // Pattern characters are literal.
    expect(await ids(`q=${encodeURIComponent(`%${tag}_`)}`)).toEqual([]);

    const first = await list(`q=${tag}&limit=2`);
    expect(first.items.map((x: { id: number }) => x.id)).toEqual([a.id, b.id]);
    const second = await list(`q=${tag}&limit=2&after=${first.nextAfter}`);
    expect(second).toEqual({ items: [expect.objectContaining({ id: c.id })], nextAfter: null });

    expect((await api.as('agent', '/customers?regionId=abc')).statusCode).toBe(400);
    expect((await api.as('agent', `/customers?q=${'x'.repeat(201)}`)).statusCode).toBe(400);
  });

  it('refuses to delete a customer with tickets, naming them, and deletes its contracts and observers with it', async () => {
    const c = (await post(fresh({ observerIds: [api.userIds.agent] }))).json();
    const protocol = await openTicketFor(c.id);
    const refused = await api.as('admin', { method: 'DELETE', url: `/customers/${c.id}` });
    expect(refused.statusCode).toBe(409);
    expect(refused.json().detail).toMatch(new RegExp(`customer ${c.id} is in use by ticket «${protocol}»`));

    const d = (await post(fresh({ observerIds: [api.userIds.agent] }))).json();
    await api.as('admin', { method: 'POST', url: `/customers/${d.id}/contracts`, payload: { name: 'Gold', number: `N-del${sfx}`, startsOn: '2025-01-01' } });
    expect((await api.as('admin', { method: 'DELETE', url: `/customers/${d.id}` })).statusCode).toBe(204);
    expect(await sql`SELECT 1 FROM contract WHERE customer_id = ${d.id} UNION ALL SELECT 1 FROM customer_observer WHERE customer_id = ${d.id}`).toHaveLength(0);
  });
});

describe('contracts', () => {
  const addContract = (customerId: number, payload: unknown, who: 'admin' | 'agent' = 'admin') =>
    api.as(who, { method: 'POST', url: `/customers/${customerId}/contracts`, payload: payload as object });
  const day = (offset: number) => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);

  it('creates, lists, reads, changes and deletes a contract', async () => {
    const c = (await post(fresh())).json();
    const body = { name: 'Premium support', number: `CT-1${sfx}`, startsOn: day(-30), endsOn: day(335), active: true, slaValue: 4, slaUnit: 'hours' };
    const created = await addContract(c.id, body);
    expect(created.statusCode, created.body).toBe(201);
    const k = created.json();
    expect(k).toEqual({ ...body, id: expect.any(Number), customerId: c.id, validToday: true, inForce: true, createdAt: expect.any(String) });

    expect((await api.as('agent', `/customers/${c.id}/contracts`)).json()).toEqual({ items: [k], nextAfter: null });
    expect((await api.as('backoffice', `/contracts/${k.id}`)).json()).toEqual(k);

    const changed = await api.as('admin', { method: 'PATCH', url: `/contracts/${k.id}`, payload: { active: false, slaValue: null, slaUnit: null } });
    expect(changed.statusCode, changed.body).toBe(200);
    expect(changed.json()).toMatchObject({ active: false, slaValue: null, slaUnit: null, validToday: true, inForce: false });

    expect((await api.as('agent', { method: 'DELETE', url: `/contracts/${k.id}` })).statusCode).toBe(403);
    expect((await api.as('admin', { method: 'DELETE', url: `/contracts/${k.id}` })).statusCode).toBe(204);
    expect((await api.as('admin', `/contracts/${k.id}`)).statusCode).toBe(404);
    expect((await api.as('admin', { method: 'PATCH', url: `/contracts/${k.id}`, payload: { name: 'x' } })).statusCode).toBe(404);
  });

  it('keeps contract numbers unique across all customers', async () => {
    const a = (await post(fresh())).json();
    const b = (await post(fresh())).json();
    expect((await addContract(a.id, { name: 'A', number: `CT-U${sfx}`, startsOn: '2025-01-01' })).statusCode).toBe(201);
    const again = await addContract(b.id, { name: 'B', number: `CT-U${sfx}`, startsOn: '2025-01-01' });
    expect(again.statusCode).toBe(409);
    expect(again.json().errors).toEqual([{ field: 'body.number', message: expect.stringMatching(/already taken/) }]);
    const other = (await addContract(b.id, { name: 'B', number: `CT-V${sfx}`, startsOn: '2025-01-01' })).json();
    expect((await api.as('admin', { method: 'PATCH', url: `/contracts/${other.id}`, payload: { number: `CT-U${sfx}` } })).statusCode).toBe(409);
  });

  it('refuses an end before the start and half an SLA package, on create and on change', async () => {
    const c = (await post(fresh())).json();
    const before = await addContract(c.id, { name: 'X', number: `CT-B${sfx}`, startsOn: '2025-06-01', endsOn: '2025-05-31' });
    expect(before.statusCode).toBe(400);
    expect(before.json().errors).toEqual([{ field: 'body.endsOn', message: 'must not be before startsOn (2025-06-01)' }]);
    expect((await addContract(c.id, { name: 'X', number: `CT-S${sfx}`, startsOn: '2025-06-01', slaValue: 8 })).json().errors).toEqual([
      { field: 'body.slaUnit', message: expect.stringMatching(/is required with slaValue/) },
    ]);
    expect((await addContract(c.id, { name: 'X', number: `CT-S${sfx}`, startsOn: '2025-06-01', slaUnit: 'days' })).json().errors).toEqual([
      { field: 'body.slaValue', message: expect.stringMatching(/is required with slaUnit/) },
    ]);
    expect((await addContract(c.id, { name: 'X', number: `CT-D${sfx}`, startsOn: '2025-02-30' })).json().errors[0].field).toBe('body.startsOn');
    // One day is a valid period.
    const k = (await addContract(c.id, { name: 'X', number: `CT-O${sfx}`, startsOn: '2025-06-01', endsOn: '2025-06-01', slaValue: 2, slaUnit: 'days' })).json();
    expect(k.endsOn).toBe('2025-06-01');

    const change = (payload: object) => api.as('admin', { method: 'PATCH', url: `/contracts/${k.id}`, payload });
    expect((await change({ startsOn: '2025-06-02' })).json().errors).toEqual([{ field: 'body.endsOn', message: 'must not be before startsOn (2025-06-02)' }]);
    expect((await change({ slaUnit: null })).json().errors).toEqual([{ field: 'body.slaUnit', message: expect.stringMatching(/is required with slaValue/) }]);
    expect((await change({ endsOn: null, startsOn: '2025-06-02' })).json()).toMatchObject({ startsOn: '2025-06-02', endsOn: null });
  });

  it('says which contracts are valid today and in force, and lists by that', async () => {
    const c = (await post(fresh())).json();
    const make = async (number: string, body: object) => (await addContract(c.id, { name: number, number: `${number}${sfx}`, ...body })).json();
    const current = await make('current', { startsOn: day(-10) });
    const ended = await make('ended', { startsOn: day(-10), endsOn: day(-1) });
    const future = await make('future', { startsOn: day(1), endsOn: day(30) });
    const inactive = await make('inactive', { startsOn: day(-10), endsOn: day(10), active: false });
    const today = await make('today', { startsOn: day(0), endsOn: day(0) });
    expect([current, ended, future, inactive, today].map((k) => [k.validToday, k.inForce])).toEqual([
      [true, true],
      [false, false],
      [false, false],
      [true, false],
      [true, true],
    ]);
    const ids = async (q: string) => (await api.as('agent', `/customers/${c.id}/contracts?${q}`)).json().items.map((k: { id: number }) => k.id);
    expect(await ids('inForce=true')).toEqual([current.id, today.id]);
    expect(await ids('inForce=false')).toEqual([ended.id, future.id, inactive.id]);
    expect(await ids('limit=2')).toEqual([current.id, ended.id]);
  });

  it('answers 404 for the contracts of a customer that does not exist, and 403 to agents who would change contracts', async () => {
    expect((await api.as('admin', '/customers/999999999/contracts')).statusCode).toBe(404);
    expect((await addContract(999_999_999, { name: 'X', number: `CT-404${sfx}`, startsOn: '2025-01-01' })).statusCode).toBe(404);
    const c = (await post(fresh())).json();
    expect((await addContract(c.id, { name: 'X', number: `CT-403${sfx}`, startsOn: '2025-01-01' }, 'agent')).statusCode).toBe(403);
  });
});

describe('hostile bodies', () => {
  it('POST /customers answers each with a 4xx naming the field, or stores the value as sent', async () => {
    const valid = {
      name: `Hostile${sfx}`,
      code: `H${sfx}`,
      email: `hostile${sfx}@example.com`,
      phone: '+55 11 3333-4444',
      mobile: '11 99999-8888',
      regionId: north,
      customerTypeId: company,
      consentEmail: true,
      observerIds: [api.userIds.agent],
    };
    let n = 0;
    for (const c of hostileBodies(valid, { required: ['name', 'regionId'], ids: ['regionId', 'customerTypeId', 'observerIds'] })) {
      n += 1;
      const unique = { name: `${c.name}${sfx}`, code: `H${n}${sfx}`, email: `hostile${n}${sfx}@example.com` };
      const body = { ...c.body, ...Object.fromEntries(Object.entries(unique).filter(([k]) => c.field !== `body.${k}` && k in c.body)) };
      checkCase(await post(body), { ...c, body });
    }
  });

  it('PATCH /customers/:id answers each with a 4xx naming the field, or stores the value as sent', async () => {
    const target = (await post(fresh())).json();
    const valid = { name: `Hostile patch${sfx}`, code: `HP${sfx}`, email: `hostile.patch${sfx}@example.com`, phone2: '3333-4444', regionId: south, customerTypeId: person, consentWhatsapp: false, observerIds: [api.userIds.backoffice] };
    for (const c of hostileBodies(valid, { required: [], ids: ['regionId', 'customerTypeId', 'observerIds'] })) {
      checkCase(await patch(target.id, c.body), c);
    }
    // Nothing half-written by the refused ones: the customer is the last accepted state.
    const after = (await api.as('admin', `/customers/${target.id}`)).json();
    expect(after.observerIds).toEqual([api.userIds.backoffice]);
  });

  it('POST /customers/:id/contracts and PATCH /contracts/:id answer each with a 4xx naming the field, or store the value as sent', async () => {
    const c = (await post(fresh())).json();
    const valid = { name: 'Gold', number: `HC${sfx}`, startsOn: '2025-01-01', endsOn: '2025-12-31', active: true, slaValue: 4, slaUnit: 'hours' };
    let n = 0;
    let last = 0;
    for (const h of hostileBodies(valid, { required: ['name', 'number', 'startsOn'] })) {
      n += 1;
      const body = h.field === 'body.number' || !('number' in h.body) ? h.body : { ...h.body, number: `HC${n}${sfx}` };
      const res = await api.as('admin', { method: 'POST', url: `/customers/${c.id}/contracts`, payload: body });
      checkCase(res, { ...h, body });
      if (res.statusCode === 201) last = res.json().id;
    }
    for (const h of hostileBodies(valid, { required: [] })) {
      n += 1;
      const body = h.field === 'body.number' ? h.body : { ...h.body, number: `HC${n}${sfx}` };
      checkCase(await api.as('admin', { method: 'PATCH', url: `/contracts/${last}`, payload: body }), { ...h, body });
    }
  });
});
