import type { SecretBox } from '../config/secret-box.js';
import type { Sql } from '../db/client.js';
import type { ImapSettings } from '../db/mailboxes.js';

export interface SeededDemo {
  sectorId: number;
  /** João, Ana, Luis: the seeds' registration order. */
  userIds: [number, number, number];
  customerTypeId: number;
  regionId: number;
  occurrenceTypeId: number;
  occurrenceId: number;
  mailboxId: number;
}

/**
 * The demo configuration (idempotent): one sector, three users in the seeds' registration
 * order (João, Ana, Luis), an occurrence type, an occurrence with a 4-hour SLA, and a mailbox
 * with automatic conversion on. `suffix` keeps several copies apart (tests). The IMAP secret is
 * stored sealed with `secrets`, as the API stores it.
 */
export async function seedDemo(sql: Sql, secrets: SecretBox, imap: ImapSettings, opts: { suffix?: string; autoConvert?: boolean } = {}): Promise<SeededDemo> {
  const sfx = opts.suffix ?? '';
  return sql.begin(async (tx) => {
    const [sector] = await tx<{ id: number }[]>`
      INSERT INTO sector (name) VALUES (${`Support${sfx}`}) ON CONFLICT (name) DO UPDATE SET name = excluded.name RETURNING id`;
    const userIds: number[] = [];
    for (const [login, name, role] of [
      ['joao', 'João', 'admin'],
      ['ana', 'Ana', 'agent'],
      ['luis', 'Luis', 'agent'],
    ] as const) {
      const [u] = await tx<{ id: number }[]>`
        INSERT INTO app_user (login, name, email, role) VALUES (${login + sfx}, ${name}, ${`${login}${sfx}@mailtrack.demo`}, ${role})
        ON CONFLICT (login) DO UPDATE SET login = excluded.login RETURNING id`;
      await tx`INSERT INTO user_sector (user_id, sector_id) VALUES (${u!.id}, ${sector!.id}) ON CONFLICT DO NOTHING`;
      userIds.push(u!.id);
    }
    const [customerType] = await tx<{ id: number }[]>`
      INSERT INTO customer_type (name) VALUES (${`Standard${sfx}`}) ON CONFLICT (name) DO UPDATE SET name = excluded.name RETURNING id`;
    const [region] = await tx<{ id: number }[]>`
      INSERT INTO region (name) VALUES (${`Brazil${sfx}`}) ON CONFLICT (name) DO UPDATE SET name = excluded.name RETURNING id`;
    const [type] = await tx<{ id: number }[]>`
      INSERT INTO occurrence_type (name, sector_id, description) VALUES ('Question', ${sector!.id}, 'Questions sent by e-mail')
      ON CONFLICT (name, sector_id) DO UPDATE SET name = excluded.name RETURNING id`;
    const [occurrence] = await tx<{ id: number }[]>`
      INSERT INTO occurrence (occurrence_type_id, name, sla_value, sla_unit, sector_id)
      VALUES (${type!.id}, 'General question', 4, 'hours', ${sector!.id})
      ON CONFLICT (occurrence_type_id, name) DO UPDATE SET name = excluded.name RETURNING id`;
    const [mailbox] = await tx<{ id: number }[]>`
      INSERT INTO mailbox (name, imap_host, imap_port, imap_tls, imap_user, imap_secret, imap_folder, sector_id, auto_convert,
                           customer_type_id, region_id, creator_user_id, occurrence_type_id, occurrence_id)
      VALUES (${`demo${sfx}`}, ${imap.host}, ${imap.port}, ${imap.tls}, ${imap.user}, ${secrets.seal(imap.secret)}, ${imap.folder}, ${sector!.id},
              ${opts.autoConvert ?? true}, ${customerType!.id}, ${region!.id}, ${userIds[0]!}, ${type!.id}, ${occurrence!.id})
      ON CONFLICT (name) DO UPDATE SET imap_host = excluded.imap_host, imap_port = excluded.imap_port, imap_tls = excluded.imap_tls,
        imap_user = excluded.imap_user, imap_secret = excluded.imap_secret, imap_folder = excluded.imap_folder
      RETURNING id`;
    return {
      sectorId: sector!.id,
      userIds: userIds as [number, number, number],
      customerTypeId: customerType!.id,
      regionId: region!.id,
      occurrenceTypeId: type!.id,
      occurrenceId: occurrence!.id,
      mailboxId: mailbox!.id,
    };
  });
}
