import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyServerOptions } from 'fastify';
import { jsonSchemaTransform, serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Sql } from '../db/client.js';
import { errorsPlugin } from './plugins/errors.js';
import { emailRoutes } from './routes/emails.js';
import { healthRoutes } from './routes/health.js';
import { ticketRoutes } from './routes/tickets.js';

export interface AppDeps {
  sql: Sql;
}

/** External plugins, then app plugins, then routes (fastify/demo's order). */
export async function buildApp(deps: AppDeps, options: FastifyServerOptions = {}) {
  const app = Fastify(options).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);

  await app.register(swagger, {
    openapi: { info: { title: 'mailtrack API', description: 'E-mail-to-ticket process engine', version: '0.1.0' } },
    transform: jsonSchemaTransform,
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  await app.register(errorsPlugin);

  await app.register(healthRoutes(deps));
  await app.register(ticketRoutes(deps));
  await app.register(emailRoutes(deps));
  return app;
}
