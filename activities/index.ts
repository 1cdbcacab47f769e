import type { SecretBox } from '../config/secret-box.js';
import type { Sql } from '../db/client.js';
import { createAssignmentActivities } from './assignment.js';
import { createCustomerActivities } from './customer.js';
import { withFailureClassification } from './failures.js';
import { createMailboxActivities } from './mailbox.js';
import { createOutcomeActivities } from './outcome.js';
import { createParseActivities } from './parse.js';
import { createReceiveActivities } from './receive.js';
import { createTicketActivities } from './ticket.js';

export interface ActivityDeps {
  sql: Sql;
  /** Opens the mailboxes' sealed IMAP secrets just before connecting. */
  secrets: SecretBox;
}

/** Every activity of the product, built from its dependencies (samples-typescript DI style). */
export function createActivities(deps: ActivityDeps) {
  return withFailureClassification({
    ...createMailboxActivities(deps),
    ...createReceiveActivities(deps),
    ...createParseActivities(deps),
    ...createCustomerActivities(deps),
    ...createTicketActivities(deps),
    ...createOutcomeActivities(deps),
    ...createAssignmentActivities(deps),
  });
}

export type Activities = ReturnType<typeof createActivities>;
