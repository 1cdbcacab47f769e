import { z } from 'zod';
import { ROLES } from '../domain/roles.js';
import { SLA_UNITS } from '../domain/sla.js';

/**
 * The building blocks every resource schema is made of. Query and path values arrive as
 * strings: they are read strictly (`0x10`, `1e3` and a repeated parameter are errors, not
 * numbers), and every text has a length limit, so bad input is a 400 naming the field.
 */

const NO_NUL = (s: string) => !s.includes('\u0000');

/** A required text of at most `max` characters, trimmed, without NUL characters. */
export const text = (max: number) =>
  // The length is checked as sent (what the OpenAPI document promises), then the text is trimmed.
  z.string().max(max, `must be at most ${max} characters`).trim().min(1, 'must not be empty').refine(NO_NUL, 'must not contain NUL characters');

/** An optional free text (description, observation, note): empty becomes null. */
export const longText = (max = 5000) =>
  z.string().max(max, `must be at most ${max} characters`).refine(NO_NUL, 'must not contain NUL characters').transform((s) => s.trim() || null);

/** An id in a JSON body. */
export const id = z.number().int('must be a whole number').min(1, 'must be a positive id').max(Number.MAX_SAFE_INTEGER, 'is too large for an id');

const ONE_VALUE = 'give this parameter once';

/** A positive whole number in a path or query string, in decimal digits only. */
export const idParam = z
  .string({ error: (i) => (Array.isArray(i.input) ? ONE_VALUE : 'must be a positive whole number, e.g. 42') })
  .regex(/^[1-9]\d{0,15}$/, 'must be a positive whole number in decimal digits, e.g. 42')
  .transform(Number)
  .refine(Number.isSafeInteger, 'is too large');

/** A whole number between `min` and `max` in a query string. */
export const intParam = (min: number, max: number) =>
  z
    .string({ error: (i) => (Array.isArray(i.input) ? ONE_VALUE : `must be a whole number from ${min} to ${max}`) })
    .regex(/^\d{1,9}$/, `must be a whole number from ${min} to ${max}, in decimal digits`)
    .transform(Number)
    .refine((n) => n >= min && n <= max, `must be from ${min} to ${max}`);

/** `true` or `false` in a query string. */
export const boolParam = z
  .enum(['true', 'false'], { error: (i) => (Array.isArray(i.input) ? ONE_VALUE : 'must be true or false') })
  .transform((v) => v === 'true');

/** A text filter in a query string (matched as a case-insensitive substring). */
export const searchParam = z
  .string({ error: (i) => (Array.isArray(i.input) ? ONE_VALUE : 'must be text') })
  .max(200, 'must be at most 200 characters')
  .refine(NO_NUL, 'must not contain NUL characters');

/** A value of an enumeration in a query string. */
export const enumParam = <const T extends readonly [string, ...string[]]>(values: T) =>
  z.enum(values, { error: (i) => (Array.isArray(i.input) ? ONE_VALUE : `must be one of: ${values.join(', ')}`) });

/** Keyset pagination of configuration lists, oldest first: `after` is the previous page's `nextAfter`. */
export const pageQuery = z.strictObject({
  limit: intParam(1, 200).default(50).describe('page size, 1 to 200 (default 50)'),
  after: idParam.optional().describe('the `nextAfter` of the previous page'),
});
export type PageQuery = z.infer<typeof pageQuery>;

/** A page of a list; `nextAfter` is null on the last page. */
export const page = <T extends z.ZodType>(item: T) => z.object({ items: z.array(item), nextAfter: z.number().nullable() });

export const idPath = z.object({ id: idParam });

export const timestamp = z.iso.datetime({ offset: true });
export const date = z.iso.date();

export const slaUnit = z.enum(SLA_UNITS);
/** An e-mail address within RFC 5321's limits (local part 64, domain labels 63, whole 254 characters). */
export const emailAddress = z
  .email('must be an e-mail address')
  .max(254, 'must be at most 254 characters')
  .refine((a) => {
    const at = a.lastIndexOf('@');
    return at <= 64 && a.slice(at + 1).split('.').every((label) => label.length <= 63);
  }, 'must be an e-mail address (local part at most 64 characters, domain labels at most 63)');

export const role = z.enum(ROLES);

/** A reference to another resource, as entities show it. */
export const ref = z.object({ id: z.number(), name: z.string() });
