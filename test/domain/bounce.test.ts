import { describe, expect, it } from 'vitest';
import { alertFiringIdOf, alertMessageId, failedRecipients, quotedMessageIds } from '../../domain/bounce.js';

// The parts of bounces as the servers named write them (RFC 3464 report parts, qmail's and
// sendmail's plain text), reduced to what the functions read.
const POSTFIX_STATUS = `Reporting-MTA: dns; mx.example.net
X-Postfix-Queue-ID: 4F1C23A0
Arrival-Date: Mon,  2 Mar 2026 10:15:02 +0000 (UTC)

Final-Recipient: rfc822; ok@example.org
Original-Recipient: rfc822;ok@example.org
Action: delayed
Status: 4.4.1

Final-Recipient: rfc822; Gone.User@Example.org
Original-Recipient: rfc822;gone.user@example.org
Action: failed
Status: 5.1.1
Remote-MTA: dns; mx.example.org
Diagnostic-Code: smtp; 550 5.1.1 <gone.user@example.org>: Recipient address rejected: User unknown`;

const RETURNED_HEADERS = `Return-Path: <alerts@mailtrack.test>
From: Mailtrack <alerts@mailtrack.test>
To: gone.user@example.org
Subject: [#2026000042] We received your message: Printer on fire
Message-ID:
 <ack-2026000042.1764900000123@mailtrack.test>
Auto-Submitted: auto-replied`;

const QMAIL = `Hi. This is the qmail-send program at mx.example.com.
I'm afraid I wasn't able to deliver your message to the following addresses.
This is a permanent error; I've given up. Sorry it didn't work out.

<nobody@example.com>:
Sorry, no mailbox here by that name. (#5.1.1)

--- Below this line is a copy of the message.

Return-Path: <alerts@mailtrack.test>
Received: (qmail 4242 invoked from network); 2 Mar 2026 10:15:02 -0000
Message-ID: <alert-17@mailtrack>
Subject: [#2026000042] SLA 50% reached: Printer on fire

The SLA of ticket #2026000042 is half gone.`;

describe('quotedMessageIds', () => {
  it('finds the returned message\'s Message-ID in a text/rfc822-headers part, folded or not', () => {
    expect(quotedMessageIds([POSTFIX_STATUS, RETURNED_HEADERS])).toEqual(['<ack-2026000042.1764900000123@mailtrack.test>']);
  });

  it('finds it in the copy qmail and sendmail put in the body', () => {
    expect(quotedMessageIds([QMAIL])).toEqual(['<alert-17@mailtrack>']);
  });

  it('keeps the order of appearance and lists an id once', () => {
    expect(quotedMessageIds(['Message-ID: <a@x>\nmessage-id: <b@x>', '> Message-Id: <a@x>'])).toEqual(['<a@x>', '<b@x>']);
  });

  it('finds nothing in text that only mentions Message-IDs', () => {
    expect(quotedMessageIds(['The Message-ID was lost; In-Reply-To: <c@x>'])).toEqual([]);
  });
});

describe('failedRecipients', () => {
  it('takes the recipients a delivery status says failed, lower-cased, not the delayed ones', () => {
    expect(failedRecipients([POSTFIX_STATUS], undefined)).toEqual(['gone.user@example.org']);
  });

  it('takes every Final-Recipient when no block names its action', () => {
    expect(failedRecipients(['Reporting-MTA: dns; mx\n\nFinal-Recipient: rfc822;a@x.test\nStatus: 5.0.0'], undefined)).toEqual(['a@x.test']);
  });

  it('falls back on X-Failed-Recipients (Exim, Gmail), then on qmail\'s address lines', () => {
    expect(failedRecipients(['no report here'], 'one@example.com, <Two@Example.com>')).toEqual(['one@example.com', 'two@example.com']);
    expect(failedRecipients([QMAIL], undefined)).toEqual(['nobody@example.com']);
  });

  it('finds none where the bounce names none', () => {
    expect(failedRecipients(['Your message could not be delivered.'], undefined)).toEqual([]);
  });
});

describe('alert Message-IDs', () => {
  it('reads back the firing id of the Message-ID alerts are sent with, and nothing else', () => {
    expect(alertFiringIdOf(alertMessageId(17))).toBe(17);
    expect(alertFiringIdOf('<alert-17@elsewhere>')).toBeUndefined();
    expect(alertFiringIdOf('<ack-2026000042.1@mailtrack>')).toBeUndefined();
  });
});
