import { describe, expect, it } from 'vitest';
import { acknowledgementMail, acknowledgementMessageId, domainOf, noAcknowledgementReason } from '../../domain/acknowledgement.js';
import { protocolsInSubject } from '../../domain/threading.js';

const values = { protocol: '2026000042', subject: 'Printer on fire', customerName: 'ana.souza', mailbox: 'Support' };

describe('acknowledgementMail', () => {
  it('writes our default text with the protocol in the subject, where threading finds it', () => {
    const mail = acknowledgementMail({ subject: null, body: null }, values);
    expect(mail.subject).toBe('[#2026000042] Printer on fire');
    expect(protocolsInSubject(mail.subject)).toEqual(['2026000042']);
    expect(mail.text).toMatch(/^Hello ana\.souza,\n/);
    expect(mail.text).toContain('opened ticket #2026000042');
    expect(mail.text.endsWith('\n')).toBe(true);
  });

  it('fills the mailbox\'s templates and puts the protocol in front when its subject leaves it out', () => {
    const mail = acknowledgementMail({ subject: 'Got it: {{ subject }}', body: 'Dear {{customerName}}, ticket {{protocol}} ({{mailbox}}). {{unknown}}' }, values);
    expect(mail.subject).toBe('[#2026000042] Got it: Printer on fire');
    expect(mail.text).toBe('Dear ana.souza, ticket 2026000042 (Support). {{unknown}}\n');
  });

  it('keeps the subject on one line whatever the customer wrote', () => {
    const mail = acknowledgementMail({ subject: null, body: null }, { ...values, subject: 'line one\r\nBcc: victim@example.com' });
    expect(mail.subject).toBe('[#2026000042] line one Bcc: victim@example.com');
    expect(acknowledgementMail({ subject: null, body: null }, { ...values, subject: '' }).subject).toBe('[#2026000042] (no subject)');
  });
});

describe('acknowledgementMessageId', () => {
  it('is the same on every attempt, differs between tickets, and sits at our From domain', () => {
    const created = new Date('2026-03-02T10:15:02.123Z');
    const id = acknowledgementMessageId('2026000042', created, 'Support <help@Example.com>');
    expect(id).toBe(`<ack-2026000042.${created.getTime()}@example.com>`);
    expect(acknowledgementMessageId('2026000042', new Date(created), 'Support <help@Example.com>')).toBe(id);
    expect(acknowledgementMessageId('2026000043', created, 'Support <help@Example.com>')).not.toBe(id);
    expect(domainOf('not an address')).toBe('mailtrack');
  });
});

describe('noAcknowledgementReason', () => {
  it('refuses addresses nobody reads and our own address', () => {
    for (const to of ['no-reply@shop.example', 'NoReply@shop.example', 'do-not-reply@x.example', 'MAILER-DAEMON@mx.example', 'postmaster@x.example']) {
      expect(noAcknowledgementReason(to, 'Support <help@example.com>'), to).toMatch(/nobody reads/);
    }
    expect(noAcknowledgementReason('Help@Example.com', 'Support <help@example.com>')).toMatch(/our own address/);
  });

  it('lets people\'s addresses through', () => {
    expect(noAcknowledgementReason('ana.souza@example.com', 'Support <help@example.com>')).toBeUndefined();
    expect(noAcknowledgementReason('replyguy@example.com', 'Support <help@example.com>')).toBeUndefined();
  });
});
