import { z } from 'zod';

export const idParam = z.coerce.number().int().positive();

/** Keyset pagination shared by every list: `before` is the `nextBefore` of the previous page. */
export const pageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  before: idParam.optional(),
});

const problem = z.object({
  type: z.string(),
  title: z.string(),
  status: z.number(),
  detail: z.string(),
  errors: z.array(z.object({ field: z.string(), message: z.string() })).optional(),
});

const problemContent = { content: { 'application/problem+json': { schema: problem } } };

/** Error responses as the OpenAPI document shows them: RFC 9457 problem details. */
export const problemResponses = { 400: problemContent, 404: problemContent };
