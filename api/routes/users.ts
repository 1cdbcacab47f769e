import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { z } from 'zod';
import { isPostgresError, noun } from '../../db/constraint-errors.js';
import { keyHashesOf, LastActiveAdminError, users } from '../../db/users.js';
import { user, userCreate, userListQuery, userUpdate, type UserUpdate } from '../../schemas/users.js';
import { crudRoutes, type Store } from '../crud-routes.js';
import type { AppDeps } from '../deps.js';
import { caller } from '../plugins/auth.js';
import { badRequest, conflict } from '../plugins/errors.js';

/** What the API docs say about these routes, besides the schemas (decisions the spec leaves open). */
const DESCRIPTIONS: Record<string, string> = {
  'GET /users': 'Filters: `q` (part of the login or the name, any case), `role`, `sectorId`, `active`, `available`; in registration order (oldest first).',
  'POST /users':
    'The login is unique whatever its case (409 naming `login`). `registrationOrder` is given by the server: the order of creation, never changed. ' +
    'A sector in `sectorIds` that does not exist is a 400 naming `body.sectorIds`. A new user has no API key: create one with POST /api-keys.',
  'PATCH /users/:id':
    '`sectorIds` replaces the whole list. The registration order never changes. ' +
    'You cannot deactivate yourself or take away your own admin role (409: another admin must), and no change may leave no active admin (409). ' +
    'A change of role, sectors or `active` applies to the user\'s API keys at once (within 10 s on other API instances).',
  'DELETE /users/:id':
    'A user that tickets, mailboxes or anything else still name cannot be deleted (409 naming what uses them): deactivate instead (active=false), ' +
    'which keeps their history and stops their API keys. Deleting a user removes their sector and group memberships and API keys. ' +
    'You cannot delete yourself, and the last active admin cannot be deleted (409).',
};

const LAST_ADMIN = 'This would leave no active admin, and nobody could configure anything any more: make another user an active admin first.';

/**
 * Turns the database's "no such row" for a child table (user_sector, solution_group_member)
 * into a 400 naming the list field of the body, e.g. `body.sectorIds`.
 */
export function namingListField(table: string, field: string) {
  return (err: unknown): never => {
    if (isPostgresError(err) && err.code === '23503' && err.table_name === table) {
      const m = /^Key \(.+?\)=\((.*)\) is not present in table "(.+)"\.$/s.exec(err.detail ?? '');
      if (m) throw badRequest(field, `there is no ${noun(m[2]!)} with id ${m[1]}`);
    }
    throw err;
  };
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
    const sectorsNamed = namingListField('user_sector', 'body.sectorIds');
    const lastAdmin = (err: unknown): never => {
      throw err instanceof LastActiveAdminError ? conflict(LAST_ADMIN) : err;
    };
    // The auth plugin caches who a key is (role, sectors, active) for 10 s: a change to a user
    // reaches this instance's cache at once.
    const forget = (hashes: Buffer[]) => hashes.forEach((h) => app.forgetApiKey(h));
    const store: Store<z.output<typeof user>, z.output<typeof userCreate>, z.output<typeof userUpdate>, z.output<typeof userListQuery>> = {
      ...users,
      create: (sql, input) => users.create(sql, input).catch(sectorsNamed),
      async update(sql, id, patch) {
        const changed = await users.update(sql, id, patch).catch(sectorsNamed).catch(lastAdmin);
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
