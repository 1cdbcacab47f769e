import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { storableOrNull, storableText } from '../../domain/storable-text.js';

describe('text made storable in PostgreSQL', () => {
  it.each([
    ['a\u0000b', 'ab'],
    ['\u0000\u0000', ''],
    ['before\u0000\r\nafter\u0000', 'before\r\nafter'],
    ['josé ação 日本 😀', 'josé ação 日本 😀'],
    ['', ''],
  ])('%j → %j', (input, expected) => {
    expect(storableText(input)).toBe(expected);
  });

  it('drops every NUL and nothing else', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.string(), fc.constant('\u0000'))), (parts) => {
        const input = parts.join('');
        const out = storableText(input);
        expect(out).not.toContain('\u0000');
        expect(out).toBe([...input].filter((c) => c !== '\u0000').join(''));
      }),
    );
  });

  it('keeps null and undefined as null', () => {
    expect(storableOrNull(null)).toBeNull();
    expect(storableOrNull(undefined)).toBeNull();
    expect(storableOrNull('x\u0000')).toBe('x');
  });
});
