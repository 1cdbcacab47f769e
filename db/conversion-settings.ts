import type { SlaUnit } from '../domain/sla.js';
import type { Sql } from './client.js';

/** What a mailbox with auto-conversion gives every ticket it creates (SPEC §3, §4.7). */
export interface ConversionSettings {
  mailboxId: number;
  autoConvert: boolean;
  mailboxSectorId: number | null;
  customerTypeId: number | null;
  regionId: number | null;
  creatorUserId: number | null;
  creatorSectorIds: number[];
  occurrenceTypeId: number | null;
  occurrenceTypeSectorId: number | null;
  dynamicSectorFromCreator: boolean;
  occurrenceId: number | null;
  occurrenceSectorId: number | null;
  slaValue: number | null;
  slaUnit: SlaUnit | null;
}

export async function getConversionSettings(sql: Sql, mailboxId: number): Promise<ConversionSettings | undefined> {
  const [row] = await sql<ConversionSettings[]>`
    SELECT m.id AS mailbox_id, m.auto_convert, m.sector_id AS mailbox_sector_id, m.customer_type_id, m.region_id, m.creator_user_id,
           COALESCE((SELECT array_agg(us.sector_id ORDER BY us.sector_id) FROM user_sector us WHERE us.user_id = m.creator_user_id), '{}') AS creator_sector_ids,
           m.occurrence_type_id, t.sector_id AS occurrence_type_sector_id, COALESCE(t.dynamic_sector_from_creator, false) AS dynamic_sector_from_creator,
           m.occurrence_id, o.sector_id AS occurrence_sector_id, o.sla_value, o.sla_unit
      FROM mailbox m
      LEFT JOIN occurrence_type t ON t.id = m.occurrence_type_id
      LEFT JOIN occurrence o ON o.id = m.occurrence_id
     WHERE m.id = ${mailboxId}`;
  return row;
}
