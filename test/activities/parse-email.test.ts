import { createHash } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActivities } from '../../activities/index.js';
import { UNPROCESSABLE } from '../../contracts/failures.js';
import type { Sql } from '../../db/client.js';
import { appendMail, seedConfig, testSecrets, testSql } from '../harness/fixtures.js';

/**
 * parseEmail through Dovecot and PostgreSQL (real parts): what it stores of messages real
 * clients write, read back from the database. `\xNN` in a latin1 line is the raw byte 0xNN.
 */
let sql: Sql;
let cfg: Awaited<ReturnType<typeof seedConfig>>;
let act: ReturnType<typeof createActivities>;

beforeAll(async () => {
  sql = testSql();
  cfg = await seedConfig(sql);
  act = createActivities({ sql, secrets: testSecrets });
});
afterAll(() => sql.end());

const raw = (...lines: string[]) => Buffer.from(lines.join('\r\n'), 'latin1');

async function received(message: Buffer): Promise<number> {
  const { uid, uidValidity } = await appendMail(cfg.imap, message);
  return (await act.receiveEmail({ mailboxId: cfg.mailboxId, uidValidity, uid })).emailId;
}

async function storedEmail(emailId: number) {
  const [email] = await sql<{ subject: string | null; fromName: string | null; textBody: string | null }[]>`
    SELECT subject, from_name AS "fromName", text_body AS "textBody" FROM inbound_email WHERE id = ${emailId}`;
  const attachments = await sql<{ position: number; filename: string | null; contentType: string; inline: boolean; sha256: string; content: Buffer }[]>`
    SELECT position, filename, content_type AS "contentType", inline, sha256, content FROM email_attachment WHERE email_id = ${emailId} ORDER BY position`;
  return { ...email!, attachments };
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('parseEmail stores every character right', () => {
  it('a PHP form with raw ISO-8859-1 header fields and a UTF-7 part from Outlook Express', async () => {
    const emailId = await received(
      raw(
        'From: Jos\xe9 Concei\xe7\xe3o <jose@loja.example>',
        'To: suporte@mailtrack.test',
        'Subject: Pedido de or\xe7amento n\xba 1234',
        'Message-ID: <php-form-1234@loja.example>',
        'MIME-Version: 1.0',
        'Content-Type: multipart/alternative; boundary="==b1=="',
        'X-Mailer: PHP/7.4.33',
        '',
        '--==b1==',
        'Content-Type: text/plain; charset=iso-8859-1',
        'Content-Transfer-Encoding: 8bit',
        '',
        'Gostaria de um or\xe7amento para 3 impressoras.',
        '--==b1==',
        'Content-Type: text/html; charset="utf-7"',
        '',
        '+ADw-p+AD4-Gostaria de um or+AOc-amento para 3 impressoras.+ADw-/p+AD4-',
        '--==b1==--',
        '',
      ),
    );
    const parsed = await act.parseEmail(emailId);
    expect(parsed).toEqual({ fromAddress: 'jose@loja.example', subject: 'Pedido de orçamento nº 1234', attachments: 0 });
    expect(await storedEmail(emailId)).toMatchObject({ subject: 'Pedido de orçamento nº 1234', fromName: 'José Conceição', textBody: 'Gostaria de um orçamento para 3 impressoras.' });
  });

  it('Outlook HTML with inline images, and an Apple Mail text attachment: stored as attachments, not in the description, once however often the parse runs', async () => {
    const png = Buffer.from('89504e470d0a1a0a0000000d4948445200000001', 'hex');
    const log = Buffer.from('ERROR printer offline\nERROR retry failed\n');
    const emailId = await received(
      raw(
        'From: Maria Souza <maria@cliente.example>',
        'To: suporte@mailtrack.test',
        'Subject: Erro ao imprimir',
        'Message-ID: <outlook-inline-1@cliente.example>',
        'MIME-Version: 1.0',
        'Content-Type: multipart/mixed; boundary="_mixed_"',
        '',
        '--_mixed_',
        'Content-Type: multipart/related; boundary="_related_"; type="text/html"',
        '',
        '--_related_',
        'Content-Type: text/html; charset="us-ascii"',
        '',
        '<html><body><p>Segue o erro:</p><p><img src="cid:image001.png@01DA1C2B.3E5F8A70"></p><p>Obrigada</p></body></html>',
        '--_related_',
        'Content-Type: image/png; name="image001.png"',
        'Content-Disposition: inline; filename="image001.png"',
        'Content-ID: <image001.png@01DA1C2B.3E5F8A70>',
        'Content-Transfer-Encoding: base64',
        '',
        png.toString('base64'),
        '--_related_--',
        '',
        '--_mixed_',
        'Content-Disposition: inline; filename=printer.log',
        'Content-Type: text/plain; name="printer.log"',
        'Content-Transfer-Encoding: base64',
        '',
        log.toString('base64'),
        '--_mixed_--',
        '',
      ),
    );
    await act.parseEmail(emailId);
    await act.parseEmail(emailId);
    const stored = await storedEmail(emailId);
    expect(stored.textBody).toBe('Segue o erro:\n\nObrigada');
    expect(stored.attachments).toEqual([
      { position: 0, filename: 'image001.png', contentType: 'image/png', inline: true, sha256: sha256(png), content: png },
      { position: 1, filename: 'printer.log', contentType: 'text/plain', inline: false, sha256: sha256(log), content: log },
    ]);
  });

  it('refuses a message without a sender before storing any of its attachments', async () => {
    const emailId = await received(
      raw('To: suporte@mailtrack.test', 'Subject: no sender', 'Content-Type: multipart/mixed; boundary=b', '', '--b', 'Content-Type: text/plain', '', 'x', '--b', 'Content-Type: application/pdf; name=a.pdf', 'Content-Transfer-Encoding: base64', '', 'JVBERi0=', '--b--', ''),
    );
    const err = await act.parseEmail(emailId).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect((err as ApplicationFailure).type).toBe(UNPROCESSABLE);
    expect((await storedEmail(emailId)).attachments).toEqual([]);
  });
});
