/**
 * The operating settings of a mailbox (issue 8, "mailboxes people can run"): how it signs in,
 * what happens to a message on the server after its outcome, the size limit, push. The rules
 * here are checked on the mailbox as it would be saved (create, and the merged result of a
 * PATCH), beside SPEC §3's rules (mailbox-rules.ts).
 */

export const IMAP_AUTH = ['password', 'oauth2'] as const;
export type ImapAuth = (typeof IMAP_AUTH)[number];

/** What happens to the message on the server once its outcome is recorded. */
export const AFTER_PROCESSING = ['leave', 'seen', 'move'] as const;
export type AfterProcessing = (typeof AFTER_PROCESSING)[number];

/** The defaults (the database has the same ones). */
export const DEFAULT_MAX_MESSAGE_BYTES = 25 * 1024 * 1024;
export const DEFAULT_SENDER_TICKET_LIMIT = 20;
/** Below this a size limit refuses ordinary mail with a logo in the signature. */
export const MIN_MAX_MESSAGE_BYTES = 64 * 1024;
/** Above this one message costs the worker more memory than a support mailbox is worth. */
export const MAX_MAX_MESSAGE_BYTES = 256 * 1024 * 1024;
/** A push secret is a password on the open internet: at least this long. */
export const MIN_PUSH_SECRET_LENGTH = 16;

export interface MailboxSettingsFacts {
  folder: string;
  auth: ImapAuth;
  hasSecret: boolean;
  oauth: { tokenUrl: string | null; clientId: string | null; hasRefreshToken: boolean };
  afterProcessing: AfterProcessing;
  afterProcessingFolder: string | null;
}

export interface SettingViolation {
  /** Relative to the body: `imap.secret`, `afterProcessingFolder`. */
  field: string;
  message: string;
}

/** Every rule the settings break (none: they can be saved). */
export function mailboxSettingViolations(s: MailboxSettingsFacts): SettingViolation[] {
  const v: SettingViolation[] = [];
  if (s.auth === 'password' && !s.hasSecret) v.push({ field: 'imap.secret', message: 'is required when imap.auth is "password"' });
  if (s.auth === 'oauth2') {
    const need = 'is required when imap.auth is "oauth2"';
    if (!s.oauth.tokenUrl) v.push({ field: 'imap.oauth.tokenUrl', message: need });
    if (!s.oauth.clientId) v.push({ field: 'imap.oauth.clientId', message: need });
    if (!s.oauth.hasRefreshToken) v.push({ field: 'imap.oauth.refreshToken', message: need });
  }
  if (s.afterProcessing === 'move') {
    if (!s.afterProcessingFolder) {
      v.push({ field: 'afterProcessingFolder', message: 'is required when afterProcessing is "move": name the folder messages are moved to' });
    } else if (sameFolder(s.afterProcessingFolder, s.folder)) {
      v.push({ field: 'afterProcessingFolder', message: `must differ from the folder the mailbox reads (${s.folder}): moved messages would be read again` });
    }
  }
  return v;
}

/** IMAP folder names compare exactly, except INBOX, which is case-insensitive (RFC 3501 §5.1). */
export function sameFolder(a: string, b: string): boolean {
  const norm = (f: string) => (f.toUpperCase() === 'INBOX' ? 'INBOX' : f);
  return norm(a) === norm(b);
}

/** The quarantine reason of a message above the mailbox's size limit. */
export function oversizedReason(size: number, limit: number): string {
  return `the message is ${size} bytes, above this mailbox's limit of ${limit} bytes (maxMessageBytes): kept as received and not processed; raise the limit and re-process it to convert it`;
}

/** A token endpoint must use TLS, except on the machine itself (a local proxy or a test). */
export function tokenUrlProblem(url: string): string | undefined {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return 'must be an absolute https:// URL';
  }
  if (u.username || u.password) return 'must not carry a user name or password (use clientId and clientSecret)';
  if (u.protocol === 'https:') return undefined;
  const loopback = ['localhost', '127.0.0.1', '[::1]'].includes(u.hostname);
  if (u.protocol === 'http:' && loopback) return undefined;
  return 'must be an https:// URL (http:// only on localhost)';
}
