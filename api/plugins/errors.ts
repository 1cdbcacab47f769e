import { STATUS_CODES } from 'node:http';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import type { Sql } from '../../db/client.js';
import { constraintProblem, type ConstraintProblem } from '../../db/constraint-errors.js';
import { problemResponses } from '../schemas.js';

/** RFC 9457 problem details; the one error format of the API. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  errors?: { field: string; message: string }[];
}

/** An error a route throws to answer with a problem: the one typed error of the API. */
export class HttpProblem extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    detail: string,
    readonly errors?: { field: string; message: string }[],
  ) {
    super(detail);
  }
}

export const notFound = (detail: string) => new HttpProblem(404, 'Not Found', detail);
export const conflict = (detail: string) => new HttpProblem(409, 'Conflict', detail);
/** A request that is well-formed but names something that does not fit (SPEC §3 rules). */
export const badRequest = (field: string, message: string) => new HttpProblem(400, 'Bad Request', `${field}: ${message}`, [{ field, message }]);

export function sendProblem(reply: FastifyReply, p: Omit<Problem, 'type' | 'title'> & { title?: string }) {
  return reply
    .code(p.status)
    .type('application/problem+json')
    .send({ type: 'about:blank', title: p.title ?? STATUS_CODES[p.status] ?? 'Error', ...p });
}

/** A database constraint's verdict in a person's words (409 for conflicts, 400 for bad values). */
function fromConstraint(c: ConstraintProblem): HttpProblem {
  switch (c.kind) {
    case 'duplicate': {
      const fields = c.fields.map((f) => `body.${f}`);
      const message = `is already taken (${c.values})`;
      return new HttpProblem(409, 'Conflict', `${c.fields.join(' + ')} ${message}: choose another.`, fields.map((field) => ({ field, message })));
    }
    case 'missing-reference':
      return badRequest(`body.${c.field}`, `there is no ${c.noun} with id ${c.value}`);
    case 'in-use':
      return conflict(`The ${c.noun} ${c.id} is in use by ${c.usedBy.join(', ')}; change or remove those first.`);
    case 'invalid':
      return new HttpProblem(400, 'Bad Request', `The database refused a value: ${c.detail}`);
  }
}

export const errorsPlugin = fp(async (app: FastifyInstance, deps: { sql: Sql }) => {
  // Which methods each path answers, so a known path with another method gets 405, not 404.
  const routes: { pattern: RegExp; methods: string[] }[] = [];
  app.addHook('onRoute', (route) => {
    const pattern = new RegExp(`^${route.url.replace(/:[^/]+/g, '[^/]+').replace(/\*/g, '.*')}/?$`);
    routes.push({ pattern, methods: [route.method].flat() });
    if (route.url.startsWith('/docs')) return;
    route.schema = {
      ...route.schema,
      response: { ...problemResponses({ method: route.method, url: route.url, public: route.config?.public === true }), ...(route.schema?.response as object) },
    };
  });
  const noRoute = (req: FastifyRequest, reply: FastifyReply) => {
    const path = req.url.split('?')[0] ?? '/';
    const allowed = [...new Set(routes.filter((r) => r.pattern.test(path)).flatMap((r) => r.methods))];
    if (allowed.length > 0) {
      reply.header('allow', allowed.join(', '));
      return sendProblem(reply, { status: 405, detail: `${path} answers ${allowed.join(', ')}, not ${req.method}.` });
    }
    return sendProblem(reply, { status: 404, detail: `There is no route ${req.method} ${path}. See /docs for the API.` });
  };
  app.setNotFoundHandler(noRoute);
  app.setErrorHandler(async (err: FastifyError, req, reply) => {
    // A method no route answers, refused while its body was read (QUERY without a content type).
    if (req.routeOptions.url === undefined) return noRoute(req, reply);
    if (hasZodFastifySchemaValidationErrors(err)) {
      const errors = err.validation.flatMap((v) => {
        const field = [err.validationContext, ...v.instancePath.split('/').filter(Boolean)].join('.');
        const params = v.params as { keys?: string[]; input?: unknown } | undefined;
        // Name each unknown field, and say "is required" rather than "received undefined".
        if (v.keyword === 'unrecognized_keys' && params?.keys) return params.keys.map((k) => ({ field: `${field}.${k}`, message: 'is not known here; see /docs' }));
        if (v.keyword === 'invalid_type' && /received undefined$/.test(v.message ?? '')) return [{ field, message: 'is required' }];
        return [{ field, message: v.message ?? 'is invalid' }];
      });
      return sendProblem(reply, { status: 400, detail: errors.map((e) => `${e.field}: ${e.message}`).join('; '), errors });
    }
    const known = err instanceof HttpProblem ? err : await constraintProblem(deps.sql, err).then((c) => c && fromConstraint(c));
    if (known) {
      req.log.info({ status: known.status, detail: known.message }, 'request refused');
      return sendProblem(reply, { status: known.status, title: known.title, detail: known.message, ...(known.errors ? { errors: known.errors } : {}) });
    }
    if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) {
      return sendProblem(reply, { status: err.statusCode, detail: err.message });
    }
    req.log.error({ err }, 'unhandled error');
    return sendProblem(reply, { status: 500, detail: `Something went wrong on our side; the error is logged with this request id: ${req.id}` });
  });
});
