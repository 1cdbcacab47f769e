import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { authenticate, keyHash, type Caller } from '../../db/api-keys.js';
import type { Role } from '../../domain/roles.js';
import type { AppDeps } from '../deps.js';
import { HttpProblem } from './errors.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** No key needed (health, readiness, docs). */
    public?: boolean;
    /** The roles that may call the route; every other route must say. */
    roles?: readonly Role[];
  }
  interface FastifyRequest {
    /** The caller, set for every route that is not public. */
    me: Caller;
  }
}

/** The caller of a non-public route (set by the auth plugin before the handler runs). */
export function caller(req: FastifyRequest): Caller {
  return req.me;
}

const CACHE_MS = 10_000;

const unauthorized = (detail: string) => new HttpProblem(401, 'Unauthorized', detail);

/**
 * Bearer API keys (SPEC §10). A key is looked up by its SHA-256 and cached for 10 s, so a
 * revocation takes effect at once on the instance that revoked it and within 10 s on others.
 */
export const authPlugin = fp(async (app: FastifyInstance, deps: Pick<AppDeps, 'sql'>) => {
  const cache = new Map<string, { me: Caller | undefined; at: number }>();
  app.decorate('forgetApiKey', (hash: Buffer) => void cache.delete(hash.toString('hex')));
  app.decorateRequest('me', null as unknown as Caller);

  const access: RouteAccess[] = [];
  app.decorate('routeAccess', access);
  app.addHook('onRoute', (route) => {
    const config = route.config as { public?: boolean; roles?: readonly Role[] } | undefined;
    const methods = [route.method].flat().filter((m) => m !== 'HEAD');
    if (config?.public || route.url.startsWith('/docs')) {
      route.config = { ...route.config, public: true };
      for (const method of methods) access.push({ method, url: route.url, roles: 'public' });
      return;
    }
    if (!config?.roles?.length) throw new Error(`route ${route.method} ${route.url} says neither config.roles nor config.public`);
    for (const method of methods) access.push({ method, url: route.url, roles: config.roles });
    route.schema = {
      ...route.schema,
      security: [{ apiKey: [] }],
      description: [route.schema?.description, `Roles: ${config.roles.join(', ')}.`].filter(Boolean).join('\n\n'),
    };
  });

  app.addHook('onRequest', async (req) => {
    const config = req.routeOptions.config;
    if (config.public || !config.roles) return;
    const header = req.headers.authorization;
    if (!header) throw unauthorized('This route needs an API key: send `Authorization: Bearer <key>`.');
    const match = /^Bearer +(\S+)$/i.exec(header);
    if (!match) throw unauthorized('The Authorization header must be `Bearer <key>`.');
    const hash = keyHash(match[1]!);
    const cacheKey = hash.toString('hex');
    let entry = cache.get(cacheKey);
    if (!entry || Date.now() - entry.at > CACHE_MS) {
      entry = { me: await authenticate(deps.sql, hash), at: Date.now() };
      cache.set(cacheKey, entry);
      if (cache.size > 10_000) cache.delete(cache.keys().next().value!);
    }
    if (!entry.me) throw unauthorized('This API key is not valid: it is unknown, revoked, or its user is inactive.');
    if (!config.roles.includes(entry.me.role)) {
      throw new HttpProblem(403, 'Forbidden', `This needs the role ${config.roles.join(' or ')}; your key acts as ${entry.me.login} (${entry.me.role}).`);
    }
    req.me = entry.me;
  });
});

/** Who may call a route: how the role table test finds every route. */
export interface RouteAccess {
  method: string;
  url: string;
  roles: readonly Role[] | 'public';
}

declare module 'fastify' {
  interface FastifyInstance {
    routeAccess: RouteAccess[];
    /** Drops a revoked key from this instance's cache at once. */
    forgetApiKey(hash: Buffer): void;
  }
}
