import type { ImapSettings } from '../db/mailboxes.js';

export interface SeededDemo {
  sectorId: number;
  /** João, Ana, Luis: the seeds' registration order. */
  userIds: [number, number, number];
  customerTypeId: number;
  regionId: number;
  occurrenceTypeId: number;
  occurrenceId: number;
  mailboxId: number;
  /** BackOffice: a second sector, where Carla works steps. */
  backOfficeSectorId: number;
  /** Carla, BackOffice staff of both sectors. */
  backOfficeUserId: number;
  alertId: number;
  /** The mailbox's three-step solution and the occurrence's alternative. */
  solutionId: number;
  alternativeSolutionId: number;
}

/** One call of the REST API, as an admin: how the demo is configured (the same code paths an admin uses). */
export type ApiCall = (method: 'GET' | 'POST' | 'PATCH', url: string, body?: object) => Promise<{ status: number; body: unknown }>;

type Entity = { id: number } & Record<string, unknown>;

async function ok(api: ApiCall, method: 'GET' | 'POST' | 'PATCH', url: string, body?: object): Promise<Entity & { items?: Entity[] }> {
  const res = await api(method, url, body);
  if (res.status >= 300) throw new Error(`demo seed: ${method} ${url} answered ${res.status}: ${JSON.stringify(res.body)}`);
  return res.body as Entity & { items?: Entity[] };
}

/** Creates the resource, or finds the one a previous start created (a 409 on its unique name). */
async function ensure(api: ApiCall, path: string, body: object, search: string, same: (e: Entity) => boolean): Promise<Entity> {
  const created = await api('POST', path, body);
  if (created.status === 201) return created.body as Entity;
  if (created.status !== 409) throw new Error(`demo seed: POST ${path} answered ${created.status}: ${JSON.stringify(created.body)}`);
  const found = (await ok(api, 'GET', `${path}?${search}&limit=200`)).items?.find(same);
  if (!found) throw new Error(`demo seed: ${path} said 409 but lists no match for ${search}`);
  return found;
}

/**
 * The demo configuration, made through the REST API as an admin would make it (idempotent):
 * a Support sector with three users in the seeds' registration order (João, Ana, Luis), a
 * BackOffice sector with Carla, an occurrence type, an occurrence with a 4-hour SLA and an
 * alert at 50, 80 and 100 %, a three-step solution with an alternative, and a mailbox with
 * automatic conversion on that starts the solution. `suffix` keeps several copies apart
 * (tests); `activeMailbox: false` leaves its watcher to the caller.
 */
export async function seedDemo(api: ApiCall, imap: ImapSettings, opts: { suffix?: string; autoConvert?: boolean; activeMailbox?: boolean } = {}): Promise<SeededDemo> {
  const sfx = opts.suffix ?? '';
  const named = (name: string) => (e: Entity) => e.name === name;
  const q = encodeURIComponent;
  const sector = await ensure(api, '/sectors', { name: `Support${sfx}` }, `name=${q(`Support${sfx}`)}`, named(`Support${sfx}`));
  const userIds: number[] = [];
  for (const [login, name, role] of [
    ['joao', 'João', 'admin'],
    ['ana', 'Ana', 'agent'],
    ['luis', 'Luis', 'agent'],
  ] as const) {
    const body = { login: login + sfx, name, email: `${login}${sfx}@mailtrack.demo`, role, sectorIds: [sector.id] };
    userIds.push((await ensure(api, '/users', body, `q=${q(login + sfx)}`, (u) => u.login === login + sfx)).id);
  }
  const backOffice = await ensure(api, '/sectors', { name: `BackOffice${sfx}` }, `name=${q(`BackOffice${sfx}`)}`, named(`BackOffice${sfx}`));
  const carla = await ensure(
    api,
    '/users',
    { login: `carla${sfx}`, name: 'Carla', email: `carla${sfx}@mailtrack.demo`, role: 'backoffice', sectorIds: [sector.id, backOffice.id] },
    `q=${q(`carla${sfx}`)}`,
    (u) => u.login === `carla${sfx}`,
  );
  const alert = await ensure(
    api,
    '/alerts',
    { name: `SLA watch${sfx}`, thresholds: [50, 80, 100], notifyAssignee: true, notifySector: true },
    `name=${q(`SLA watch${sfx}`)}`,
    named(`SLA watch${sfx}`),
  );
  const customerType = await ensure(api, '/customer-types', { name: `Standard${sfx}` }, `name=${q(`Standard${sfx}`)}`, named(`Standard${sfx}`));
  const region = await ensure(api, '/regions', { name: `Brazil${sfx}` }, `name=${q(`Brazil${sfx}`)}`, named(`Brazil${sfx}`));
  const type = await ensure(api, '/occurrence-types', { name: 'Question', sectorId: sector.id, description: 'Questions sent by e-mail' }, `name=Question&sectorId=${sector.id}`, named('Question'));
  const occurrence = await ensure(
    api,
    '/occurrences',
    { occurrenceTypeId: type.id, name: 'General question', slaValue: 4, slaUnit: 'hours', sectorId: sector.id, alertId: alert.id },
    `name=${q('General question')}&occurrenceTypeId=${type.id}`,
    named('General question'),
  );
  const solution = await ensure(
    api,
    '/solutions',
    {
      occurrenceId: occurrence.id,
      name: 'Answer the question',
      flow: 'main',
      steps: [
        { name: 'Understand the question', sectorId: sector.id },
        { name: 'Check the account', sectorId: backOffice.id, slaValue: 2, slaUnit: 'hours' },
        { name: 'Reply to the customer', sectorId: sector.id },
      ],
    },
    `occurrenceId=${occurrence.id}&flow=main`,
    named('Answer the question'),
  );
  const alternative = await ensure(
    api,
    '/solutions',
    { occurrenceId: occurrence.id, name: 'Escalate', flow: 'alternative', steps: [{ name: 'Escalate to the account team', sectorId: backOffice.id, slaValue: 1, slaUnit: 'days' }] },
    `occurrenceId=${occurrence.id}&flow=alternative`,
    named('Escalate'),
  );
  const settings = {
    sectorId: sector.id,
    autoConvert: opts.autoConvert ?? true,
    customerTypeId: customerType.id,
    regionId: region.id,
    creatorUserId: userIds[0],
    occurrenceTypeId: type.id,
    occurrenceId: occurrence.id,
    solutionId: solution.id,
    active: opts.activeMailbox ?? true,
  };
  let mailbox = await ensure(api, '/mailboxes', { name: `demo${sfx}`, imap, ...settings }, `name=${q(`demo${sfx}`)}`, named(`demo${sfx}`));
  // A later start may serve the demo mailbox elsewhere (another port): the stored settings follow.
  const stored = mailbox.imap as Omit<ImapSettings, 'secret'>;
  if (stored.host !== imap.host || stored.port !== imap.port || stored.user !== imap.user || stored.folder !== imap.folder || stored.tls !== imap.tls) {
    mailbox = await ok(api, 'PATCH', `/mailboxes/${mailbox.id}`, { imap });
  }
  return {
    sectorId: sector.id,
    userIds: userIds as [number, number, number],
    customerTypeId: customerType.id,
    regionId: region.id,
    occurrenceTypeId: type.id,
    occurrenceId: occurrence.id,
    mailboxId: mailbox.id,
    backOfficeSectorId: backOffice.id,
    backOfficeUserId: carla.id,
    alertId: alert.id,
    solutionId: solution.id,
    alternativeSolutionId: alternative.id,
  };
}

/** `ApiCall` through the app in this process (no network), with an admin key. */
export function viaInject(app: { inject: (o: { method: 'GET' | 'POST' | 'PATCH'; url: string; payload?: object; headers: Record<string, string> }) => PromiseLike<{ statusCode: number; json(): unknown }> }, key: string): ApiCall {
  return async (method, url, body) => {
    const res = await app.inject({ method, url, ...(body ? { payload: body } : {}), headers: { authorization: `Bearer ${key}` } });
    return { status: res.statusCode, body: res.json() };
  };
}
