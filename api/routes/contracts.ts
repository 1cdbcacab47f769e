import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { contracts } from '../../db/contracts.js';
import { defined } from '../../db/crud.js';
import { customers } from '../../db/customers.js';
import { ADMIN_ONLY, ANY_ROLE } from '../../domain/roles.js';
import { idPath } from '../../schemas/common.js';
import { contract, contractCreate, contractListQuery, contractPage, contractProblems, contractUpdate } from '../../schemas/contracts.js';
import type { AppDeps } from '../deps.js';
import { replanTickets } from '../sla-sources.js';
import { HttpProblem, notFound } from '../plugins/errors.js';

const noCustomer = (id: number) => notFound(`There is no customer with id ${id}.`);
const noContract = (id: number) => notFound(`There is no contract with id ${id}.`);

/** A customer's contracts (SPEC §3, seed 002): listed and added under the customer, read, changed and deleted by id. */
export function contractsRoutes(deps: AppDeps): FastifyPluginAsyncZod {
  return async (app) => {
    const { sql } = deps;
    const existing = async (id: number) => (await customers.get(sql, id)) ?? Promise.reject(noCustomer(id));
    /** The customer's live tickets re-plan their SLA (an SLA package may apply or stop applying). */
    const tellTickets = (customerId: number, why: string) => replanTickets(app.log, deps, { customerId }, why);

    const contractTags = ['contracts'];
    const contractRules =
      'Rules: `endsOn` is not before `startsOn`; the SLA package is `slaValue` + `slaUnit`, both or neither; `number` is unique across all customers (409). ' +
      "`validToday` (today, by the database's date, is within startsOn..endsOn) and `inForce` (active and valid today: its SLA package overrides the occurrence SLA on the customer's tickets) are computed on every read. " +
      'Reading is open to every role; changing contracts is for admins, since their SLA packages change service levels.';

    app.get(
      '/customers/:id/contracts',
      {
        config: { roles: ANY_ROLE },
        schema: { summary: "List a customer's contracts", description: contractRules, tags: contractTags, params: idPath, querystring: contractListQuery, response: { 200: contractPage } },
      },
      async (req) => {
        await existing(req.params.id);
        return contracts.list(sql, req.params.id, req.query);
      },
    );

    app.post(
      '/customers/:id/contracts',
      {
        config: { roles: ADMIN_ONLY },
        schema: { summary: 'Add a contract to a customer', description: contractRules, tags: contractTags, params: idPath, body: contractCreate, response: { 201: contract } },
      },
      async (req, reply) => {
        await existing(req.params.id);
        const created = await contracts.create(sql, req.params.id, req.body);
        await tellTickets(req.params.id, `contract ${created.number} was added`);
        return reply.code(201).send(created);
      },
    );

    app.get('/contracts/:id', { config: { roles: ANY_ROLE }, schema: { summary: 'One contract', tags: contractTags, params: idPath, response: { 200: contract } } }, async (req) => {
      return (await contracts.get(sql, req.params.id)) ?? Promise.reject(noContract(req.params.id));
    });

    app.patch(
      '/contracts/:id',
      {
        config: { roles: ADMIN_ONLY },
        schema: {
          summary: 'Change a contract (only the fields given)',
          description: `${contractRules} The rules are checked against the contract as it will be after the change.`,
          tags: contractTags,
          params: idPath,
          body: contractUpdate,
          response: { 200: contract },
        },
      },
      async (req) => {
        const current = await contracts.get(sql, req.params.id);
        if (!current) throw noContract(req.params.id);
        const problems = contractProblems({ ...current, ...defined(req.body) });
        if (problems.length > 0) {
          const errors = problems.map((p) => ({ field: `body.${p.field}`, message: p.message }));
          throw new HttpProblem(400, 'Bad Request', errors.map((e) => `${e.field}: ${e.message}`).join('; '), errors);
        }
        const updated = (await contracts.update(sql, req.params.id, req.body)) ?? Promise.reject(noContract(req.params.id));
        await tellTickets(current.customerId, `contract ${current.number} was changed`);
        return updated;
      },
    );

    app.delete(
      '/contracts/:id',
      { config: { roles: ADMIN_ONLY }, schema: { summary: 'Delete a contract', tags: contractTags, params: idPath, response: { 204: z.null().describe('deleted') } } },
      async (req, reply) => {
        const current = await contracts.get(sql, req.params.id);
        if (!current || !(await contracts.remove(sql, req.params.id))) throw noContract(req.params.id);
        await tellTickets(current.customerId, `contract ${current.number} was deleted`);
        return reply.code(204).send(null);
      },
    );
  };
}
