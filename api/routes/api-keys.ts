import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { createKey, getKey, listKeys, revokeKey } from '../../db/api-keys.js';
import { ADMIN_ONLY, ANY_ROLE } from '../../domain/roles.js';
import { apiKey, apiKeyCreate, apiKeyListQuery, apiKeyPage, createdApiKey, me } from '../../schemas/api-keys.js';
import { idPath } from '../../schemas/common.js';
import type { AppDeps } from '../deps.js';
import { caller } from '../plugins/auth.js';
import { conflict, notFound } from '../plugins/errors.js';

/** API keys (admins manage every user's keys) and `/me`, which says who a key acts as. */
export function apiKeyRoutes(deps: AppDeps): FastifyPluginAsyncZod {
  return async (app) => {
    const tags = ['api keys'];
    app.get('/me', { config: { roles: ANY_ROLE }, schema: { summary: 'Who this API key acts as', tags, response: { 200: me } } }, (req) => caller(req));

    app.get('/api-keys', { config: { roles: ADMIN_ONLY }, schema: { summary: 'List API keys (never the keys themselves)', tags, querystring: apiKeyListQuery, response: { 200: apiKeyPage } } }, (req) =>
      listKeys(deps.sql, req.query),
    );

    app.get('/api-keys/:id', { config: { roles: ADMIN_ONLY }, schema: { summary: 'One API key', tags, params: idPath, response: { 200: apiKey } } }, async (req) => {
      return (await getKey(deps.sql, req.params.id)) ?? Promise.reject(notFound(`There is no API key with id ${req.params.id}.`));
    });

    app.post(
      '/api-keys',
      {
        config: { roles: ADMIN_ONLY },
        schema: { summary: 'Create an API key for a user; the key is in this answer only', tags, body: apiKeyCreate, response: { 201: createdApiKey } },
      },
      async (req, reply) => reply.code(201).send(await createKey(deps.sql, req.body.userId ?? caller(req).id, req.body.name)),
    );

    app.delete(
      '/api-keys/:id',
      { config: { roles: ADMIN_ONLY }, schema: { summary: 'Revoke an API key (at once; the record stays for audit)', tags, params: idPath, response: { 204: z.null() } } },
      async (req, reply) => {
        // The key this request is made with stays: revoking it would lock its caller out mid-session.
        if (req.params.id === caller(req).keyId) throw conflict('This is the key you are using; revoke it with another admin key.');
        const revoked = await revokeKey(deps.sql, req.params.id);
        if (!revoked) throw notFound(`There is no API key with id ${req.params.id}.`);
        app.forgetApiKey(revoked.hash);
        return reply.code(204).send(null);
      },
    );
  };
}
