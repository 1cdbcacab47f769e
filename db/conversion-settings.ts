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
  const [row] = await sql<
    {
      id: number; auto_convert: boolean; sector_id: number | null; customer_type_id: number | null; region_id: number | null;
      creator_user_id: number | null; creator_sector_ids: number[]; occurrence_type_id: number | null; type_sector_id: number | null;
      dynamic_sector_from_creator: boolean | null; occurrence_id: number | null; occurrence_sector_id: number | null;
      sla_value: number | null; sla_unit: SlaUnit | null;
    }[]
  >`
    SELECT m.id, m.auto_convert, m.sector_id, m.customer_type_id, m.region_id, m.creator_user_id,
           COALESCE((SELECT array_agg(us.sector_id::int ORDER BY us.sector_id) FROM user_sector us WHERE us.user_id = m.creator_user_id), '{}') AS creator_sector_ids,
           m.occurrence_type_id, t.sector_id AS type_sector_id, t.dynamic_sector_from_creator,
           m.occurrence_id, o.sector_id AS occurrence_sector_id, o.sla_value, o.sla_unit
      FROM mailbox m
      LEFT JOIN occurrence_type t ON t.id = m.occurrence_type_id
      LEFT JOIN occurrence o ON o.id = m.occurrence_id
     WHERE m.id = ${mailboxId}`;
  if (!row) return undefined;
  return {
    mailboxId: row.id,
    autoConvert: row.auto_convert,
    mailboxSectorId: row.sector_id,
    customerTypeId: row.customer_type_id,
    regionId: row.region_id,
    creatorUserId: row.creator_user_id,
    creatorSectorIds: row.creator_sector_ids,
    occurrenceTypeId: row.occurrence_type_id,
    occurrenceTypeSectorId: row.type_sector_id,
    dynamicSectorFromCreator: row.dynamic_sector_from_creator ?? false,
    occurrenceId: row.occurrence_id,
    occurrenceSectorId: row.occurrence_sector_id,
    slaValue: row.sla_value,
    slaUnit: row.sla_unit,
  };
}
