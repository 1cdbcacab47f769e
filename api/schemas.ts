import { z } from 'zod';

/** RFC 9457 problem details: the one error format of the API. */
export const problem = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number(),
    detail: z.string().describe('what went wrong and what to do about it'),
    errors: z.array(z.object({ field: z.string(), message: z.string() })).optional().describe('each field that is wrong, e.g. `body.name`'),
  })
  .meta({ id: 'Problem' });

const problemContent = { description: 'a problem', content: { 'application/problem+json': { schema: problem } } };

/** The error responses a route can give, as the OpenAPI document shows them. */
export function problemResponses(route: { method: string | string[]; url: string; public: boolean }) {
  const methods = [route.method].flat();
  const writes = methods.some((m) => ['POST', 'PUT', 'PATCH'].includes(m));
  const params = /[:*]/.test(route.url);
  const codes = [
    400,
    ...(route.public ? [] : [401, 403]),
    ...(params || !route.public ? [404] : []),
    ...(writes || methods.includes('DELETE') ? [409] : []),
    ...(writes ? [413, 415] : []),
    ...(params ? [414] : []),
  ];
  return Object.fromEntries(codes.map((c) => [c, problemContent]));
}
