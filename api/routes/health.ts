import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppDeps } from '../deps.js';

const within = <T>(ms: number, p: Promise<T>) =>
  Promise.race([p, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms).unref())]);

/** `/health`: the process answers. `/ready`: PostgreSQL and Temporal answer too (else 503 naming which). */
export function healthRoutes(deps: AppDeps): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/health',
      { config: { public: true }, schema: { summary: 'Liveness: the API process answers', tags: ['health'], response: { 200: z.object({ status: z.literal('ok') }) } } },
      async () => ({ status: 'ok' as const }),
    );

    const dependency = z.object({ ok: z.boolean(), error: z.string().optional() });
    const readiness = z.object({ status: z.literal('ready'), postgres: dependency, temporal: dependency });
    app.get(
      '/ready',
      {
        config: { public: true },
        schema: {
          summary: 'Readiness: PostgreSQL and Temporal are reachable',
          tags: ['health'],
          response: { 200: readiness, 503: { description: 'a dependency is unreachable', content: { 'application/problem+json': { schema: readiness.extend({ type: z.string(), title: z.string(), status: z.number(), detail: z.string() }) } } } },
        },
      },
      async (_req, reply) => {
        const check = (p: Promise<unknown>) => within(3000, p).then(() => ({ ok: true }), (err: unknown) => ({ ok: false, error: err instanceof Error ? err.message : String(err) }));
        const [postgres, temporal] = await Promise.all([check(deps.sql`SELECT 1`), check(deps.temporal.client.connection.workflowService.getSystemInfo({}))]);
        if (postgres.ok && temporal.ok) return { status: 'ready' as const, postgres, temporal };
        const down = [!postgres.ok && 'PostgreSQL', !temporal.ok && 'Temporal'].filter(Boolean).join(' and ');
        const body = { type: 'about:blank', title: 'Service Unavailable', status: 503, detail: `${down} cannot be reached.`, postgres, temporal };
        return reply.code(503).type('application/problem+json').send(body);
      },
    );
  };
}
