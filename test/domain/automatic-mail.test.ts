import { describe, expect, it } from 'vitest';
import { automaticMail, type AutomaticKind } from '../../domain/automatic-mail.js';
import { headerFields } from '../../domain/mail-headers.js';

/** The header section as the server wrote it, and what the classifier reads from it. */
function facts(headerSection: string) {
  const headers = headerFields(new TextEncoder().encode(headerSection.replace(/\n/g, '\r\n')));
  const from = headers.find((h) => h.name.toLowerCase() === 'from')?.value ?? '';
  const address = /<([^>]+)>/.exec(from)?.[1] ?? from.split(/\s/)[0] ?? null;
  return { headers, fromAddress: address, subject: headers.find((h) => h.name.toLowerCase() === 'subject')?.value ?? null };
}

// Header sections as the servers and clients named in them write them (the bodies do not matter here).
const AUTOMATIC: [string, AutomaticKind, string][] = [
  [
    'Exchange Online NDR',
    'bounce',
    `Received: from DM6PR.namprd.prod.outlook.com (2603:10b6:5:1::1) by BN8PR.outlook.office365.com with HTTPS; Mon, 2 Mar 2026 10:15:03 +0000
MIME-Version: 1.0
From: Microsoft Outlook <postmaster@contoso.onmicrosoft.com>
To: <support@mailtrack.test>
Date: Mon, 2 Mar 2026 10:15:02 +0000
Content-Type: multipart/report; report-type=delivery-status;
	boundary="6d3fe8d0-2c4e-4f1f-9d35-7f6e2a4b1c2d"
X-MS-Exchange-Message-Is-Ndr:
Content-Language: en-US
Message-ID: <5f1c8e2a-4b3d-4c1e-8f7a-1a2b3c4d5e6f@DM6PR.namprd.prod.outlook.com>
In-Reply-To: <alert-17@mailtrack>
Subject: Undeliverable: [#2026000042] SLA 50% reached: Printer on fire
Auto-Submitted: auto-replied`,
  ],
  [
    'Gmail bounce',
    'bounce',
    `Delivered-To: support@mailtrack.test
Return-Path: <>
X-Failed-Recipients: nobody-here@example.com
Auto-Submitted: auto-replied
From: Mail Delivery Subsystem <mailer-daemon@googlemail.com>
To: support@mailtrack.test
Content-Type: multipart/report; boundary="000000000000c3b9d805e1a2b3c4"; report-type=delivery-status
Subject: Delivery Status Notification (Failure)
Message-ID: <65e2f1a0.050a0220.1b2c3.0f4eSMTPIN_ADDED_MISSING@mx.google.com>
Date: Mon, 02 Mar 2026 02:15:04 -0800 (PST)`,
  ],
  [
    'Postfix bounce',
    'bounce',
    `Return-Path: <MAILER-DAEMON>
Date: Mon,  2 Mar 2026 11:15:05 +0100 (CET)
From: MAILER-DAEMON@mail.example.org (Mail Delivery System)
Subject: Undelivered Mail Returned to Sender
To: support@mailtrack.test
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status;
	boundary="4B1C3A1234.1772446505/mail.example.org"
Message-Id: <20260302101505.8E2F11234@mail.example.org>`,
  ],
  [
    'qmail bounce (no MIME, no standard header)',
    'bounce',
    `Return-Path: <>
Date: 2 Mar 2026 10:15:06 -0000
From: MAILER-DAEMON@qmail.example.net
To: support@mailtrack.test
Subject: failure notice`,
  ],
  [
    'qmail bounce without Return-Path (kept by a forwarder)',
    'bounce',
    `Date: 2 Mar 2026 10:15:06 -0000
From: MAILER-DAEMON@qmail.example.net
To: support@mailtrack.test
Subject: failure notice`,
  ],
  [
    'Exim bounce',
    'bounce',
    `X-Failed-Recipients: gone@example.org
Auto-Submitted: auto-replied
From: Mail Delivery System <Mailer-Daemon@exim.example.org>
To: support@mailtrack.test
Content-Type: text/plain; charset=us-ascii
Subject: Mail delivery failed: returning message to sender
Message-Id: <E1vXyZ-0001aB-Cd@exim.example.org>
Date: Mon, 02 Mar 2026 10:15:07 +0000`,
  ],
  [
    'sendmail bounce',
    'bounce',
    `Date: Mon, 2 Mar 2026 10:15:08 GMT
From: Mail Delivery Subsystem <MAILER-DAEMON@sendmail.example.com>
Message-Id: <202603021015.622AF8aB012345@sendmail.example.com>
To: <support@mailtrack.test>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status;
	boundary="622AF8aB012345.1772446508/sendmail.example.com"
Subject: Returned mail: see transcript for details
Auto-Submitted: auto-generated (failure)`,
  ],
  [
    'RFC 3834 vacation reply (Sieve)',
    'auto_reply',
    `From: Ana Souza <ana@cliente.com.br>
To: support@mailtrack.test
Subject: Auto: Re: [#2026000042] Invoice
Auto-Submitted: auto-replied (vacation)
In-Reply-To: <alert-17@mailtrack>
Date: Mon, 2 Mar 2026 07:15:09 -0300`,
  ],
  [
    'Exchange out-of-office',
    'auto_reply',
    `From: =?iso-8859-1?Q?Jo=E3o_Silva?= <joao@cliente.com.br>
To: Support <support@mailtrack.test>
Subject: Automatic reply: [#2026000042] Invoice
Thread-Topic: [#2026000042] Invoice
Date: Mon, 2 Mar 2026 10:15:10 +0000
Message-ID: <CP6PR80MB1234ABCD@CP6PR80MB1234.lamprd80.prod.outlook.com>
Auto-Submitted: auto-generated
X-Auto-Response-Suppress: All
X-MS-Exchange-Inbox-Rules-Loop: joao@cliente.com.br
Content-Type: text/plain; charset="iso-8859-1"`,
  ],
  [
    'old Exchange out-of-office (no Auto-Submitted)',
    'auto_reply',
    `From: Carla <carla@legacy.example.com>
To: support@mailtrack.test
Subject: Out of Office: Invoice
X-Auto-Response-Suppress: All
Content-Type: text/plain`,
  ],
  [
    'Gmail vacation responder',
    'auto_reply',
    `From: Pedro Lima <pedro.lima@gmail.com>
To: support@mailtrack.test
Subject: Re: [#2026000042] Invoice
Auto-Submitted: auto-replied
Precedence: bulk
X-Autoreply: yes
Date: Mon, 2 Mar 2026 02:15:11 -0800`,
  ],
  [
    'a help desk\'s auto-acknowledgement without Auto-Submitted',
    'auto_reply',
    `From: Acme Support <help@acme.example>
To: support@mailtrack.test
Subject: [Acme #88123] We received your request
X-Autorespond: 88123
Precedence: auto_reply`,
  ],
  [
    'a mailing list post (SPEC §4.2: Precedence: list)',
    'bulk',
    `From: Dev <dev@example.org>
Subject: Release 2.0
List-Id: <announce.example.org>
Precedence: list`,
  ],
  [
    'read receipt (Outlook / Thunderbird MDN)',
    'read_receipt',
    `From: Customer <customer@example.com>
To: support@mailtrack.test
Subject: Read: [#2026000042] Invoice
Content-Type: multipart/report; report-type=disposition-notification;
	boundary="------------mdn-1"`,
  ],
  [
    'ARF abuse report',
    'abuse_report',
    `From: Yahoo! Mail AntiSpam Feedback <feedback@arf.mail.yahoo.com>
To: abuse@mailtrack.test
Subject: FW: [#2026000042] SLA breached
Content-Type: multipart/report; report-type=feedback-report;
	boundary="----=_Part_1"`,
  ],
];

const HUMAN: [string, string][] = [
  [
    'a customer\'s question',
    `From: Antonio Carlos <antonio@example.com>
To: support@mailtrack.test
Subject: Printer on fire
Content-Type: text/plain; charset=utf-8`,
  ],
  [
    'a client that says Auto-Submitted: no',
    `From: Ana <ana@example.com>
Subject: Re: Invoice
Auto-Submitted: no`,
  ],
  [
    'a customer forwarding a bounce they got',
    `From: Ana <ana@example.com>
Subject: Fwd: Undeliverable: my order
Content-Type: multipart/mixed; boundary="b1"`,
  ],
  [
    'a person whose subject mentions an undelivered parcel',
    `From: Rita <rita@example.com>
Subject: Undelivered parcel, order 5521`,
  ],
];

describe('automatic mail (SPEC §4.2)', () => {
  it.each(AUTOMATIC)('%s is %s, saying why', (_name, kind, section) => {
    const found = automaticMail(facts(section));
    expect(found?.kind).toBe(kind);
    expect(found?.reason.length).toBeGreaterThan(10);
  });

  it.each(HUMAN)('%s is mail a person wrote', (_name, section) => {
    expect(automaticMail(facts(section))).toBeUndefined();
  });

  it('names the header that gave it away', () => {
    expect(automaticMail(facts('From: a@b.example\nSubject: x\nAuto-Submitted: auto-replied (vacation)'))?.reason).toBe('sent automatically (Auto-Submitted: auto-replied (vacation), RFC 3834)');
    expect(automaticMail(facts('From: a@b.example\nX-Failed-Recipients: x@y.example'))?.reason).toBe('a bounce (X-Failed-Recipients: x@y.example)');
  });
});
