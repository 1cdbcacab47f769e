import { describe, expect, it } from 'vitest';
import { mailboxSettingViolations, oversizedReason, sameFolder, tokenUrlProblem, type MailboxSettingsFacts } from '../../domain/mailbox-settings.js';

const base: MailboxSettingsFacts = {
  folder: 'INBOX',
  auth: 'password',
  hasSecret: true,
  oauth: { tokenUrl: null, clientId: null, hasRefreshToken: false },
  afterProcessing: 'leave',
  afterProcessingFolder: null,
};
const fields = (s: Partial<MailboxSettingsFacts>) => mailboxSettingViolations({ ...base, ...s }).map((v) => v.field);

describe("a mailbox's operating settings", () => {
  it('accept a password mailbox that leaves its mail alone', () => {
    expect(mailboxSettingViolations(base)).toEqual([]);
  });

  it('need the password with password authentication, and the OAuth client with oauth2', () => {
    expect(fields({ hasSecret: false })).toEqual(['imap.secret']);
    expect(fields({ auth: 'oauth2', hasSecret: false })).toEqual(['imap.oauth.tokenUrl', 'imap.oauth.clientId', 'imap.oauth.refreshToken']);
    expect(fields({ auth: 'oauth2', hasSecret: false, oauth: { tokenUrl: 'https://login.example/token', clientId: 'app', hasRefreshToken: true } })).toEqual([]);
    expect(fields({ auth: 'oauth2', oauth: { tokenUrl: 'https://login.example/token', clientId: 'app', hasRefreshToken: false } })).toEqual(['imap.oauth.refreshToken']);
  });

  it('need a folder to move to, other than the one read (moved mail would be read again)', () => {
    expect(fields({ afterProcessing: 'move' })).toEqual(['afterProcessingFolder']);
    expect(fields({ afterProcessing: 'move', afterProcessingFolder: 'inbox' })).toEqual(['afterProcessingFolder']);
    expect(mailboxSettingViolations({ ...base, afterProcessing: 'move', afterProcessingFolder: 'INBOX' })[0]!.message).toMatch(/must differ from the folder the mailbox reads \(INBOX\)/);
    expect(fields({ afterProcessing: 'move', afterProcessingFolder: 'Processed' })).toEqual([]);
    expect(fields({ afterProcessing: 'seen', afterProcessingFolder: null })).toEqual([]);
  });

  it('compare folder names exactly, except INBOX', () => {
    expect(sameFolder('INBOX', 'Inbox')).toBe(true);
    expect(sameFolder('Support', 'support')).toBe(false);
    expect(sameFolder('Support/Done', 'Support/Done')).toBe(true);
  });

  it('take a token endpoint over https, or http on this machine only', () => {
    expect(tokenUrlProblem('https://login.microsoftonline.com/common/oauth2/v2.0/token')).toBeUndefined();
    expect(tokenUrlProblem('http://127.0.0.1:8080/token')).toBeUndefined();
    expect(tokenUrlProblem('http://localhost/token')).toBeUndefined();
    expect(tokenUrlProblem('http://[::1]:9/token')).toBeUndefined();
    expect(tokenUrlProblem('http://oauth2.googleapis.com/token')).toMatch(/https/);
    expect(tokenUrlProblem('ftp://example.com/token')).toMatch(/https/);
    expect(tokenUrlProblem('not a url')).toMatch(/absolute https/);
    expect(tokenUrlProblem('https://user:pass@example.com/token')).toMatch(/user name or password/);
  });

  it('say why an oversized message was not processed, with both sizes', () => {
    expect(oversizedReason(30_000_000, 26_214_400)).toMatch(/30000000 bytes, above this mailbox's limit of 26214400 bytes/);
  });
});
