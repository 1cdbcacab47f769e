import { generatedCustomerCode } from '../domain/customer-naming.js';
import type { Sql } from './client.js';

export interface NewEmailCustomer {
  name: string;
  email: string;
  emailKey: string;
  regionId: number | null;
  customerTypeId: number | null;
}

export interface ResolvedCustomer {
  id: number;
  created: boolean;
}

/**
 * The customer whose e-mail has this key, created when there is none. The unique
 * email_key makes two concurrent first e-mails from one sender resolve to one customer.
 */
export async function findOrCreateByEmail(sql: Sql, c: NewEmailCustomer): Promise<ResolvedCustomer> {
  return sql.begin(async (tx) => {
    const [inserted] = await tx<{ id: number }[]>`
      INSERT INTO customer (name, email, email_key, region_id, customer_type_id)
      VALUES (${c.name}, ${c.email}, ${c.emailKey}, ${c.regionId}, ${c.customerTypeId})
      ON CONFLICT (email_key) DO NOTHING
      RETURNING id`;
    if (inserted) {
      await tx`UPDATE customer SET code = ${generatedCustomerCode(inserted.id)} WHERE id = ${inserted.id}`;
      return { id: inserted.id, created: true };
    }
    const [existing] = await tx<{ id: number }[]>`SELECT id FROM customer WHERE email_key = ${c.emailKey}`;
    if (!existing) throw new Error(`customer with e-mail key ${c.emailKey} neither inserted nor found`);
    return { id: existing.id, created: false };
  });
}
