export const SLA_UNITS = ['minutes', 'hours', 'days'] as const;
export type SlaUnit = (typeof SLA_UNITS)[number];

const UNIT_MS: Record<SlaUnit, number> = {
  minutes: 60_000,
  hours: 3_600_000,
  days: 86_400_000,
};

export function slaDurationMs(value: number, unit: SlaUnit): number {
  return value * UNIT_MS[unit];
}

/**
 * Due time on the default 24x7 calendar. Business calendars (SPEC §6) will replace this
 * with service-time arithmetic; until then every sector runs 24x7.
 */
export function slaDueAt(openedAt: Date, value: number, unit: SlaUnit): Date {
  return new Date(openedAt.getTime() + slaDurationMs(value, unit));
}
