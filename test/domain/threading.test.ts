import { describe, expect, it } from 'vitest';
import { protocolsInSubject, referencedMessageIds, threadDecision, type KnownTicket } from '../../domain/threading.js';

const ticket = (status: KnownTicket['status'], participants = ['ana@example.com']): KnownTicket => ({ protocol: '2026000042', status, participants });

describe('threading (SPEC §4.4)', () => {
  it('reads the protocols a subject quotes, as clients mangle it', () => {
    expect(protocolsInSubject('RE: Fwd: [#2026000042] SLA 50% reached: Printer on fire')).toEqual(['2026000042']);
    expect(protocolsInSubject('AW: [#2026000042] und [#2026000043] und wieder [#2026000042]')).toEqual(['2026000042', '2026000043']);
    expect(protocolsInSubject('#2026000042 without brackets, [#12] too short')).toEqual([]);
    expect(protocolsInSubject(null)).toEqual([]);
  });

  it('reads In-Reply-To first, then References from the nearest, each once', () => {
    expect(referencedMessageIds('<c@x>', '<a@x> <b@x>\r\n <c@x>')).toEqual(['<c@x>', '<b@x>', '<a@x>']);
    // Outlook sometimes writes a comment or a bare id next to them: only bracketed ids count.
    expect(referencedMessageIds('<d@x> (Ana\'s message of Monday)', null)).toEqual(['<d@x>']);
    expect(referencedMessageIds(null, null)).toEqual([]);
  });

  it('appends a reply by header whoever sends it, and reopens a resolved ticket', () => {
    expect(threadDecision('someone@else.example', ticket('open'), undefined)).toEqual({ kind: 'append', protocol: '2026000042', by: 'header', reopens: false });
    expect(threadDecision('ana@example.com', ticket('resolved'), undefined)).toMatchObject({ kind: 'append', reopens: true });
  });

  it('appends a reply by subject only from the customer or a participant', () => {
    expect(threadDecision('ana@example.com', undefined, ticket('waiting_customer'))).toEqual({ kind: 'append', protocol: '2026000042', by: 'subject', reopens: false });
    expect(threadDecision('stranger@example.net', undefined, ticket('open'))).toMatchObject({ kind: 'new_ticket', linkedTo: null, reason: expect.stringMatching(/not its customer nor a participant/) });
  });

  it('opens a new ticket linked to a closed or cancelled one', () => {
    expect(threadDecision('ana@example.com', ticket('closed'), undefined)).toMatchObject({ kind: 'new_ticket', linkedTo: '2026000042' });
    expect(threadDecision('ana@example.com', undefined, ticket('cancelled'))).toMatchObject({ kind: 'new_ticket', linkedTo: '2026000042' });
  });

  it('prefers the header over the subject', () => {
    const other = { ...ticket('open'), protocol: '2026000099' };
    expect(threadDecision('ana@example.com', other, ticket('open'))).toMatchObject({ kind: 'append', protocol: '2026000099', by: 'header' });
  });
});
