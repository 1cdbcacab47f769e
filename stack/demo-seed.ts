import type { Sql } from '../db/client.js';

/**
 * The demo configuration (idempotent): one sector, three users in the seeds' registration
 * order (João, Ana, Luis), an occurrence type, an occurrence with a 4-hour SLA, and the demo
 * mailbox with automatic conversion on.
 */
export async function seedDemo(sql: Sql, mailbox: { host: string; port: number; user: string; secret: string; folder: string }): Promise<number> {
  return sql.begin(async (tx) => {
    const [sector] = await tx<{ id: number }[]>`
      INSERT INTO sector (name) VALUES ('Support') ON CONFLICT (name) DO UPDATE SET name = excluded.name RETURNING id`;
    const userIds: number[] = [];
    for (const [login, name, role] of [
      ['joao', 'João', 'admin'],
      ['ana', 'Ana', 'agent'],
      ['luis', 'Luis', 'agent'],
    ] as const) {
      const [u] = await tx<{ id: number }[]>`
        INSERT INTO app_user (login, name, email, role) VALUES (${login}, ${name}, ${`${login}@mailtrack.demo`}, ${role})
        ON CONFLICT (login) DO UPDATE SET login = excluded.login RETURNING id`;
      await tx`INSERT INTO user_sector (user_id, sector_id) VALUES (${u!.id}, ${sector!.id}) ON CONFLICT DO NOTHING`;
      userIds.push(u!.id);
    }
    const [customerType] = await tx<{ id: number }[]>`
      INSERT INTO customer_type (name) VALUES ('Standard') ON CONFLICT (name) DO UPDATE SET name = excluded.name RETURNING id`;
    const [region] = await tx<{ id: number }[]>`
      INSERT INTO region (name) VALUES ('Brazil') ON CONFLICT (name) DO UPDATE SET name = excluded.name RETURNING id`;
    const [type] = await tx<{ id: number }[]>`
      INSERT INTO occurrence_type (name, sector_id, description) VALUES ('Question', ${sector!.id}, 'Questions sent by e-mail')
      ON CONFLICT (name, sector_id) DO UPDATE SET name = excluded.name RETURNING id`;
    const [occurrence] = await tx<{ id: number }[]>`
      INSERT INTO occurrence (occurrence_type_id, name, sla_value, sla_unit, sector_id)
      VALUES (${type!.id}, 'General question', 4, 'hours', ${sector!.id})
      ON CONFLICT (occurrence_type_id, name) DO UPDATE SET name = excluded.name RETURNING id`;
    const [m] = await tx<{ id: number }[]>`
      INSERT INTO mailbox (name, imap_host, imap_port, imap_tls, imap_user, imap_secret, imap_folder, sector_id, auto_convert,
                           customer_type_id, region_id, creator_user_id, occurrence_type_id, occurrence_id)
      VALUES ('demo', ${mailbox.host}, ${mailbox.port}, false, ${mailbox.user}, ${mailbox.secret}, ${mailbox.folder}, ${sector!.id}, true,
              ${customerType!.id}, ${region!.id}, ${userIds[0]!}, ${type!.id}, ${occurrence!.id})
      ON CONFLICT (name) DO UPDATE SET imap_host = excluded.imap_host, imap_port = excluded.imap_port
      RETURNING id`;
    return m!.id;
  });
}
