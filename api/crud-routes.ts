import type { FastifyInstance, FastifyReply, FastifySchema, HTTPMethods, RouteHandlerMethod } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Queryable } from '../db/client.js';
import type { Page, PageOptions } from '../db/crud.js';
import { ADMIN_ONLY, ANY_ROLE, type Role } from '../domain/roles.js';
import { idPath, page } from '../schemas/common.js';
import { notFound } from './plugins/errors.js';

type App = FastifyInstance<any, any, any, any, ZodTypeProvider>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** What a resource's routes need from its store (db/crud.ts `tableStore`, or one written by hand). */
export interface Store<E, C, U, Q> {
  list(sql: Queryable, q: Q): Promise<Page<E>>;
  get(sql: Queryable, id: number): Promise<E | undefined>;
  create(sql: Queryable, input: C): Promise<E>;
  update(sql: Queryable, id: number, patch: U): Promise<E | undefined>;
  remove(sql: Queryable, id: number): Promise<boolean>;
}

export interface Resource<E extends z.ZodType, C extends z.ZodType, U extends z.ZodType, Q extends z.ZodType> {
  /** `/sectors` */
  path: string;
  /** `sector`, as messages say it */
  noun: string;
  /** OpenAPI tag */
  tag: string;
  schemas: { entity: E; create: C; update: U; listQuery: Q };
  store: Store<z.output<E>, z.output<C>, z.output<U>, z.output<Q>>;
  sql: Queryable;
  roles?: { read?: readonly Role[]; write?: readonly Role[] };
  /** Runs before create and update (cross-field rules, e.g. SPEC §3 for mailboxes); throws an HttpProblem to refuse. */
  check?: (input: z.output<C> | z.output<U>, id?: number) => Promise<void>;
  /** What the API docs say of a route besides its schemas (the decisions), keyed `METHOD /path`, e.g. `DELETE /sectors/:id`. */
  descriptions?: Record<string, string>;
  /** Called after every change with the changed entity (or the id of a deleted one). */
  changed?: (e: { entity?: z.output<E>; id: number; deleted?: boolean }) => Promise<void>;
}

/**
 * The five routes of a configuration resource: list (filters + `after`/`limit`), read,
 * create, change (PATCH: only the fields given), delete (refused with 409 and what uses it
 * while something does). Reading is open to every role, changing to admins, unless said.
 */
export function crudRoutes<E extends z.ZodType, C extends z.ZodType, U extends z.ZodType, Q extends z.ZodType & { _zod: { output: PageOptions } }>(
  typedApp: App,
  r: Resource<E, C, U, Q>,
): void {
  // The zod type provider cannot follow generic schemas; the schemas still validate and serialize.
  const app = typedApp as unknown as FastifyInstance;
  type Req = { params: { id: number }; query: z.output<Q>; body: unknown };
  const route = (method: HTTPMethods, url: string, roles: readonly Role[], schema: FastifySchema, handler: (req: Req, reply: FastifyReply) => Promise<unknown>) =>
    app.route({
      method,
      url,
      config: { roles },
      schema: { tags: [r.tag], ...schema, description: [r.descriptions?.[`${method} ${url}`], schema.description].filter(Boolean).join('\n\n') || undefined },
      handler: handler as unknown as RouteHandlerMethod,
    });
  const read = r.roles?.read ?? ANY_ROLE;
  const write = r.roles?.write ?? ADMIN_ONLY;
  const missing = (id: number) => notFound(`There is no ${r.noun} with id ${id}.`);
  const found = async (id: number) => (await r.store.get(r.sql, id)) ?? Promise.reject(missing(id));

  route('GET', r.path, read, { summary: `List ${r.tag}`, querystring: r.schemas.listQuery, response: { 200: page(r.schemas.entity) } }, (req) => r.store.list(r.sql, req.query));

  route('GET', `${r.path}/:id`, read, { summary: `One ${r.noun}`, params: idPath, response: { 200: r.schemas.entity } }, (req) => found(req.params.id));

  route('POST', r.path, write, { summary: `Create a ${r.noun}`, body: r.schemas.create, response: { 201: r.schemas.entity } }, async (req, reply) => {
    const input = req.body as z.output<C>;
    await r.check?.(input);
    const entity = await r.store.create(r.sql, input);
    await r.changed?.({ entity, id: (entity as { id: number }).id });
    return reply.code(201).send(entity);
  });

  route('PATCH', `${r.path}/:id`, write, { summary: `Change a ${r.noun} (only the fields given)`, params: idPath, body: r.schemas.update, response: { 200: r.schemas.entity } }, async (req) => {
    const patch = req.body as z.output<U>;
    await found(req.params.id);
    await r.check?.(patch, req.params.id);
    const entity = await r.store.update(r.sql, req.params.id, patch);
    if (!entity) throw missing(req.params.id);
    await r.changed?.({ entity, id: req.params.id });
    return entity;
  });

  route(
    'DELETE',
    `${r.path}/:id`,
    write,
    { summary: `Delete a ${r.noun}`, description: `Refused (409) while something uses the ${r.noun}.`, params: idPath, response: { 204: z.null().describe('deleted') } },
    async (req, reply) => {
      if (!(await r.store.remove(r.sql, req.params.id))) throw missing(req.params.id);
      await r.changed?.({ id: req.params.id, deleted: true });
      return reply.code(204).send(null);
    },
  );
}
