import type { SecretBox } from '../config/secret-box.js';
import type { Sql } from '../db/client.js';
import { createAcknowledgeActivities } from './acknowledge.js';
import { createAlertActivities, type SmtpSettings } from './alerts.js';
import { createAssignmentActivities } from './assignment.js';
import { createClassifyActivities } from './classify.js';
import { createCustomerActivities } from './customer.js';
import { withFailureClassification } from './failures.js';
import { createLifecycleActivities } from './lifecycle.js';
import { createMailboxActivities } from './mailbox.js';
import { createOutcomeActivities } from './outcome.js';
import { createParseActivities } from './parse.js';
import { createReadMailboxActivities } from './read-mailbox.js';
import { createReceiveActivities } from './receive.js';
import { createThreadActivities } from './thread.js';
import { createTicketActivities } from './ticket.js';
import { createTriageActivities } from './triage.js';

export interface ActivityDeps {
  sql: Sql;
  /** Opens the mailboxes' sealed IMAP secrets just before connecting. */
  secrets: SecretBox;
  /** Where alert and acknowledgement e-mails go; without an SMTP server, alerts go by webhook only and no acknowledgement is sent. */
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
    ...createReadMailboxActivities(deps),
    ...createReceiveActivities(deps),
    ...createClassifyActivities(deps),
    ...createParseActivities(deps),
    ...createThreadActivities(deps),
    ...createCustomerActivities(deps),
    ...createTicketActivities(deps),
    ...createOutcomeActivities(deps),
    // Acknowledgements go out through the SMTP server alerts use (SMTP_URL, ALERT_FROM).
    ...createAcknowledgeActivities({ sql: deps.sql, smtp: deps.alerts?.smtp }),
    ...createAssignmentActivities(deps),
    ...createLifecycleActivities(deps),
    ...createAlertActivities({ sql: deps.sql, secrets: deps.secrets, ...deps.alerts }),
    ...createTriageActivities(deps),
  });
}

export type Activities = ReturnType<typeof createActivities>;
