import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { AppDeps } from '../deps.js';

export function usersRoutes(_deps: AppDeps): FastifyPluginAsyncZod {
  return async () => {};
}
