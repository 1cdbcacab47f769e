import { describe, expect, it } from 'vitest';
import { formatProtocol, isProtocol } from '../../domain/protocol.js';
import { slaDueAt } from '../../domain/sla.js';
import { ticketSector } from '../../domain/ticket-sector.js';
import { emailWorkflowId, mailboxWorkflowId, ticketWorkflowId } from '../../contracts/workflow-ids.js';

describe('protocol', () => {
  it('is the year and a zero-padded sequence', () => {
    expect(formatProtocol(2026, 1)).toBe('2026000001');
    expect(formatProtocol(2026, 1234567)).toBe('20261234567');
    expect(isProtocol('2026000001')).toBe(true);
    expect(isProtocol('2026-01')).toBe(false);
  });

  it('refuses nonsense input', () => {
    expect(() => formatProtocol(26, 1)).toThrow(RangeError);
    expect(() => formatProtocol(2026, 0)).toThrow(RangeError);
  });
});

describe('ticket sector', () => {
  const base = { occurrenceSectorId: 10, occurrenceTypeSectorId: 20, dynamicSectorFromCreator: false, creatorSectorIds: [40, 30], mailboxSectorId: 50 };

  it('comes from the occurrence first, then the type, then the mailbox', () => {
    expect(ticketSector(base)).toBe(10);
    expect(ticketSector({ ...base, occurrenceSectorId: null })).toBe(20);
    expect(ticketSector({ ...base, occurrenceSectorId: null, occurrenceTypeSectorId: null })).toBe(50);
  });

  it("is the creator's first sector when the type says dynamicSectorFromCreator", () => {
    expect(ticketSector({ ...base, dynamicSectorFromCreator: true })).toBe(30);
    expect(ticketSector({ ...base, dynamicSectorFromCreator: true, creatorSectorIds: [] })).toBe(10);
  });
});

describe('SLA due time on the 24x7 calendar', () => {
  const opened = new Date('2026-11-23T10:00:00Z');
  it.each([
    [30, 'minutes', '2026-11-23T10:30:00.000Z'],
    [4, 'hours', '2026-11-23T14:00:00.000Z'],
    [2, 'days', '2026-11-25T10:00:00.000Z'],
  ] as const)('%i %s', (value, unit, due) => {
    expect(slaDueAt(opened, value, unit).toISOString()).toBe(due);
  });
});

describe('workflow ids', () => {
  it('say what they are', () => {
    expect(emailWorkflowId({ mailboxId: 3, uidValidity: 1700000000, uid: 42 })).toBe('email:3:1700000000:42');
    expect(mailboxWorkflowId(3)).toBe('mailbox:3');
    expect(ticketWorkflowId('2026000001')).toBe('ticket:2026000001');
  });
});
