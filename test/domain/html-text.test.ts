import { describe, expect, it } from 'vitest';
import { htmlToPlainText, MAX_HTML_CHARS, MAX_HTML_DEPTH, nestsDeeperThan, withoutCidMarkers } from '../../domain/html-text.js';

describe('htmlToPlainText', () => {
  it('leaves inline images out of the text of an Outlook HTML body', () => {
    const html = [
      '<html><head><style>p.MsoNormal{margin:0cm}</style></head><body lang="PT-BR">',
      '<div class="WordSection1"><p class="MsoNormal">Bom dia,<o:p></o:p></p>',
      '<p class="MsoNormal">Segue o erro que aparece na tela:<o:p></o:p></p>',
      '<p class="MsoNormal"><img width="602" height="339" style="width:6.2708in" id="Imagem_x0020_1" src="cid:image001.png@01DA1C2B.3E5F8A70"><o:p></o:p></p>',
      '<p class="MsoNormal">Atenciosamente,<o:p></o:p></p>',
      '<p class="MsoNormal"><b>Maria Souza</b> | <a href="mailto:maria@cliente.com.br">maria@cliente.com.br</a><o:p></o:p></p>',
      '<p class="MsoNormal"><img border="0" width="120" height="40" src="cid:image002.jpg@01DA1C2B.3E5F8A70" alt="Logo Cliente"><o:p></o:p></p>',
      '</div></body></html>',
    ].join('\r\n');
    const text = htmlToPlainText(html);
    expect(text).not.toContain('cid:');
    expect(text).not.toContain('[');
    expect(text).toContain('Segue o erro que aparece na tela:');
    expect(text).toContain('Maria Souza | maria@cliente.com.br');
    expect(text).not.toContain('MsoNormal');
  });

  it('keeps headings as written and shows a link whose text is its address once', () => {
    expect(htmlToPlainText('<h2>Pedido 42</h2><p>Veja <a href="https://example.com/p/42">https://example.com/p/42</a> e <a href="https://example.com/help">a ajuda</a></p>')).toBe(
      'Pedido 42\n\nVeja https://example.com/p/42 e a ajuda [https://example.com/help]',
    );
  });

  it('reads markup nested deeper than it converts as text between tags', () => {
    const deep = `${'<div>'.repeat(MAX_HTML_DEPTH + 10)}deep text &amp; more${'</div>'.repeat(MAX_HTML_DEPTH + 10)}`;
    expect(htmlToPlainText(deep)).toBe('deep text & more');
    expect(htmlToPlainText(`${'<b>'.repeat(300_000)}never closed`)).toBe('never closed');
  });

  it('reads at most MAX_HTML_CHARS of markup and says the rest was cut', () => {
    const paragraph = '<p>Linha de texto do relatório.</p>\n';
    const text = htmlToPlainText(paragraph.repeat(Math.ceil((MAX_HTML_CHARS * 1.5) / paragraph.length)));
    expect(text.endsWith('[…]')).toBe(true);
    expect(text.length).toBeLessThan(MAX_HTML_CHARS);
  });
});

describe('nestsDeeperThan', () => {
  it('counts open elements as the parser builds them: void, self-closed and implied-end elements do not nest', () => {
    expect(nestsDeeperThan('<div><div><div>x</div></div></div>', 2)).toBe(true);
    expect(nestsDeeperThan('<div><div><div>x</div></div></div>', 3)).toBe(false);
    expect(nestsDeeperThan(`<table>${'<tr><td>cell'.repeat(5000)}</table>`, 3)).toBe(false);
    expect(nestsDeeperThan(`<p>${'<br><img src=x><span/>'.repeat(5000)}</p>`, 3)).toBe(false);
    expect(nestsDeeperThan(`<div>${'<!-- <div> -->'.repeat(10)}</div>`, 1)).toBe(false);
    expect(nestsDeeperThan('<a'.repeat(1_000_000), 1)).toBe(false);
  });
});

describe('withoutCidMarkers', () => {
  it('drops the [cid:…] markers Outlook writes into the text part for inline images', () => {
    expect(withoutCidMarkers('Segue o print:\r\n[cid:image001.png@01DA1C2B.3E5F8A70]\r\nObrigado')).toBe('Segue o print:\r\n\r\nObrigado');
    expect(withoutCidMarkers('Logo [cid:image002.jpg@01DA1C2B.3E5F8A70] Empresa')).toBe('Logo Empresa');
    expect(withoutCidMarkers('[#2026000042] [urgent]')).toBe('[#2026000042] [urgent]');
  });
});
