import type { Client } from '@temporalio/client';
import type { FastifyBaseLogger, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { z } from 'zod';
import { poolsChanged } from '../../clients/assigner.js';
import { poolsOfUser } from '../../db/pools.js';
import type { PoolRef } from '../../domain/distribution.js';
import { keyHashesOf, LastActiveAdminError, users } from '../../db/users.js';
import { user, userCreate, userListQuery, userUpdate, type UserUpdate } from '../../schemas/users.js';
import { crudRoutes, type Store } from '../crud-routes.js';
import type { AppDeps } from '../deps.js';
import { caller } from '../plugins/auth.js';
import { conflict } from '../plugins/errors.js';

/** What the route descriptions say of the balanced distribution's pools (SPEC §5). */
export const POOLS_TOLD_TEXT = (what: string) =>
  `After ${what}, the assignment workflows of the pools concerned are told before the answer, so the next ticket is distributed by the new state. ` +
  'If Temporal does not answer (2 s), the change stays saved and the answer is still a success: the failure is logged, and a pool\'s workflow reloads the pool when it next starts or is told of another change.';
const POOLS_TOLD = POOLS_TOLD_TEXT(
  'a change of `active`, `available`, `sectorIds`, `role` or `name` of a user, or their deletion: every solution group and sector the user was in before or is in after',
);

/** What the API docs say about these routes, besides the schemas (decisions the spec leaves open). */
const DESCRIPTIONS: Record<string, string> = {
  'GET /users': 'Filters: `q` (part of the login or the name, any case), `role`, `sectorId`, `active`, `available`; in registration order (oldest first).',
  'POST /users':
    'The login is unique whatever its case (409 naming `login`). `registrationOrder` is given by the server: the order of creation, never changed. ' +
    'A sector in `sectorIds` that does not exist is a 400 naming `body.sectorIds`. A new user has no API key: create one with POST /api-keys. ' +
    POOLS_TOLD_TEXT('the creation of a user in sectors: those sectors\' pools'),
  'PATCH /users/:id':
    '`sectorIds` replaces the whole list. The registration order never changes. ' +
    'You cannot deactivate yourself or take away your own admin role (409: another admin must), and no change may leave no active admin (409). ' +
    'A change of role, sectors or `active` applies to the user\'s API keys at once (within 10 s on other API instances). ' +
    POOLS_TOLD,
  'DELETE /users/:id':
    'A user that tickets, mailboxes or anything else still name cannot be deleted (409 naming what uses them): deactivate instead (active=false), ' +
    'which keeps their history and stops their API keys. Deleting a user removes their sector and group memberships and API keys. ' +
    'You cannot delete yourself, and the last active admin cannot be deleted (409). ' +
    POOLS_TOLD,
};

const LAST_ADMIN = 'This would leave no active admin, and nobody could configure anything any more: make another user an active admin first.';

/**
 * Tells the pools' assignment workflows that a saved change concerns them (SPEC §5). The change
 * is saved already: a Temporal that does not answer is one logged line, not a failed request
 * (each workflow also reloads its pool when it starts).
 */
export async function tellPools(client: Client, log: FastifyBaseLogger, pools: PoolRef[], why: string): Promise<void> {
  if (pools.length === 0) return;
  try {
    await poolsChanged(client, pools, why);
  } catch (err) {
    log.warn({ err, why }, `the assignment workflows were not told of a saved change (${why}): ${(err as Error).message}`);
  }
}

/** `user 12 (ana) … by jsilva (admin)`: who did what, for the workflow's history. */
export function byWhom(req: FastifyRequest): string {
  const me = caller(req);
  return me ? `by ${me.login} (user ${me.id}, ${me.role})` : 'by the system';
}

/** The user fields a distribution pool reads (db/pools.ts loadPool; the role, for the pools to come). */
const POOL_FIELDS = ['active', 'available', 'sectorIds', 'role', 'name'] as const;

function describeChange(id: number, patch: UserUpdate): string {
  const parts: string[] = [];
  if (patch.active !== undefined) parts.push(patch.active ? 'reactivated' : 'deactivated');
  if (patch.available !== undefined) parts.push(patch.available ? 'back from pause' : 'paused');
  if (patch.sectorIds !== undefined) parts.push(`sectors set to [${patch.sectorIds.join(', ')}]`);
  if (patch.role !== undefined) parts.push(`role set to ${patch.role}`);
  if (patch.name !== undefined) parts.push('renamed');
  return `user ${id} ${parts.join(', ')}`;
}

export function usersRoutes(deps: AppDeps): FastifyPluginAsyncZod {
  return async (app) => {
    // An admin does not lock themselves out: deactivating, demoting or deleting yourself is another admin's call.
    app.addHook('preHandler', async (req) => {
      if (req.routeOptions.url !== '/users/:id' || !req.me) return;
      if ((req.params as { id: number }).id !== caller(req).id) return;
      const patch = req.body as UserUpdate | undefined;
      if (req.method === 'DELETE') throw conflict('You cannot delete yourself: another admin must (or deactivate you).');
      if (req.method === 'PATCH' && patch?.active === false) throw conflict('You cannot deactivate yourself: another admin must.');
      if (req.method === 'PATCH' && patch?.role !== undefined && patch.role !== caller(req).role) {
        throw conflict(`You cannot change your own role (${caller(req).role}): another admin must.`);
      }
    });
    // Balanced distribution (SPEC §5): a change to a user changes the pools they were in before
    // and those they are in after; both are told once the change is saved, before the answer.
    // A new user in sectors joins those sectors' pools.
    const poolsBefore = new WeakMap<FastifyRequest, PoolRef[]>();
    app.addHook('preHandler', async (req) => {
      const body = req.body as UserUpdate | undefined;
      if (req.routeOptions.url === '/users' && req.method === 'POST' && body?.sectorIds?.length) poolsBefore.set(req, []);
      if (req.routeOptions.url !== '/users/:id') return;
      if (req.method === 'DELETE' || (req.method === 'PATCH' && POOL_FIELDS.some((f) => body?.[f] !== undefined))) {
        poolsBefore.set(req, await poolsOfUser(deps.sql, (req.params as { id: number }).id));
      }
    });
    app.addHook('onSend', async (req, reply, payload) => {
      const before = poolsBefore.get(req);
      if (!before || reply.statusCode >= 300) return payload;
      if (req.method === 'POST') {
        const { login, sectorIds = [] } = req.body as UserUpdate;
        const sectors = sectorIds.map((id): PoolRef => ({ kind: 'sector', id }));
        await tellPools(deps.temporal.client, req.log, sectors, `user ${login} created in sectors [${sectorIds.join(', ')}] ${byWhom(req)}`);
        return payload;
      }
      const id = (req.params as { id: number }).id;
      const deleted = req.method === 'DELETE';
      const why = `${deleted ? `user ${id} deleted` : describeChange(id, req.body as UserUpdate)} ${byWhom(req)}`;
      const after = deleted ? [] : await poolsOfUser(deps.sql, id).catch((err: unknown) => {
        req.log.warn({ err, why }, `the pools the user is in now could not be read; only those before the change are told (${why})`);
        return [];
      });
      await tellPools(deps.temporal.client, req.log, [...before, ...after], why);
      return payload;
    });
    const lastAdmin = (err: unknown): never => {
      throw err instanceof LastActiveAdminError ? conflict(LAST_ADMIN) : err;
    };
    // The auth plugin caches who a key is (role, sectors, active) for 10 s: a change to a user
    // reaches this instance's cache at once.
    const forget = (hashes: Buffer[]) => hashes.forEach((h) => app.forgetApiKey(h));
    const store: Store<z.output<typeof user>, z.output<typeof userCreate>, z.output<typeof userUpdate>, z.output<typeof userListQuery>> = {
      ...users,
      create: (sql, input) => users.create(sql, input),
      async update(sql, id, patch) {
        const changed = await users.update(sql, id, patch).catch(lastAdmin);
        forget(await keyHashesOf(sql, id));
        return changed;
      },
      async remove(sql, id) {
        const hashes = await keyHashesOf(sql, id);
        const removed = await users.remove(sql, id).catch(lastAdmin);
        forget(hashes);
        return removed;
      },
    };
    crudRoutes(app, {
      descriptions: DESCRIPTIONS,
      path: '/users',
      noun: 'user',
      tag: 'users',
      schemas: { entity: user, create: userCreate, update: userUpdate, listQuery: userListQuery },
      store,
      sql: deps.sql,
    });
  };
}
