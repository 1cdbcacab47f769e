import fc from 'fast-check';
import iconv from 'iconv-lite';
import { describe, expect, it } from 'vitest';
import { headerFields } from '../../domain/mail-headers.js';
import { charsetHint, decodeHeaderValue, decodeText, decodeUndeclared, repairHeaderLine, repairHeaderSection, resolveCharset } from '../../domain/mail-charset.js';

/** Bytes as they stand in a message, written as a latin1 string (`\xe9` is the byte 0xE9). */
const bytes = (s: string) => Buffer.from(s, 'latin1');

describe('resolveCharset', () => {
  it('knows the names mail uses, UTF-7 among them, and reads ISO-8859-1 as windows-1252', () => {
    expect(resolveCharset('UTF-8')).toBe('utf-8');
    expect(resolveCharset('us-ascii')).toBe('utf-8');
    expect(resolveCharset('"utf-7"')).toBe('utf-7');
    expect(resolveCharset('unicode-1-1-utf-7')).toBe('unicode-1-1-utf-7');
    expect(resolveCharset('ISO-8859-1')).toBe('windows-1252');
    expect(resolveCharset('latin1')).toBe('windows-1252');
    expect(decodeText(Buffer.from([0xf9, 0xec, 0xe5, 0xed]), 'iso-8859-8-i')).toBe('שלום');
    expect(resolveCharset('ks_c_5601-1987')).toBe('ks_c_5601-1987');
    expect(resolveCharset('UTF-8*en')).toBe('utf-8');
    expect(resolveCharset('x-unknown')).toBeNull();
    expect(resolveCharset('')).toBeNull();
  });
});

describe('decodeText: the declared charset, then UTF-8, then a fallback', () => {
  it('reads UTF-7 bodies (Outlook Express, some webmail) instead of leaving +AOM-', () => {
    expect(decodeText(Buffer.from('Reuni+AOM-o amanh+AOM- +AOA-s 10h. +ZeVnLIqe-'), 'utf-7')).toBe('Reunião amanhã às 10h. 日本語');
  });

  it('reads text declared UTF-8 that holds windows-1252 bytes (a signature pasted from Word) byte by byte', () => {
    const text = Buffer.concat([Buffer.from('Olá, veja o orçamento.\n'), bytes('-- \nJo\xe3o \x96 Comercial')]);
    expect(decodeText(text, 'utf-8')).toBe('Olá, veja o orçamento.\n-- \nJoão – Comercial');
    expect(decodeText(bytes('Cora\xe7\xe3o and caf\xc3\xa9'), 'utf-8')).toBe('Coração and café');
  });

  it('reads undeclared bytes in the charset the message declares elsewhere, else a detected one', () => {
    const russian = iconv.encode('Счёт не оплачен, просим проверить платёж', 'windows-1251');
    expect(decodeText(russian, null, 'windows-1251')).toBe('Счёт не оплачен, просим проверить платёж');
    expect(decodeText(russian, null)).toBe('Счёт не оплачен, просим проверить платёж');
    expect(decodeText(iconv.encode('お問い合わせの件について', 'shift_jis'), null)).toBe('お問い合わせの件について');
    expect(decodeText(bytes('Configura\xe7\xe3o da impress\xe3o n\xe3o funciona'), undefined)).toBe('Configuração da impressão não funciona');
  });

  it('trusts a declared legacy charset, but reads valid UTF-8 mislabelled as a multi-byte charset as UTF-8', () => {
    expect(decodeText(bytes('Caf\xc3\xa9'), 'iso-8859-1')).toBe('CafÃ©');
    expect(decodeText(Buffer.from('Olá — “aspas”'), 'shift_jis')).toBe('Olá — “aspas”');
  });

  it('gives every byte a reading when the fallback is a single-byte charset', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (b) => {
        expect(decodeUndeclared(b, 'windows-1252')).not.toContain('\ufffd');
      }),
    );
  });

  it('reads valid UTF-8 as UTF-8, whatever it holds', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 60 }), (s) => {
        expect(decodeUndeclared(Buffer.from(s, 'utf8'))).toBe(s);
      }),
    );
  });
});

describe('charsetHint', () => {
  it('takes the first charset a message declares that is not UTF-8, US-ASCII or UTF-7', () => {
    const raw = bytes('Content-Type: multipart/alternative; boundary="b"\r\n\r\n--b\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\nx\r\n--b\r\nContent-Type: text/html; charset="ISO-8859-15"\r\n\r\n<p>x</p>\r\n--b--\r\n');
    expect(charsetHint(raw)).toBe('iso-8859-15');
    expect(charsetHint(bytes('Content-Type: text/plain; charset=utf-8\r\n\r\nx'))).toBeNull();
  });
});

describe('decodeHeaderValue', () => {
  it('decodes UTF-7 encoded words (Q and B)', () => {
    expect(decodeHeaderValue('=?utf-7?Q?Reuni+AOM-o_de_amanh+AOM-?=')).toBe('Reunião de amanhã');
    expect(decodeHeaderValue(`=?UNICODE-1-1-UTF-7?B?${Buffer.from('Reuni+AOM-o').toString('base64')}?=`)).toBe('Reunião');
  });

  it('reads a raw 8-bit byte inside an encoded word in the charset the word declares', () => {
    expect(decodeHeaderValue(bytes('=?ISO-8859-1?Q?Promo=E7=E3o_de_ver\xe3o?='))).toBe('Promoção de verão');
    expect(decodeHeaderValue(bytes('=?UTF-8?Q?Promo=C3=A7=C3=A3o_de_ver\xc3\xa3o?='))).toBe('Promoção de verão');
    // A UTF-8 word with a windows-1252 byte in it: the byte in windows-1252, not U+FFFD.
    expect(decodeHeaderValue(bytes('=?UTF-8?Q?Promo=C3=A7=C3=A3o_de_ver\xe3o?='))).toBe('Promoção de verão');
  });

  it('reads raw 8-bit text as UTF-8 when it is, else in the hint, a detected charset or windows-1252', () => {
    expect(decodeHeaderValue(Buffer.from('Pedido de orçamento nº 12'))).toBe('Pedido de orçamento nº 12');
    expect(decodeHeaderValue(bytes('Pedido de or\xe7amento n\xba 12'), 'iso-8859-1')).toBe('Pedido de orçamento nº 12');
    expect(decodeHeaderValue(bytes('R\xe9union demain \x96 \x93salle B\x94'))).toBe('Réunion demain – “salle B”');
    expect(decodeHeaderValue(iconv.encode('Счёт не оплачен', 'koi8-r'), 'koi8-r')).toBe('Счёт не оплачен');
  });

  it('joins adjacent words of one charset before decoding, so a character split across them survives', () => {
    const acao = Buffer.from('Ação');
    const q = (b: Buffer) => [...b].map((x) => `=${x.toString(16).toUpperCase().padStart(2, '0')}`).join('');
    expect(decodeHeaderValue(`=?UTF-8?B?${acao.subarray(0, 2).toString('base64')}?=\r\n =?UTF-8?Q?${q(acao.subarray(2))}?=`)).toBe('Ação');
    expect(decodeHeaderValue('=?UTF-8?Q?a?= =?ISO-8859-1?Q?b?= c')).toBe('ab c');
  });

  it('leaves what is not an encoded word as it is', () => {
    expect(decodeHeaderValue('=?UTF-8?Q?unterminated')).toBe('=?UTF-8?Q?unterminated');
    expect(decodeHeaderValue('Re: [#2026000042] price = ? quote')).toBe('Re: [#2026000042] price = ? quote');
  });
});

describe('repairHeaderLine', () => {
  it('leaves lines mailparser reads right untouched', () => {
    expect(repairHeaderLine('Subject: =?UTF-8?B?Q29uZmlybWHDp8Ojbw==?=')).toBeNull();
    expect(repairHeaderLine('From: "Ana" <ana@example.com>')).toBeNull();
    expect(repairHeaderLine(Buffer.from('Subject: Olá').toString('latin1'))).toBeNull();
  });

  it('rewrites encoded words as UTF-8 words, so a decoded comma stays inside the display name', () => {
    const line = repairHeaderLine('From: =?utf-7?Q?Doe+ACw- John?= <john@example.com>')!;
    expect(line).toMatch(/^From: =\?UTF-8\?B\?[A-Za-z0-9+/=]+\?= <john@example\.com>$/);
    expect(decodeHeaderValue(line.slice(5)).trim()).toBe('Doe, John <john@example.com>');
  });

  it('rewrites raw 8-bit text as UTF-8', () => {
    expect(Buffer.from(repairHeaderLine('Subject: Relat\xf3rio mensal')!, 'latin1').toString('utf8')).toBe('Subject: Relatório mensal');
  });

  it('repairs a header section line by line, folding kept', () => {
    const block = bytes('From: Jos\xe9 <jose@example.com>\r\nSubject: =?utf-7?Q?Ol+AOE-?=\r\n =?utf-7?Q?_mundo?=\r\nX-Other: plain\r\n');
    const repaired = repairHeaderSection(block).toString('utf8');
    expect(repaired).toMatch(/^From: José <jose@example\.com>\r\nSubject: =\?UTF-8\?B\?\S+\?=\r\nX-Other: plain\r\n$/);
  });
});

describe('headerFields (the header list the API shows, classification reads)', () => {
  it('reads raw 8-bit fields in the charset the block declares, UTF-8 ones as UTF-8, never as U+FFFD', () => {
    const latin1 = headerFields(bytes('From: Jos\xe9 <jose@example.com>\r\nSubject: Relat\xf3rio\r\nContent-Type: text/plain; charset=iso-8859-1'));
    expect(latin1.slice(0, 2)).toEqual([
      { name: 'From', value: 'José <jose@example.com>' },
      { name: 'Subject', value: 'Relatório' },
    ]);
    expect(headerFields(Buffer.from('Subject: Relatório =?UTF-8?Q?x?='))).toEqual([{ name: 'Subject', value: 'Relatório =?UTF-8?Q?x?=' }]);
    expect(headerFields(bytes('Subject: R\xe9union \x96 salle B'))).toEqual([{ name: 'Subject', value: 'Réunion – salle B' }]);
  });
});
