import { randomUUID } from 'node:crypto';
import type { LightMyRequestResponse } from 'fastify';
import { expect } from 'vitest';

/**
 * The bodies a careless or hostile client sends, made from one valid body: for each field a
 * wrong type, a 10,000-character string, unicode, an SQL-looking string, an id that does not
 * exist; each required field missing; an unknown field. `expect` says what must happen:
 * `refused` = a 4xx problem+json naming the field; `fine` = a 2xx that stores the value as
 * sent (free text); `fine-or-refused` = either (a text with a format, see FORMATTED).
 */
export interface BodyCase {
  name: string;
  body: Record<string, unknown>;
  field: string;
  expect: 'refused' | 'fine' | 'fine-or-refused';
}

const NOWHERE = 999_999_999;

/**
 * The API's fields whose text has a format (an address, a URL, a zone, a date, a login, a
 * value of a list): they may refuse unicode or SQL-looking text, naming the field. Any other
 * text field is free text and must store them as sent.
 */
const FORMATTED = new Set(['email', 'webhookUrl', 'timeZone', 'startsOn', 'endsOn', 'distributionTarget', 'slaUnit', 'flow', 'role', 'login', 'channel', 'status', 'phone', 'phone2', 'mobile']);

function wrongType(v: unknown): unknown {
  if (typeof v === 'string') return 12345;
  if (typeof v === 'number') return 'not a number';
  if (typeof v === 'boolean') return 'yes';
  if (Array.isArray(v)) return 'not a list';
  if (v && typeof v === 'object') return ['not', 'an', 'object'];
  return { unexpected: 'object' };
}

export function hostileBodies(valid: Record<string, unknown>, opts: { required: string[]; ids?: string[] }): BodyCase[] {
  const cases: BodyCase[] = [];
  const tag = () => randomUUID().slice(0, 8);
  for (const [field, value] of Object.entries(valid)) {
    const at = `body.${field}`;
    cases.push({ name: `${field} of the wrong type`, body: { ...valid, [field]: wrongType(value) }, field: at, expect: 'refused' });
    if (typeof value === 'string') {
      cases.push({ name: `${field} of 10,000 characters`, body: { ...valid, [field]: 'x'.repeat(10_000) }, field: at, expect: 'refused' });
      // Free text must take any text; a text with a format (an address, a login, a value of a list) may refuse it.
      const fine = FORMATTED.has(field) ? 'fine-or-refused' : 'fine';
      cases.push({ name: `${field} in unicode`, body: { ...valid, [field]: `Ação ünïcødé 漢字 🚀 ${tag()}` }, field: at, expect: fine });
      cases.push({ name: `${field} that looks like SQL`, body: { ...valid, [field]: `Robert'); DROP TABLE sector; -- ${tag()}` }, field: at, expect: fine });
    }
    if (opts.ids?.includes(field)) {
      cases.push({ name: `${field} that does not exist`, body: { ...valid, [field]: Array.isArray(value) ? [NOWHERE] : NOWHERE }, field: at, expect: 'refused' });
    }
  }
  for (const field of opts.required) {
    const { [field]: _gone, ...rest } = valid;
    cases.push({ name: `without ${field}`, body: rest, field: `body.${field}`, expect: 'refused' });
  }
  cases.push({ name: 'with an unknown field', body: { ...valid, surpriseField: 1 }, field: 'body.surpriseField', expect: 'refused' });
  return cases;
}

/** Checks the answer to one case: a 2xx must give back the value as it was sent. */
export function checkCase(res: LightMyRequestResponse, c: BodyCase): void {
  const what = `${c.name}: ${res.statusCode} ${res.body.slice(0, 300)}`;
  expect(res.statusCode, what).toBeLessThan(500);
  if (res.statusCode >= 400) {
    expect(c.expect, `${what} (free text must be stored as sent)`).not.toBe('fine');
    expect(res.headers['content-type'], what).toMatch(/^application\/problem\+json/);
    const fields = (res.json().errors ?? []).map((e: { field: string }) => e.field);
    expect(fields, what).toContain(c.field);
    return;
  }
  expect(c.expect, what).not.toBe('refused');
  const key = c.field.replace(/^body\./, '');
  expect(res.json()[key], what).toEqual(c.body[key]);
}
