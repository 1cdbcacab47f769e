import { describe, expect, it } from 'vitest';
import type { Sql } from '../../db/client.js';
import { useTestApi, type TestApi } from '../harness/api.js';
import { uniqueSuffix } from '../harness/fixtures.js';
import { checkCase, hostileBodies } from '../harness/hostile-bodies.js';

let sql: Sql;
let api: TestApi;
useTestApi((s, a) => ([sql, api] = [s, a]));
const sfx = uniqueSuffix();


const post = (payload: unknown) => api.as('admin', { method: 'POST', url: '/alerts', payload: payload as object });
const patch = (id: number, payload: unknown) => api.as('admin', { method: 'PATCH', url: `/alerts/${id}`, payload: payload as object });
const fieldsOf = (res: { json(): { errors?: { field: string }[] } }) => (res.json().errors ?? []).map((e) => e.field);
const storedSecret = async (id: number) => (await sql<{ webhookSecret: string | null }[]>`SELECT webhook_secret FROM alert WHERE id = ${id}`)[0]!.webhookSecret;

describe('/alerts', () => {
  it('creates, reads, lists, changes and deletes an alert', async () => {
    const created = await post({ name: `SLA watch${sfx}`, thresholds: [100, 50, 150, 80], notifyAssignee: true, emails: ['boss@example.com'] });
    expect(created.statusCode).toBe(201);
    const alert = created.json();
    expect(alert).toEqual({
      id: expect.any(Number),
      name: `SLA watch${sfx}`,
      thresholds: [50, 80, 100, 150],
      notifyAssignee: true,
      notifySector: false,
      emails: ['boss@example.com'],
      webhookUrl: null,
      hasWebhookSecret: false,
      createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    });
    expect((await sql`SELECT thresholds FROM alert WHERE id = ${alert.id}`)[0]!.thresholds).toEqual([50, 80, 100, 150]);
    expect((await api.as('agent', `/alerts/${alert.id}`)).json()).toEqual(alert);
    expect((await api.as('backoffice', `/alerts?name=${encodeURIComponent(`sla WATCH${sfx}`)}`)).json().items).toEqual([alert]);

    const changed = await patch(alert.id, { thresholds: [90], notifyAssignee: false, notifySector: true, emails: [], webhookUrl: 'https://hooks.example.com/sla' });
    expect(changed.statusCode).toBe(200);
    expect(changed.json()).toEqual({ ...alert, thresholds: [90], notifyAssignee: false, notifySector: true, emails: [], webhookUrl: 'https://hooks.example.com/sla' });

    expect((await api.as('agent', { method: 'DELETE', url: `/alerts/${alert.id}` })).statusCode).toBe(403);
    expect((await api.as('admin', { method: 'DELETE', url: `/alerts/${alert.id}` })).statusCode).toBe(204);
    expect((await api.as('admin', `/alerts/${alert.id}`)).statusCode).toBe(404);
  });

  it('filters by name and pages oldest first', async () => {
    const made = [];
    for (const n of [1, 2, 3]) made.push((await post({ name: `Page${n}${sfx}`, thresholds: [n * 10], notifySector: true })).json());
    const first = (await api.as('agent', `/alerts?name=${encodeURIComponent(sfx)}&limit=2`)).json();
    expect(first.items).toEqual(made.slice(0, 2));
    expect(first.nextAfter).toBe(made[1].id);
    const second = (await api.as('agent', `/alerts?name=${encodeURIComponent(sfx)}&limit=2&after=${first.nextAfter}`)).json();
    expect(second).toEqual({ items: [made[2]], nextAfter: null });
    expect((await api.as('agent', `/alerts?name=${encodeURIComponent(`page2${sfx}`)}`)).json().items).toEqual([made[1]]);
  });

  it('checks thresholds, addresses and the webhook URL', async () => {
    const base = { name: `Checks${sfx}`, notifyAssignee: true };
    for (const thresholds of [[], [0], [1001], [50.5], [50, 50], Array.from({ length: 11 }, (_, i) => i + 1), 'fifty']) {
      expect(fieldsOf(await post({ ...base, thresholds })), JSON.stringify(thresholds)).toEqual([expect.stringMatching(/^body\.thresholds/)]);
    }
    expect(fieldsOf(await post({ ...base, thresholds: [50], emails: ['not an address'] }))).toEqual(['body.emails.0']);
    expect(fieldsOf(await post({ ...base, thresholds: [50], emails: ['a@example.com', 'A@example.com'] }))).toEqual(['body.emails']);
    expect(fieldsOf(await post({ ...base, thresholds: [50], emails: Array.from({ length: 51 }, (_, i) => `u${i}@example.com`) }))).toEqual(['body.emails']);
    for (const webhookUrl of ['ftp://example.com/x', 'javascript:alert(1)', 'example.com', 'https://user:pass@example.com/hook']) {
      expect(fieldsOf(await post({ ...base, thresholds: [50], webhookUrl })), webhookUrl).toEqual(['body.webhookUrl']);
    }
    const ok = await post({ ...base, thresholds: [1, 1000], emails: Array.from({ length: 50 }, (_, i) => `u${i}@example.com`), webhookUrl: 'http://localhost:8080/hook?x=1' });
    expect(ok.statusCode).toBe(201);
  });

  it('needs a recipient or a channel, on create and after a change', async () => {
    const none = await post({ name: `Nobody${sfx}`, thresholds: [50] });
    expect(none.statusCode).toBe(400);
    expect(none.json().errors).toEqual([{ field: 'body', message: expect.stringMatching(/at least one recipient/) }]);
    expect((await post({ name: `Nobody${sfx}`, thresholds: [50], notifyAssignee: false, notifySector: false, emails: [], webhookUrl: null })).statusCode).toBe(400);
    for (const only of [{ notifyAssignee: true }, { notifySector: true }, { emails: ['x@example.com'] }, { webhookUrl: 'https://example.com/h' }]) {
      expect((await post({ name: `Only ${Object.keys(only)[0]}${sfx}`, thresholds: [50], ...only })).statusCode).toBe(201);
    }
    const alert = (await post({ name: `Shrinking${sfx}`, thresholds: [50], notifySector: true, webhookUrl: 'https://example.com/h' })).json();
    expect((await patch(alert.id, { webhookUrl: null })).statusCode).toBe(200);
    const res = await patch(alert.id, { notifySector: false });
    expect(res.statusCode).toBe(400);
    expect(fieldsOf(res)).toEqual(['body']);
    expect((await api.as('admin', `/alerts/${alert.id}`)).json().notifySector).toBe(true);
  });

  it('stores the webhook secret encrypted and never shows it', async () => {
    const secret = `s3cr3t-${sfx}-ünï`;
    const created = await post({ name: `Signed${sfx}`, thresholds: [80, 100], webhookUrl: 'https://hooks.example.com/a', webhookSecret: secret });
    expect(created.statusCode).toBe(201);
    const alert = created.json();
    expect(alert.hasWebhookSecret).toBe(true);
    expect(alert).not.toHaveProperty('webhookSecret');
    const sealed = await storedSecret(alert.id);
    expect(sealed).toMatch(/^v1\./);
    expect(sealed).not.toContain(secret);
    expect(sealed).not.toContain(Buffer.from(secret).toString('base64'));

    const responses = [
      created,
      await api.as('admin', `/alerts/${alert.id}`),
      await api.as('admin', `/alerts?name=${encodeURIComponent(`Signed${sfx}`)}`),
      await patch(alert.id, { name: `Signed still${sfx}` }),
      await post({ name: `Signed still${sfx}`, thresholds: [80], webhookUrl: 'https://hooks.example.com/a', webhookSecret: secret }),
      await post({ name: `Unsigned${sfx}`, thresholds: [80], webhookSecret: secret }),
      await api.as('admin', '/docs/json'),
    ];
    expect(responses[4]!.statusCode).toBe(409);
    expect(responses[5]!.json().errors).toEqual([{ field: 'body.webhookSecret', message: expect.stringMatching(/needs a webhookUrl/) }]);
    for (const res of responses) {
      expect(res.body).not.toContain(secret);
      expect(res.body).not.toContain(sealed);
    }
    expect(await storedSecret(alert.id)).toBe(sealed);

    const replaced = await patch(alert.id, { webhookSecret: 'another one' });
    expect(replaced.json().hasWebhookSecret).toBe(true);
    const resealed = await storedSecret(alert.id);
    expect(resealed).toMatch(/^v1\./);
    expect(resealed).not.toBe(sealed);

    expect((await patch(alert.id, { webhookSecret: null })).json().hasWebhookSecret).toBe(false);
    expect(await storedSecret(alert.id)).toBeNull();

    await patch(alert.id, { webhookSecret: secret });
    const removed = await patch(alert.id, { webhookUrl: null, notifyAssignee: true });
    expect(removed.json()).toMatchObject({ webhookUrl: null, hasWebhookSecret: false });
    expect(await storedSecret(alert.id)).toBeNull();
  });

  it('allows a name once, and refuses to delete an alert an occurrence uses', async () => {
    const alert = (await post({ name: `Once${sfx}`, thresholds: [100], notifyAssignee: true })).json();
    const twice = await post({ name: `Once${sfx}`, thresholds: [50], notifySector: true });
    expect(twice.statusCode).toBe(409);
    expect(fieldsOf(twice)).toEqual(['body.name']);

    const [type] = await sql<{ id: number }[]>`INSERT INTO occurrence_type (name) VALUES (${`AlType${sfx}`}) RETURNING id`;
    await sql`INSERT INTO occurrence (occurrence_type_id, name, sla_value, sla_unit, alert_id) VALUES (${type!.id}, ${`Watched${sfx}`}, 1, 'hours', ${alert.id})`;
    const res = await api.as('admin', { method: 'DELETE', url: `/alerts/${alert.id}` });
    expect(res.statusCode).toBe(409);
    expect(res.json().detail).toMatch(new RegExp(`alert ${alert.id} is in use by occurrence «Watched${sfx}» \\(id \\d+\\)`));
  });
});

describe('/alerts with hostile bodies', () => {
  const valid = () => ({
    name: `Hostile${sfx}`,
    thresholds: [50, 80, 100, 150],
    notifyAssignee: true,
    notifySector: false,
    emails: ['ops@example.com'],
    webhookUrl: 'https://hooks.example.com/hostile',
    webhookSecret: 'hush',
  });
  /** checkCase, except that an accepted secret must come back as hasWebhookSecret only. */
  const check = (res: Awaited<ReturnType<typeof post>>, c: ReturnType<typeof hostileBodies>[number]) => {
    if (c.field === 'body.webhookSecret' && res.statusCode < 300) {
      expect(res.json(), c.name).toMatchObject({ hasWebhookSecret: true });
      expect(res.body, c.name).not.toContain(String(c.body.webhookSecret));
      return;
    }
    checkCase(res, c);
  };
  it('answers each create with a 4xx naming the field, or stores the value as sent', async () => {
    for (const c of hostileBodies(valid(), { required: ['name', 'thresholds'] })) {
      check(await post({ ...c.body, name: c.field === 'body.name' ? c.body.name : `${c.name}${sfx}` }), c);
    }
  });
  it('answers each change with a 4xx naming the field, or stores the value as sent', async () => {
    const target = (await post({ ...valid(), name: `HostileTarget${sfx}` })).json();
    for (const c of hostileBodies(valid(), { required: [] })) {
      check(await patch(target.id, { ...c.body, name: c.field === 'body.name' ? c.body.name : `${c.name} (change)${sfx}` }), c);
    }
  });
});
