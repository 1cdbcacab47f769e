import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { AppDeps } from '../deps.js';

export function solutionGroupsRoutes(_deps: AppDeps): FastifyPluginAsyncZod {
  return async () => {};
}
