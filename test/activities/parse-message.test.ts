import { Readable } from 'node:stream';
import fc from 'fast-check';
import iconv from 'iconv-lite';
import { describe, expect, it } from 'vitest';
import { createByteBudget, parseMessage } from '../../activities/parse.js';
import { decodeHeaderValue } from '../../domain/mail-charset.js';

/**
 * parseMessage on messages as real clients and scripts write them (no database: the parse is
 * the same bytes-in, fields-out code the activity runs). `\xNN` in a latin1 string is the raw
 * byte 0xNN.
 */
const raw = (...lines: (string | Buffer)[]) => Buffer.concat(lines.map((l) => Buffer.concat([typeof l === 'string' ? Buffer.from(l, 'latin1') : l, Buffer.from('\r\n')])));
const utf8 = (s: string) => Buffer.from(s, 'utf8');

describe('charsets', () => {
  it('decodes a UTF-7 message from Outlook Express: subject, sender name and body', async () => {
    const m = await parseMessage(
      raw(
        'From: =?utf-7?Q?Jo+AOM-o_Silva?= <joao.silva@example.com.br>',
        'To: <suporte@mailtrack.test>',
        'Subject: =?utf-7?Q?Reuni+AOM-o_de_amanh+AOM-_cancelada?=',
        'Date: Mon, 23 Nov 2026 09:12:44 -0300',
        'Message-ID: <000a01d9$1b2c3d40$0201a8c0@joao>',
        'MIME-Version: 1.0',
        'Content-Type: text/plain; charset="utf-7"',
        'Content-Transfer-Encoding: 7bit',
        'X-Mailer: Microsoft Outlook Express 6.00.2900.5512',
        '',
        'Bom dia,',
        '',
        'A reuni+AOM-o de amanh+AOM- +AOk- cancelada. Pe+AOc-o desculpas.',
        '',
      ),
    );
    expect(m.subject).toBe('Reunião de amanhã cancelada');
    expect(m.from).toEqual({ address: 'joao.silva@example.com.br', name: 'João Silva' });
    expect(m.textBody).toBe('Bom dia,\n\nA reunião de amanhã é cancelada. Peço desculpas.');
  });

  it('decodes a UNICODE-1-1-UTF-7 HTML-only body', async () => {
    const m = await parseMessage(
      raw('From: a@example.com', 'Subject: html', 'MIME-Version: 1.0', 'Content-Type: text/html; charset=unicode-1-1-utf-7', '', '+ADw-p+AD4-Conex+AOM-o perdida+ADw-/p+AD4-', ''),
    );
    expect(m.textBody).toBe('Conexão perdida');
  });

  it('reads raw ISO-8859-1 header fields (a PHP mail() form) in the charset the body declares', async () => {
    const m = await parseMessage(
      raw(
        'From: Jos\xe9 Concei\xe7\xe3o <jose@loja.example>',
        'To: suporte@mailtrack.test',
        'Subject: Pedido de or\xe7amento n\xba 1234',
        'MIME-Version: 1.0',
        'Content-Type: text/plain; charset=iso-8859-1',
        'Content-Transfer-Encoding: 8bit',
        'X-Mailer: PHP/7.4.33',
        '',
        'Gostaria de um or\xe7amento para 3 impressoras. Obrigado!',
        '',
      ),
    );
    expect(m.subject).toBe('Pedido de orçamento nº 1234');
    expect(m.from).toEqual({ address: 'jose@loja.example', name: 'José Conceição' });
    expect(m.textBody).toBe('Gostaria de um orçamento para 3 impressoras. Obrigado!');
  });

  it('reads raw UTF-8 header fields as UTF-8 (RFC 6532), whatever the body declares', async () => {
    const m = await parseMessage(raw(utf8('From: "Müller, Jürgen" <jm@example.de>'), utf8('Subject: Rückfrage zur Rechnung – dringend'), 'Content-Type: text/plain; charset=iso-8859-1', '', 'Gr\xfc\xdfe', ''));
    expect(m.subject).toBe('Rückfrage zur Rechnung – dringend');
    expect(m.from).toEqual({ address: 'jm@example.de', name: 'Müller, Jürgen' });
    expect(m.textBody).toBe('Grüße');
  });

  it('keeps a raw UTF-8 header field that ends in à (its last byte, 0xA0, is a no-break space in latin1)', async () => {
    const m = await parseMessage(raw(utf8('From: Zoé <zoe@example.fr>'), utf8('Subject: Réunion reportée, voilà'), '', 'x', ''));
    expect(m.subject).toBe('Réunion reportée, voilà');
  });

  it('reads a raw 8-bit byte inside an encoded word in the charset the word declares', async () => {
    const m = await parseMessage(raw('From: =?ISO-8859-1?Q?Promo=E7=F5es_Ver\xe3o?= <news@promo.example>', 'Subject: =?ISO-8859-1?Q?Promo=E7=E3o_de_ver\xe3o?=', '', 'x', ''));
    expect(m.subject).toBe('Promoção de verão');
    expect(m.from.name).toBe('Promoções Verão');
  });

  it('reads raw windows-1252 header fields with no charset declared anywhere (smart quotes, dashes)', async () => {
    const m = await parseMessage(raw('From: suporte@fornecedor.example', 'Subject: R\xe9union \x96 \x93salle B\x94', '', 'Rendez-vous \xe0 14h.', ''));
    expect(m.subject).toBe('Réunion – “salle B”');
    expect(m.textBody).toBe('Rendez-vous à 14h.');
  });

  it('reads a body declared UTF-8 that holds windows-1252 bytes without replacement characters', async () => {
    const m = await parseMessage(
      raw('From: a@example.com', 'Subject: x', 'Content-Type: text/plain; charset=UTF-8', 'Content-Transfer-Encoding: quoted-printable', '', 'Ol=C3=A1, segue o or=C3=A7amento.', '--=20', 'Jo=E3o =96 Comercial', ''),
    );
    expect(m.textBody).toBe('Olá, segue o orçamento.\n-- \nJoão – Comercial');
  });

  it('reads an undeclared Cyrillic body in the charset the message declares for another part', async () => {
    const body = iconv.encode('Счёт не оплачен, просим проверить платёж.', 'koi8-r');
    const m = await parseMessage(
      raw('From: buh@firma.example', `Subject: =?koi8-r?B?${iconv.encode('Счёт', 'koi8-r').toString('base64')}?=`, 'MIME-Version: 1.0', 'Content-Type: multipart/mixed; boundary="x"', '', '--x', 'Content-Type: text/plain', 'Content-Transfer-Encoding: 8bit', '', body, '--x', 'Content-Type: application/pdf; name="schet.pdf"; charset=koi8-r', 'Content-Transfer-Encoding: base64', '', 'JVBERi0=', '--x--', ''),
    );
    expect(m.subject).toBe('Счёт');
    expect(m.textBody).toBe('Счёт не оплачен, просим проверить платёж.');
  });

  it('reads every header value as decodeHeaderValue does, whatever mix of encoded words and raw bytes it holds', async () => {
    const piece = fc.oneof(
      fc.constantFrom('Re:', 'Pedido', '[#2026000042]', ' ', '  ', 'a=?b', '?='),
      // Without U+FFFD itself: a sender who writes it gets it back (CI once drew `=?utf-8?Q?=EF=BF=BD?=`).
      fc
        .string({ unit: 'grapheme', minLength: 1, maxLength: 8 })
        .filter((s) => !s.includes('\ufffd'))
        .map((s) => ({ text: s, charset: 'utf-8' })),
      fc.constantFrom('Ação', 'Grüße', 'façade', 'naïve', 'voilà').map((s) => ({ text: s, charset: 'iso-8859-1' })),
      fc.constantFrom('Reunião', '日本語', 'ação').map((s) => ({ text: s, charset: 'utf-7' })),
    );
    const word = fc.tuple(piece, fc.constantFrom('Q', 'B', 'raw')).map(([p, how]) => {
      if (typeof p === 'string') return Buffer.from(p, 'latin1');
      const bytes = iconv.encode(p.text, p.charset);
      if (how === 'raw') return p.charset === 'utf-7' ? Buffer.from(`=?utf-7?Q?${bytes.toString('latin1').replace(/[ ?=_]/g, (c) => `=${c.charCodeAt(0).toString(16).toUpperCase()}`)}?=`) : bytes;
      const text = how === 'B' ? bytes.toString('base64') : [...bytes].map((b) => (/[A-Za-z0-9+-]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `=${b.toString(16).toUpperCase().padStart(2, '0')}`)).join('');
      return Buffer.from(`=?${p.charset}?${how}?${text}?=`, 'latin1');
    });
    await fc.assert(
      fc.asyncProperty(fc.array(word, { minLength: 1, maxLength: 6 }), async (words) => {
        const value = Buffer.concat(words.flatMap((w, i) => (i ? [Buffer.from(' '), w] : [w])));
        if (/[\r\n]/.test(value.toString('latin1'))) return;
        const m = await parseMessage(raw('From: a@example.com', Buffer.concat([Buffer.from('Subject: '), value]), '', 'x', ''));
        // mailparser reads the repaired line as decodeHeaderValue reads the same bytes (the space after the colon included).
        expect(m.subject ?? '').toBe(decodeHeaderValue(Buffer.concat([Buffer.from(' '), value])).replaceAll('\u0000', '').trim().normalize('NFC'));
        expect(m.subject ?? '').not.toContain('\ufffd');
      }),
      { numRuns: 300 },
    );
  });

  it('reads Japanese in ISO-2022-JP: encoded words, and raw escape sequences in header fields (old Japanese mailers)', async () => {
    const m = await parseMessage(
      raw(
        Buffer.from('From: \x1b$B;3ED\x1b(B \x1b$BB@O:\x1b(B <yamada@supplier.example.jp>', 'latin1'),
        'Subject: =?ISO-2022-JP?B?GyRCIVo7ajVeIVsbKEI=?= \x1b$BItIJ$NG<4|\x1b(B',
        'MIME-Version: 1.0',
        'Content-Type: text/plain; charset=ISO-2022-JP',
        'Content-Transfer-Encoding: 7bit',
        '',
        '\x1b$B$*@$OC$K$J$C$F$*$j$^$9!#\x1b(B',
        '',
      ),
    );
    expect(m.from.name).toBe('山田 太郎');
    expect(m.subject).toBe('【至急】 部品の納期');
    expect(m.textBody).toBe('お世話になっております。');
  });
});

describe('broken structure', () => {
  it('finds the parts of a multipart that names no boundary, from its first delimiter line', async () => {
    const m = await parseMessage(
      raw('From: a@example.com', 'Subject: x', 'MIME-Version: 1.0', 'Content-Type: multipart/alternative', '', '--sep_1763997246', 'Content-Type: text/plain; charset=us-ascii', '', 'The upload stops at 99%.', '', '--sep_1763997246', 'Content-Type: text/html; charset=us-ascii', '', '<p>The upload stops at 99%.</p>', '', '--sep_1763997246--', ''),
    );
    expect(m.textBody).toBe('The upload stops at 99%.');
  });

  it('reads a raw ISO-8859-1 file name (an old Outlook) in the charset the message declares', async () => {
    const m = await parseMessage(
      raw('From: a@example.com', 'Subject: x', 'Content-Type: multipart/mixed; boundary=b', '', '--b', 'Content-Type: text/plain; charset=iso-8859-1', '', 'segue', '--b', 'Content-Type: application/pdf; name="Relat\xf3rio mar\xe7o.pdf"', 'Content-Disposition: attachment; filename="Relat\xf3rio mar\xe7o.pdf"', 'Content-Transfer-Encoding: base64', '', 'JVBERi0=', '--b--', ''),
    );
    expect(m.attachments.map((a) => a.filename)).toEqual(['Relatório março.pdf']);
  });

  it('stores file names in composed form (Apple Mail writes à as a + U+0300)', async () => {
    const m = await parseMessage(
      raw('From: a@example.com', 'Subject: x', 'Content-Type: multipart/mixed; boundary=b', '', '--b', 'Content-Type: text/plain', '', 'see', '--b', 'Content-Type: image/png', "Content-Disposition: inline; filename*=utf-8''Tela%20a%CC%80s%2010.png", 'Content-Transfer-Encoding: base64', '', 'iVBORw0KGgo=', '--b--', ''),
    );
    expect(m.attachments.map((a) => a.filename)).toEqual(['Tela às 10.png']);
  });
});

describe('a source that fails', () => {
  it('rejects with the error of the stream the message is read from, and stops', async () => {
    const failing = Readable.from(
      (async function* () {
        yield Buffer.from('From: a@example.com\r\nSubject: x\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\npart');
        throw new Error('connection lost while reading the message');
      })(),
      { objectMode: false },
    );
    await expect(parseMessage(failing)).rejects.toThrow('connection lost while reading the message');
  });
});

describe('the description', () => {
  it('an Outlook HTML-only message with inline images has no [cid:…] and keeps the images as inline attachments', async () => {
    const png = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex');
    const m = await parseMessage(
      raw(
        'From: Maria Souza <maria@cliente.example>',
        'Subject: Erro ao emitir nota',
        'MIME-Version: 1.0',
        'Content-Type: multipart/related; boundary="_004_CP5PR80MB0123_"; type="text/html"',
        'X-MS-Has-Attach: yes',
        '',
        '--_004_CP5PR80MB0123_',
        'Content-Type: text/html; charset="iso-8859-1"',
        'Content-Transfer-Encoding: quoted-printable',
        '',
        '<html><body><p class=3D"MsoNormal">Segue o erro:</p><p class=3D"MsoNormal"><img width=3D"602" src=3D"cid:image001.png@01DA1C2B.3E5F8A70"></p><p>Obrigada, Maria</p></body></html>',
        '',
        '--_004_CP5PR80MB0123_',
        'Content-Type: image/png; name="image001.png"',
        'Content-Description: image001.png',
        'Content-Disposition: inline; filename="image001.png"; size=16',
        'Content-ID: <image001.png@01DA1C2B.3E5F8A70>',
        'Content-Transfer-Encoding: base64',
        '',
        png.toString('base64'),
        '',
        '--_004_CP5PR80MB0123_--',
        '',
      ),
    );
    expect(m.textBody).toBe('Segue o erro:\n\nObrigada, Maria');
    expect(m.attachments).toEqual([expect.objectContaining({ filename: 'image001.png', contentType: 'image/png', inline: true, contentId: '<image001.png@01DA1C2B.3E5F8A70>', content: png })]);
  });

  it("drops the [cid:…] markers of Outlook's text alternative", async () => {
    const m = await parseMessage(
      raw(
        'From: a@example.com',
        'Subject: print',
        'Content-Type: multipart/alternative; boundary="alt"',
        '',
        '--alt',
        'Content-Type: text/plain; charset="us-ascii"',
        '',
        'Segue o print:',
        '',
        '[cid:image001.png@01DA1C2B.3E5F8A70]',
        '',
        'Obrigado',
        '--alt',
        'Content-Type: text/html; charset="us-ascii"',
        '',
        '<p>Segue o print:</p><img src="cid:image001.png@01DA1C2B.3E5F8A70"><p>Obrigado</p>',
        '--alt--',
        '',
      ),
    );
    expect(m.textBody).toBe('Segue o print:\n\n\n\nObrigado');
  });

  it('stores an inline text part with a file name (Apple Mail) as an attachment, not in the description', async () => {
    const log = 'ERROR 2026-11-23 09:00:01 printer offline\nERROR 2026-11-23 09:00:05 retry failed\n';
    const m = await parseMessage(
      raw(
        'From: Ana <ana@example.com>',
        'Subject: logs',
        'Mime-Version: 1.0 (Mac OS X Mail 16.0 \\(3774.600.62\\))',
        'Content-Type: multipart/mixed; boundary="Apple-Mail=_8F2C"',
        '',
        '--Apple-Mail=_8F2C',
        'Content-Transfer-Encoding: 7bit',
        'Content-Type: text/plain; charset=us-ascii',
        '',
        'Segue o log da impressora.',
        '',
        '--Apple-Mail=_8F2C',
        'Content-Disposition: inline; filename=printer.log',
        'Content-Type: text/plain; x-unix-mode=0644; name="printer.log"',
        'Content-Transfer-Encoding: 7bit',
        '',
        log,
        '--Apple-Mail=_8F2C--',
        '',
      ),
    );
    expect(m.textBody).toBe('Segue o log da impressora.');
    expect(m.attachments).toEqual([expect.objectContaining({ filename: 'printer.log', contentType: 'text/plain', inline: false })]);
    expect(m.attachments[0]!.content.toString()).toContain('retry failed');
  });

  it('keeps the text of an HTML part that stands beside the text part (Apple Mail: text, image, HTML)', async () => {
    const m = await parseMessage(
      raw('From: a@example.com', 'Subject: x', 'Content-Type: multipart/mixed; boundary="m"', '', '--m', 'Content-Type: text/plain; charset=utf-8', '', 'First part.', '--m', 'Content-Type: text/html; charset=utf-8', '', '<p>Second <b>part</b>.</p>', '--m--', ''),
    );
    expect(m.textBody).toBe('First part.\n\nSecond part.');
  });
});

describe('hostile bodies are read in bounded work', () => {
  it('an HTML body with 5,000 links', async () => {
    const links = Array.from({ length: 5000 }, (_, i) => `<a href="https://example.com/track/${i}?utm_source=mail">offer ${i}</a>`).join('<br>\r\n');
    const m = await parseMessage(raw('From: a@example.com', 'Subject: links', 'Content-Type: text/html; charset=utf-8', '', `<html><body>${links}</body></html>`, ''));
    expect(m.textBody.split('\n')).toHaveLength(5000);
    expect(m.textBody).toContain('offer 4999 [https://example.com/track/4999?utm_source=mail]');
  });

  it('a text body with 5,000 links', async () => {
    const text = Array.from({ length: 5000 }, (_, i) => `http://x${i}.example.com/a/b?c=${i} www.y${i}.example`).join(' ');
    const m = await parseMessage(raw('From: a@example.com', 'Subject: links', '', text, ''));
    expect(m.textBody).toBe(text);
  });

  it('an HTML body nested 200 deep, and one nested 100,000 deep', async () => {
    const nested = (depth: number) => `${'<div><span>'.repeat(depth / 2)}the end${'</span></div>'.repeat(depth / 2)}`;
    for (const depth of [200, 100_000]) {
      const m = await parseMessage(raw('From: a@example.com', 'Subject: deep', 'Content-Type: text/html', '', nested(depth), ''));
      expect(m.textBody).toBe('the end');
    }
  });
});

describe('createByteBudget', () => {
  it('admits messages while they fit, a larger one alone, and the rest as bytes are released', async () => {
    const admit = createByteBudget(100);
    const order: string[] = [];
    const run = async (name: string, bytes: number, hold: Promise<void>) => {
      const release = await admit(bytes);
      order.push(`+${name}`);
      await hold;
      order.push(`-${name}`);
      release();
    };
    let finishA!: () => void;
    let finishB!: () => void;
    const a = run('a', 60, new Promise((r) => (finishA = r)));
    const b = run('b', 30, new Promise((r) => (finishB = r)));
    const big = run('big', 500, Promise.resolve());
    const small = run('small', 50, Promise.resolve());
    await new Promise((r) => setTimeout(r, 10));
    expect(order).toEqual(['+a', '+b']);
    finishA();
    await new Promise((r) => setTimeout(r, 10));
    expect(order.slice(0, 3)).toEqual(['+a', '+b', '-a']);
    expect(order).not.toContain('+big');
    finishB();
    await Promise.all([a, b, big, small]);
    // The large message is admitted once it is alone, and the small one only after it.
    expect(order).toEqual(['+a', '+b', '-a', '-b', '+big', '-big', '+small', '-small']);
  });
});
