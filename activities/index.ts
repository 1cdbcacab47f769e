import type { SecretBox } from '../config/secret-box.js';
import type { Sql } from '../db/client.js';
import { createAlertActivities, type SmtpSettings } from './alerts.js';
import { createAssignmentActivities } from './assignment.js';
import { createCustomerActivities } from './customer.js';
import { withFailureClassification } from './failures.js';
import { createLifecycleActivities } from './lifecycle.js';
import { createMailboxActivities } from './mailbox.js';
import { createOutcomeActivities } from './outcome.js';
import { createParseActivities } from './parse.js';
import { createReceiveActivities } from './receive.js';
import { createTicketActivities } from './ticket.js';

export interface ActivityDeps {
  sql: Sql;
  /** Opens the mailboxes' sealed IMAP secrets just before connecting. */
  secrets: SecretBox;
  /** Where alert e-mails go; without an SMTP server, alerts go by webhook only. */
  alerts?: AlertSettings;
}

export interface AlertSettings {
  smtp?: SmtpSettings;
  /** Where people open a ticket (`<publicUrl>/tickets/<protocol>`), for links in alerts. */
  publicUrl?: string;
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
    ...createLifecycleActivities(deps),
    ...createAlertActivities({ sql: deps.sql, secrets: deps.secrets, ...deps.alerts }),
  });
}

export type Activities = ReturnType<typeof createActivities>;
