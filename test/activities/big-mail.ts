import { createHash, randomBytes } from 'node:crypto';

/**
 * A large message as Outlook sends one: text and HTML alternatives, then attachments in base64
 * (lines of 76), about `megabytes` MiB in all. Random bytes, so nothing compresses them.
 */
export function bigMail(megabytes: number, attachments = 3): { raw: Buffer; files: { filename: string; sha256: string; size: number }[] } {
  const per = Math.floor((megabytes * 1024 * 1024 * 3) / 4 / attachments);
  const head = [
    'From: "Carla Mendes" <carla.mendes@cliente.example>',
    'To: suporte@mailtrack.test',
    'Subject: =?iso-8859-1?Q?Relat=F3rios_do_m=EAs_(anexos)?=',
    `Date: ${new Date().toUTCString()}`,
    `Message-ID: <${randomBytes(8).toString('hex')}@cliente.example>`,
    'MIME-Version: 1.0',
    'Content-Type: multipart/mixed; boundary="_005_BIG_"',
    'X-Mailer: Microsoft Outlook 16.0',
    '',
    '--_005_BIG_',
    'Content-Type: multipart/alternative; boundary="_000_BIG_"',
    '',
    '--_000_BIG_',
    'Content-Type: text/plain; charset="iso-8859-1"',
    'Content-Transfer-Encoding: quoted-printable',
    '',
    'Seguem os relat=F3rios do m=EAs.',
    '',
    '--_000_BIG_',
    'Content-Type: text/html; charset="iso-8859-1"',
    'Content-Transfer-Encoding: quoted-printable',
    '',
    '<html><body><p>Seguem os relat=F3rios do m=EAs.</p></body></html>',
    '',
    '--_000_BIG_--',
    '',
  ].join('\r\n');
  const parts: Buffer[] = [Buffer.from(head)];
  const files: { filename: string; sha256: string; size: number }[] = [];
  for (let i = 0; i < attachments; i++) {
    const content = randomBytes(per);
    const filename = `relatorio-${i + 1}.pdf`;
    files.push({ filename, sha256: createHash('sha256').update(content).digest('hex'), size: content.length });
    parts.push(
      Buffer.from(`--_005_BIG_\r\nContent-Type: application/pdf; name="${filename}"\r\nContent-Disposition: attachment; filename="${filename}"\r\nContent-Transfer-Encoding: base64\r\n\r\n`),
      Buffer.from(content.toString('base64').replace(/.{76}/g, '$&\r\n')),
      Buffer.from('\r\n\r\n'),
    );
  }
  parts.push(Buffer.from('--_005_BIG_--\r\n'));
  return { raw: Buffer.concat(parts), files };
}
