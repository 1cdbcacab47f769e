/**
 * The ApplicationFailure type with which a mailbox's IMAP activities stop when its OAuth 2.0
 * authorisation is refused for good (the token endpoint answered invalid_grant, invalid_client...):
 * no retry can fix it, only a new authorisation (a new refresh token in the mailbox's settings).
 * The message names the mailbox, the endpoint and the HTTP status, never a token.
 */
export const MAILBOX_AUTH_REFUSED = 'MailboxAuthRefused';
