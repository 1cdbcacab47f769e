import { describe, expect, it } from 'vitest';
import { automaticMail } from '../../domain/automatic-mail.js';
import { headerFields } from '../../domain/mail-headers.js';

const facts = (section: string, fromAddress: string) => ({ headers: headerFields(new TextEncoder().encode(section.replace(/\n/g, '\r\n'))), fromAddress, subject: null });

describe('Exchange\'s own marks', () => {
  it('a non-delivery report Exchange writes without a report part is a bounce', () => {
    const ndr = `From: Microsoft Outlook <MicrosoftExchange329e71ec88ae4615bbc36ab6ce41109e@contoso.com>
To: <support@mailtrack.test>
Subject: Undeliverable: [#2026000042] Printer on fire
Content-Type: multipart/mixed; boundary="b1"
X-MS-Exchange-Message-Is-Ndr:
X-MS-Exchange-Organization-SCL: -1`;
    expect(automaticMail(facts(ndr, 'MicrosoftExchange329e71ec88ae4615bbc36ab6ce41109e@contoso.com'))).toEqual({
      kind: 'bounce',
      reason: 'a non-delivery report (X-MS-Exchange-Message-Is-Ndr)',
    });
  });

  it('a customer\'s mail that an inbox rule forwarded to support is still mail a person wrote', () => {
    const forwarded = `From: Ana Souza <ana@customer.example>
To: Bia <bia@contoso.com>
Subject: FW: Invoice 2231
X-MS-Exchange-Inbox-Rules-Loop: bia@contoso.com
X-MS-Exchange-Generated-Message-Source: Mailbox Rules Agent
Content-Type: text/plain; charset=utf-8`;
    expect(automaticMail(facts(forwarded, 'ana@customer.example'))).toBeUndefined();
  });
});
