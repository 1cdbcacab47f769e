import { describe, expect, it } from 'vitest';
import { emailTicketContent } from '../../domain/email-ticket.js';

describe('emailTicketContent (SPEC §4.7)', () => {
  const openedAt = new Date('2026-03-02T12:00:00Z');

  it("takes the e-mail's subject and body, and plans the occurrence's SLA from the opening", () => {
    expect(emailTicketContent({ subject: '  Printer on fire ', textBody: 'It smokes.' }, { slaValue: 4, slaUnit: 'hours' }, openedAt)).toEqual({
      subject: 'Printer on fire',
      description: 'It smokes.',
      slaDueAt: new Date('2026-03-02T16:00:00Z'),
    });
  });

  it('a placeholder for a missing or blank subject, never for the body; no SLA without one', () => {
    for (const subject of [null, '', '   ']) {
      expect(emailTicketContent({ subject, textBody: null }, { slaValue: null, slaUnit: null }, openedAt)).toEqual({ subject: '(no subject)', description: '', slaDueAt: null });
    }
  });
});
