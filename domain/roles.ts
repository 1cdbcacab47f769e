/**
 * The three roles of SPEC §10: admins configure everything, BackOffice staff act on the steps
 * of their sectors, agents act on tickets.
 */
export const ROLES = ['admin', 'backoffice', 'agent'] as const;
export type Role = (typeof ROLES)[number];

/** Every role: for what any signed-in user may do (read configuration, read tickets). */
export const ANY_ROLE: readonly Role[] = ROLES;
export const ADMIN_ONLY: readonly Role[] = ['admin'];
/** Who works tickets and customers: admins and agents. */
export const TICKET_ROLES: readonly Role[] = ['admin', 'agent'];
