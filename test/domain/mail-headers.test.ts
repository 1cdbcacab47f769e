import { describe, expect, it } from 'vitest';
import { headerFields, headerSection, ownMessageId } from '../../domain/mail-headers.js';

const block = (s: string) => new TextEncoder().encode(s);

describe('headerFields', () => {
  it('unfolds folded fields and keeps their order and repeats', () => {
    const fields = headerFields(block('Received: from a\r\n\tby b\r\nReceived: from c\r\nSubject: Olá\r\n =?UTF-8?Q?mundo?='));
    expect(fields).toEqual([
      { name: 'Received', value: 'from a\tby b' },
      { name: 'Received', value: 'from c' },
      { name: 'Subject', value: 'Olá =?UTF-8?Q?mundo?=' },
    ]);
  });

  it('reads bare-LF messages and skips lines that are not fields', () => {
    expect(headerFields(block('From: a@b\nnot a field\nBad Name: x\nTo: c@d'))).toEqual([
      { name: 'From', value: 'a@b' },
      { name: 'To', value: 'c@d' },
    ]);
  });
});

describe("a message's own header section and Message-ID", () => {
  // A customer forwards, from a script that writes bare LF, a message as an attachment, and
  // their own message has no Message-ID: the attached one's must not be taken for it (issue 8).
  const forwardedWithoutId = [
    'From: Ana <ana@example.com>',
    'To: support@mailtrack.test',
    'Subject: Fwd: the invoice',
    'MIME-Version: 1.0',
    'Content-Type: multipart/mixed; boundary="b1"',
    '',
    '--b1',
    'Content-Type: text/plain',
    '',
    'See the message below.',
    '--b1',
    'Content-Type: message/rfc822',
    '',
    'From: Billing <billing@vendor.example>',
    'Message-ID: <invoice-771@vendor.example>',
    'Subject: Invoice 771',
    '',
    'Please pay.',
    '--b1--',
    '',
  ];

  it('ends at the first empty line, with LF, CRLF or mixed line endings', () => {
    for (const eol of ['\n', '\r\n']) {
      const raw = block(forwardedWithoutId.join(eol));
      expect(new TextDecoder().decode(headerSection(raw))).toBe(forwardedWithoutId.slice(0, 5).join(eol) + eol);
      expect(ownMessageId(raw)).toBeNull();
    }
    const mixed = block('Subject: x\r\nMessage-ID: <own@x>\n\r\nMessage-ID: <body@x>\r\n');
    expect(ownMessageId(mixed)).toBe('<own@x>');
  });

  it('reads the Message-ID of the message itself, folded or in any case', () => {
    expect(ownMessageId(block('From: a@b\nmessage-id:\n <own-1@example.com>\nSubject: x\n\nMessage-ID: <quoted@x>\n'))).toBe('<own-1@example.com>');
    expect(ownMessageId(block('Message-ID: <only-header@x>'))).toBe('<only-header@x>');
    // No header section at all: the body is never read.
    expect(ownMessageId(block('\r\nMessage-ID: <in-body@x>\r\n'))).toBeNull();
  });
});
