import type { Sql } from '../db/client.js';
import { findOrCreateByEmail } from '../db/customers.js';
import { getEmailForTicket } from '../db/inbound-emails.js';
import { getConversionSettings } from '../db/mailboxes.js';
import { customerNameFromAddress } from '../domain/customer-naming.js';
import { addressKey } from '../domain/email-address.js';
import { unprocessable } from './failures.js';

export interface ResolvedSender {
  customerId: number;
  customerEmail: string;
  created: boolean;
}

export function createCustomerActivities(deps: { sql: Sql }) {
  const { sql } = deps;
  return {
    /** SPEC §4.6: the customer with the sender's e-mail, or a new one named after its local part. */
    async resolveCustomer(emailId: number): Promise<ResolvedSender> {
      const email = await getEmailForTicket(sql, emailId);
      const address = email?.fromAddress;
      if (!email || !address) throw unprocessable(`e-mail ${emailId} has no parsed sender`);
      const key = addressKey(address);
      const name = customerNameFromAddress(address);
      if (!key || !name) throw unprocessable(`the sender address «${address}» is not a valid e-mail address`);
      const settings = await getConversionSettings(sql, email.mailboxId);
      const customer = await findOrCreateByEmail(sql, {
        name,
        email: address,
        emailKey: key,
        regionId: settings?.regionId ?? null,
        customerTypeId: settings?.customerTypeId ?? null,
      });
      return { customerId: customer.id, customerEmail: address, created: customer.created };
    },
  };
}
