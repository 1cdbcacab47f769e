import { describe, expect, it } from 'vitest';
import { autoCloseAt } from '../../domain/auto-close.js';

describe('autoCloseAt', () => {
  it('is the resolution plus the hours, in calendar time', () => {
    expect(autoCloseAt('resolved', '2026-03-06T17:30:00.000Z', 96)).toEqual(new Date('2026-03-10T17:30:00.000Z'));
    expect(autoCloseAt('resolved', '2026-10-31T23:00:00.000Z', 1)).toEqual(new Date('2026-11-01T00:00:00.000Z'));
  });

  it('is null unless the ticket is resolved, with a time of resolution and a number of hours', () => {
    for (const status of ['open', 'waiting_customer', 'closed', 'cancelled'] as const) expect(autoCloseAt(status, '2026-03-06T17:30:00.000Z', 96)).toBeNull();
    expect(autoCloseAt('resolved', null, 96)).toBeNull();
    expect(autoCloseAt('resolved', undefined, 96)).toBeNull();
    expect(autoCloseAt('resolved', '2026-03-06T17:30:00.000Z', null)).toBeNull();
    expect(autoCloseAt('resolved', '2026-03-06T17:30:00.000Z', undefined)).toBeNull();
  });
});
