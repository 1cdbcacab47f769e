/**
 * SPEC §3's rules for a mailbox's conversion settings, as one pure function over the
 * mailbox as it would be saved (a create, or the stored mailbox with a PATCH applied) and
 * the facts it names. Rule 5 (the IMAP secret is write-only) is kept by the store and the
 * API, not here.
 */

export const DISTRIBUTION_TARGETS = ['solution_group', 'sector'] as const;
export type DistributionTarget = (typeof DISTRIBUTION_TARGETS)[number];

/** The mailbox settings the rules read (after a PATCH: the merged result). */
export interface MailboxRuleSettings {
  sectorId: number | null;
  autoConvert: boolean;
  creatorUserId: number | null;
  occurrenceTypeId: number | null;
  occurrenceId: number | null;
  solutionId: number | null;
  autoDistribute: boolean;
  distributionTarget: DistributionTarget | null;
}

/**
 * What the settings name, as the database has it. A fact is absent when its id is not set or
 * names nothing; checks that need a missing row are skipped, so that the database's foreign
 * key names the field instead ("there is no occurrence with id N").
 */
export interface MailboxRuleFacts {
  /** False when `sectorId` names no sector. */
  sectorFound: boolean;
  occurrenceType?: { name: string; sectorId: number | null };
  occurrence?: { name: string; occurrenceTypeId: number; sectorId: number | null; solutionGroupId: number | null };
  solution?: { name: string; occurrenceId: number };
}

/** A refused setting: the body field to change, and why. */
export interface MailboxRuleViolation {
  field: keyof MailboxRuleSettings;
  message: string;
}

/** The exact words of SPEC §3 rule 4 (from the seeds). */
export function distributionNeedsPoolMessage(occurrenceName: string): string {
  return `Associate a solution group or a sector with occurrence «${occurrenceName}» before enabling automatic distribution.`;
}

/** Every rule the settings break (empty: they may be saved). */
export function mailboxRuleViolations(s: MailboxRuleSettings, f: MailboxRuleFacts): MailboxRuleViolation[] {
  const out: MailboxRuleViolation[] = [];
  const type = s.occurrenceTypeId !== null ? f.occurrenceType : undefined;
  const occurrence = s.occurrenceId !== null ? f.occurrence : undefined;
  const solution = s.solutionId !== null ? f.solution : undefined;
  // A mailbox without a sector (or naming one that does not exist) puts no sector rule on its type and occurrence.
  const mailboxSector = s.sectorId !== null && f.sectorFound ? s.sectorId : null;

  // 1. Automatic conversion needs the three ticket settings.
  if (s.autoConvert) {
    for (const [field, what] of [
      ['creatorUserId', 'creator user'],
      ['occurrenceTypeId', 'occurrence type'],
      ['occurrenceId', 'occurrence'],
    ] as const) {
      if (s[field] === null) out.push({ field, message: `is required when autoConvert is on: the ${what} of every ticket the mailbox creates` });
    }
  }

  // 2. The occurrence belongs to the type; both are linked to the mailbox's sector or to none.
  if (s.occurrenceId !== null && s.occurrenceTypeId === null && !s.autoConvert) {
    out.push({ field: 'occurrenceTypeId', message: 'is required with occurrenceId: the occurrence type the occurrence belongs to' });
  }
  if (type && occurrence && occurrence.occurrenceTypeId !== s.occurrenceTypeId) {
    out.push({ field: 'occurrenceId', message: `occurrence «${occurrence.name}» belongs to another occurrence type (id ${occurrence.occurrenceTypeId}), not to «${type.name}» (id ${s.occurrenceTypeId})` });
  }
  if (mailboxSector !== null) {
    if (type && type.sectorId !== null && type.sectorId !== mailboxSector) {
      out.push({ field: 'occurrenceTypeId', message: `occurrence type «${type.name}» is linked to sector ${type.sectorId}, not to the mailbox's sector ${mailboxSector}` });
    }
    if (occurrence && occurrence.sectorId !== null && occurrence.sectorId !== mailboxSector) {
      out.push({ field: 'occurrenceId', message: `occurrence «${occurrence.name}» is linked to sector ${occurrence.sectorId}, not to the mailbox's sector ${mailboxSector}` });
    }
  }

  // 3. The solution belongs to the occurrence.
  if (s.solutionId !== null && s.occurrenceId === null) {
    out.push({ field: 'solutionId', message: 'needs occurrenceId: a solution belongs to an occurrence' });
  }
  if (solution && occurrence && solution.occurrenceId !== s.occurrenceId) {
    out.push({ field: 'solutionId', message: `solution «${solution.name}» belongs to another occurrence (id ${solution.occurrenceId}), not to «${occurrence.name}» (id ${s.occurrenceId})` });
  }

  // 4. Automatic distribution needs a pool: the occurrence's solution group, else its sector (SPEC §5).
  if (s.autoDistribute && occurrence) {
    if (occurrence.solutionGroupId === null && occurrence.sectorId === null) {
      out.push({ field: 'autoDistribute', message: distributionNeedsPoolMessage(occurrence.name) });
    } else if (s.distributionTarget === 'sector' && occurrence.sectorId === null) {
      out.push({
        field: 'distributionTarget',
        message: `distribution among the users of a sector needs occurrence «${occurrence.name}» to have a sector: associate one with it, or choose solution_group`,
      });
    }
  }
  return out;
}
