import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { jsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod';

/** OpenAPI 3.1 from the routes' zod schemas, served at /docs/json, browsable at /docs. */
export const openapiPlugin = fp(async (app: FastifyInstance) => {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'mailtrack API',
        version: '0.2.0',
        description:
          'E-mail-to-ticket process engine. Every route except /health, /ready and /docs needs `Authorization: Bearer <API key>`; ' +
          'a key acts as its user, with the user\'s role (admin, backoffice, agent). Errors are `application/problem+json` (RFC 9457). ' +
          'Lists are pages: pass `nextAfter` (or `nextBefore` for tickets and e-mails) back as `after` (`before`).',
      },
      components: { securitySchemes: { apiKey: { type: 'http', scheme: 'bearer', description: 'an API key, `mt_...`' } } },
    },
    transform: jsonSchemaTransform,
    transformObject: jsonSchemaTransformObject,
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
});
