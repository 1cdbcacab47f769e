import { z } from 'zod';
import { ROLES } from '../domain/roles.js';
import { boolParam, emailAddress, enumParam, id, idParam, pageQuery, role, searchParam, text, timestamp } from './common.js';

/** A user: an admin, a BackOffice staff member or an agent, in one or more sectors (SPEC §3). */
export const user = z
  .object({
    id: z.number(),
    login: z.string(),
    name: z.string(),
    email: z.string().nullable(),
    role,
    sectorIds: z.array(z.number()).describe('in id order'),
    active: z.boolean().describe('false = deactivated: the user\'s API keys stop working'),
    available: z.boolean().describe('false = on pause: no new tickets are distributed to the user'),
    registrationOrder: z.number().describe('the order in which users were created, stable forever; set by the server, never changed'),
    createdAt: timestamp,
  })
  .meta({ id: 'User' });

export const login = z
  .string()
  .min(1, 'must not be empty')
  .max(100, 'must be at most 100 characters')
  .regex(/^[A-Za-z0-9._@-]*$/, 'may contain only letters a-z and A-Z, digits, and . _ - @')
  .describe('unique, whatever the case (`JSilva` and `jsilva` are the same login); 1 to 100 letters, digits, `.`, `_`, `-`, `@`');

export const userCreate = z.strictObject({
  login,
  name: text(200),
  email: emailAddress.nullable().optional(),
  role,
  sectorIds: z.array(id).max(200, 'must list at most 200 sectors').optional().describe('default none; a sector listed twice counts once'),
  active: z.boolean().optional().describe('default true'),
  available: z.boolean().optional().describe('default true'),
});
/** Every field may change but the registration order, which is not a field anyone writes. */
export const userUpdate = userCreate.partial();
export const userListQuery = pageQuery.extend({
  q: searchParam.optional().describe('part of the login or of the name, any case'),
  role: enumParam(ROLES).optional(),
  sectorId: idParam.optional().describe('users in this sector'),
  active: boolParam.optional(),
  available: boolParam.optional(),
});

export type User = z.infer<typeof user>;
export type UserCreate = z.infer<typeof userCreate>;
export type UserUpdate = z.infer<typeof userUpdate>;
export type UserListQuery = z.infer<typeof userListQuery>;
