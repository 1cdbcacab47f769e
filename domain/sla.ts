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

export interface ConfiguredSla {
  value: number;
  unit: SlaUnit;
}

/**
 * The SLA a ticket runs on (SPEC §6): an active, valid contract's SLA package replaces the
 * occurrence's. When several of the customer's contracts have one, the shortest applies
 * [DECIDED]: the customer was promised at least that.
 */
export function effectiveSla(occurrenceSla: ConfiguredSla | null, contractSlas: readonly ConfiguredSla[]): ConfiguredSla | null {
  const shortest = [...contractSlas].sort((a, b) => slaDurationMs(a.value, a.unit) - slaDurationMs(b.value, b.unit))[0];
  return shortest ?? occurrenceSla;
}
