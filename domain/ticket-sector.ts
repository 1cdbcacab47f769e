export interface SectorSources {
  occurrenceSectorId: number | null;
  occurrenceTypeSectorId: number | null;
  dynamicSectorFromCreator: boolean;
  creatorSectorIds: number[];
  mailboxSectorId: number | null;
}

/**
 * The sector a new ticket belongs to [SEED]: the creator's sector when the occurrence type
 * says so (`dynamicSectorFromCreator`), otherwise the occurrence's sector, then the
 * type's, then the mailbox's. A creator in several sectors gives the one registered first
 * (lowest id), so the choice is deterministic.
 */
export function ticketSector(s: SectorSources): number | null {
  if (s.dynamicSectorFromCreator && s.creatorSectorIds.length > 0) return Math.min(...s.creatorSectorIds);
  return s.occurrenceSectorId ?? s.occurrenceTypeSectorId ?? s.mailboxSectorId;
}
