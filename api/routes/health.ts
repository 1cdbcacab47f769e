import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppDeps } from '../app.js';

export function healthRoutes(deps: AppDeps): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/health',
      { schema: { summary: 'Liveness and database reachability', tags: ['health'], response: { 200: z.object({ status: z.literal('ok') }) } } },
      async () => {
        await deps.sql`SELECT 1`;
        return { status: 'ok' as const };
      },
    );
  };
}
