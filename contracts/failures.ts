/**
 * The ApplicationFailure type of an error that retrying cannot fix (a malformed message, a
 * constraint the data violates). Workflows record such an e-mail as `quarantined`.
 */
export const UNPROCESSABLE = 'Unprocessable';

/**
 * The ApplicationFailure type with which a ticket's workflow refuses an action that does not
 * apply (a status change the ticket cannot make, a step that is not the active one, a sector
 * that is not the caller's). The message says why; the API answers 409 with it.
 */
export const ACTION_REJECTED = 'ActionRejected';

/**
 * The ApplicationFailure type with which a ticket's workflow refuses an update that arrived in
 * its first moments, before it read the ticket: nothing was done, and asking again shortly
 * gets an answer (the API does it by itself).
 */
export const TICKET_LOADING = 'TicketLoading';

/**
 * The ApplicationFailure type with which a mailbox's IMAP activities stop when its OAuth 2.0
 * authorisation is refused for good (the token endpoint answered invalid_grant, invalid_client...):
 * no retry can fix it, only a new authorisation (a new refresh token in the mailbox's settings).
 * The message names the mailbox, the endpoint and the HTTP status, never a token.
 */
export const MAILBOX_AUTH_REFUSED = 'MailboxAuthRefused';

/**
 * How a MAILBOX_AUTH_REFUSED message ends. The log recognises the watcher's workflow failing for
 * it by this ending: an error logged from the workflow sandbox reaches the log without its type.
 */
export const MAILBOX_AUTH_REFUSED_ADVICE = 'authorise the mailbox again (a new refresh token in its settings)';
