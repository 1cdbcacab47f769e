import { z } from 'zod';
import { id, idParam, page, pageQuery, role, text, timestamp } from './common.js';

/** An API key as lists show it: never the key itself, only its first characters. */
export const apiKey = z
  .object({
    id: z.number(),
    name: z.string(),
    userId: z.number(),
    prefix: z.string().describe('the first characters of the key, to recognise it'),
    createdAt: timestamp,
    lastUsedAt: timestamp.nullable().describe('to the minute'),
    revokedAt: timestamp.nullable(),
  })
  .meta({ id: 'ApiKey' });

export const apiKeyCreate = z.strictObject({
  name: text(200).describe('what the key is for, e.g. "CRM integration"'),
  userId: id.optional().describe('the user the key acts as (default: you); the key has that user\'s role'),
});

/** The answer to a create: the only time the key is shown. */
export const createdApiKey = apiKey.extend({ key: z.string().describe('shown once: store it now') }).meta({ id: 'CreatedApiKey' });

export const apiKeyListQuery = pageQuery.extend({ userId: idParam.optional() });
export const apiKeyPage = page(apiKey);

/** Who the caller is. */
export const me = z
  .object({ id: z.number(), login: z.string(), name: z.string(), role, sectorIds: z.array(z.number()) })
  .meta({ id: 'Me' });

export type ApiKey = z.infer<typeof apiKey>;
export type ApiKeyListQuery = z.infer<typeof apiKeyListQuery>;
export type Me = z.infer<typeof me>;
