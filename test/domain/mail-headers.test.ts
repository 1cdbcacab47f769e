import { describe, expect, it } from 'vitest';
import { headerFields } from '../../domain/mail-headers.js';

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
