import Fastify, { type FastifyServerOptions } from 'fastify';
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import type { AppDeps } from './deps.js';
import { authPlugin } from './plugins/auth.js';
import { errorsPlugin } from './plugins/errors.js';
import { openapiPlugin } from './plugins/openapi.js';
import { serverErrorOptions } from './plugins/server-errors.js';
import { apiKeyRoutes } from './routes/api-keys.js';
import { usersRoutes } from './routes/users.js';
import { solutionGroupsRoutes } from './routes/solution-groups.js';
import { customerTypesRoutes } from './routes/customer-types.js';
import { regionsRoutes } from './routes/regions.js';
import { calendarsRoutes } from './routes/calendars.js';
import { occurrenceTypesRoutes } from './routes/occurrence-types.js';
import { occurrencesRoutes } from './routes/occurrences.js';
import { solutionsRoutes } from './routes/solutions.js';
import { alertsRoutes } from './routes/alerts.js';
import { mailboxesRoutes } from './routes/mailboxes.js';
import { contractsRoutes } from './routes/contracts.js';
import { customersRoutes } from './routes/customers.js';
import { ticketFiltersRoutes } from './routes/ticket-filters.js';
import { emailRoutes } from './routes/emails.js';
import { preTicketRoutes } from './routes/pre-tickets.js';
import { inboundRoutes } from './routes/inbound.js';
import { healthRoutes } from './routes/health.js';
import { sectorRoutes } from './routes/sectors.js';
import { ticketRoutes } from './routes/tickets.js';
import { ticketActionRoutes } from './routes/ticket-actions.js';
import { stepRoutes } from './routes/steps.js';

/** Every resource's routes, in the order the OpenAPI document lists them. */
const ROUTES = [
  healthRoutes,
  apiKeyRoutes,
  sectorRoutes,
  usersRoutes,
  solutionGroupsRoutes,
  customerTypesRoutes,
  regionsRoutes,
  calendarsRoutes,
  occurrenceTypesRoutes,
  occurrencesRoutes,
  solutionsRoutes,
  alertsRoutes,
  mailboxesRoutes,
  customersRoutes,
  contractsRoutes,
  ticketRoutes,
  ticketActionRoutes,
  stepRoutes,
  ticketFiltersRoutes,
  emailRoutes,
  preTicketRoutes,
  inboundRoutes,
];

/** External plugins, then app plugins, then routes (fastify/demo's order). */
export async function buildApp(deps: AppDeps, options: FastifyServerOptions = {}) {
  const app = Fastify({ ...serverErrorOptions, ...options }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);

  await app.register(openapiPlugin);
  await app.register(errorsPlugin, { sql: deps.sql });
  await app.register(authPlugin, { sql: deps.sql });
  for (const routes of ROUTES) await app.register(routes(deps));
  return app;
}

export type App = Awaited<ReturnType<typeof buildApp>>;
