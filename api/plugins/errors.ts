import { STATUS_CODES } from 'node:http';
import type { FastifyError, FastifyInstance, FastifyReply } from 'fastify';
import fp from 'fastify-plugin';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';

/** RFC 9457 problem details; the one error format of the API. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  errors?: { field: string; message: string }[];
}

export class HttpProblem extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    detail: string,
  ) {
    super(detail);
  }
}

export const notFound = (detail: string) => new HttpProblem(404, 'Not Found', detail);

function send(reply: FastifyReply, p: Problem) {
  return reply.code(p.status).type('application/problem+json').send(p);
}

export const errorsPlugin = fp(async (app: FastifyInstance) => {
  // Which methods each path answers, so a known path with another method gets 405, not 404.
  const routes: { pattern: RegExp; methods: string[] }[] = [];
  app.addHook('onRoute', (route) => {
    const pattern = new RegExp(`^${route.url.replace(/:[^/]+/g, '[^/]+').replace(/\*/g, '.*')}/?$`);
    routes.push({ pattern, methods: [route.method].flat() });
  });
  app.setNotFoundHandler((req, reply) => {
    const path = req.url.split('?')[0] ?? '/';
    const allowed = [...new Set(routes.filter((r) => r.pattern.test(path)).flatMap((r) => r.methods))];
    if (allowed.length > 0) {
      reply.header('allow', allowed.join(', '));
      return send(reply, { type: 'about:blank', title: 'Method Not Allowed', status: 405, detail: `${path} answers ${allowed.join(', ')}, not ${req.method}.` });
    }
    return send(reply, { type: 'about:blank', title: 'Not Found', status: 404, detail: `There is no route ${req.method} ${path}. See /docs for the API.` });
  });
  app.setErrorHandler((err: FastifyError, req, reply) => {
    if (hasZodFastifySchemaValidationErrors(err)) {
      const errors = err.validation.map((v) => ({
        field: [err.validationContext, ...v.instancePath.split('/').filter(Boolean)].join('.'),
        message: v.message ?? 'is invalid',
      }));
      return send(reply, {
        type: 'about:blank',
        title: 'Bad Request',
        status: 400,
        detail: errors.map((e) => `${e.field}: ${e.message}`).join('; '),
        errors,
      });
    }
    if (err instanceof HttpProblem) return send(reply, { type: 'about:blank', title: err.title, status: err.status, detail: err.message });
    if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) {
      return send(reply, { type: 'about:blank', title: STATUS_CODES[err.statusCode] ?? 'Bad Request', status: err.statusCode, detail: err.message });
    }
    req.log.error({ err }, 'unhandled error');
    return send(reply, { type: 'about:blank', title: 'Internal Server Error', status: 500, detail: 'Something went wrong on our side; the error is logged with this request id: ' + req.id });
  });
});
