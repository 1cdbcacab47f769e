import { isUtf8 } from 'node:buffer';
import { CsvError, parse } from 'csv-parse/sync';
import { addressKey } from './email-address.js';

/**
 * Customers from a CSV file (seed 002, "Cadastro via planilha"): the file a person fills in
 * a spreadsheet, read as forgivingly as a person expects (any case in headers and names,
 * `;` or `,`, a BOM, CRLF, Excel's Windows-1252) and judged row by row: a good row is a
 * customer, a bad row is a line number and a reason. Pure: no database, no clock.
 */

/** The columns of the file, in the template's order. */
export const IMPORT_COLUMNS = [
  'name',
  'code',
  'email',
  'phone',
  'phone2',
  'mobile',
  'region',
  'customer_type',
  'consent_email',
  'consent_sms',
  'consent_phone',
  'consent_whatsapp',
] as const;
export type ImportColumn = (typeof IMPORT_COLUMNS)[number];

/** The largest file the import takes, in data rows: a bigger one should be split. */
export const MAX_IMPORT_ROWS = 200_000;

/** A problem with the whole file (no header, a broken quote): nothing is imported. */
export class CsvFileError extends Error {}

export interface ImportFailure {
  /** The physical line in the file where the row starts; the header is line 1. */
  line: number;
  /** The column (`region`, `email`, ...), or `row` for the row as a whole. */
  field: string;
  reason: string;
}

/** One data row: its line and its cells by column, trimmed, empty ones left out. */
export interface CsvRow {
  line: number;
  cells: Partial<Record<ImportColumn, string>>;
}

/** A row that passed: the customer to create, ready for the database. */
export interface ImportCustomer {
  line: number;
  name: string;
  /** null = generated (`C` + the zero-padded id). */
  code: string | null;
  email: string | null;
  emailKey: string | null;
  phone: string | null;
  phone2: string | null;
  mobile: string | null;
  regionId: number;
  customerTypeId: number | null;
  consentEmail: boolean;
  consentSms: boolean;
  consentPhone: boolean;
  consentWhatsapp: boolean;
}

/** A header as people write it: `Customer Type`, `customer-type`, `CUSTOMER_TYPE` and `customerType` are one column. */
const headerKey = (s: string) => s.normalize('NFC').toLowerCase().replace(/[^a-z0-9]/g, '');
const COLUMN_BY_KEY = new Map<string, ImportColumn>(IMPORT_COLUMNS.map((c) => [headerKey(c), c]));

/**
 * The text of the file: UTF-8 (a BOM is dropped by the parser); UTF-16 when it starts with
 * its BOM (Excel's "Unicode text"); Windows-1252 when the content type says so
 * (`charset=windows-1252`, `iso-8859-1`, `latin1`) or when the bytes are not UTF-8 (what
 * Excel's plain "CSV" format writes in Brazil).
 */
export function decodeCsv(file: Buffer, charset?: string): string {
  if (file[0] === 0xff && file[1] === 0xfe) return new TextDecoder('utf-16le').decode(file.subarray(2));
  if (file[0] === 0xfe && file[1] === 0xff) return new TextDecoder('utf-16be').decode(file.subarray(2));
  const declared = charset?.toLowerCase().replace(/["']/g, '').trim();
  const latin = declared !== undefined && ['windows-1252', 'cp1252', 'iso-8859-1', 'latin1', 'iso8859-1', 'latin-1'].includes(declared);
  return !latin && isUtf8(file) ? file.toString('utf8') : new TextDecoder('windows-1252').decode(file);
}

/** The field delimiter, read from the header line: `;` (Excel in Brazil), tab, or `,`. */
export function detectDelimiter(text: string): ';' | ',' | '\t' {
  const header = /^[^\r\n]*/.exec(text.replace(/^\uFEFF/, ''))?.[0] ?? '';
  const count = (c: string) => header.split(c).length - 1;
  const [semicolons, commas, tabs] = [count(';'), count(','), count('\t')];
  if (tabs > semicolons && tabs > commas) return '\t';
  return semicolons > commas ? ';' : ',';
}

/** Offsets where each line starts; CRLF, LF and a lone CR each end a line. */
function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 10 || (c === 13 && text.charCodeAt(i + 1) !== 10)) starts.push(i + 1);
  }
  return starts;
}

/** The 1-based line of an offset. */
function lineAt(starts: number[], offset: number): number {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid]! <= offset) lo = mid;
    else hi = mid - 1;
  }
  return lo + 1;
}

/**
 * Reads the file: the header names the columns (any case, in any order; unknown or repeated
 * columns are refused, so a typo never drops a column silently; empty cells at its end are
 * ignored), each further record is a
 * row with the line it starts on. Rows with every cell empty (Excel's trailing `;;;;`) are
 * skipped. Throws CsvFileError for a file that cannot be read as a whole.
 */
export function readCustomerCsv(text: string): { columns: ImportColumn[]; rows: CsvRow[]; failed: ImportFailure[] } {
  if (text.replace(/^\uFEFF/, '').trim() === '') throw new CsvFileError('the file is empty: it needs a header row naming the columns (see GET /customers/import/template)');
  const delimiter = detectDelimiter(text);
  // The parser counts offsets in UTF-8 bytes; lines are found on the same bytes.
  const bytes = Buffer.from(text, 'utf8');
  const starts = lineStarts(bytes.toString('latin1'));
  let records: { record: string[]; info: { bytes: number } }[];
  try {
    records = parse(bytes, {
      bom: true,
      delimiter,
      record_delimiter: ['\r\n', '\n', '\r'],
      relax_column_count: true,
      skip_empty_lines: true,
      info: true,
      trim: false,
    }) as unknown as { record: string[]; info: { bytes: number } }[];
  } catch (err) {
    if (err instanceof CsvError) throw new CsvFileError(`the file is not valid CSV: ${err.message}`);
    throw err;
  }
  const [header, ...data] = records;
  // Empty cells at the end of the header are spreadsheet leftovers (`name;region;;`), not columns.
  const names = [...header!.record];
  while (names.length > 0 && names.at(-1)!.trim() === '') names.pop();
  const columns = names.map((h, i): ImportColumn => {
    const column = COLUMN_BY_KEY.get(headerKey(h));
    if (!column) {
      throw new CsvFileError(`column ${i + 1} of the header, «${h.trim()}», is not a column of the import; the columns are: ${IMPORT_COLUMNS.join(', ')}`);
    }
    return column;
  });
  const repeated = columns.find((c, i) => columns.indexOf(c) !== i);
  if (repeated) throw new CsvFileError(`the header names the column ${repeated} twice`);
  for (const required of ['name', 'region'] as const) {
    if (!columns.includes(required)) throw new CsvFileError(`the header has no ${required} column; the columns are: ${IMPORT_COLUMNS.join(', ')}`);
  }
  if (data.length > MAX_IMPORT_ROWS) throw new CsvFileError(`the file has ${data.length} rows; the import takes at most ${MAX_IMPORT_ROWS}: split it`);

  const rows: CsvRow[] = [];
  const failed: ImportFailure[] = [];
  let end = header!.info.bytes;
  for (const { record, info } of data) {
    // The record starts at the first byte after the previous one that does not end a line.
    let start = end;
    while (bytes[start] === 10 || bytes[start] === 13) start++;
    end = info.bytes;
    if (record.every((cell) => cell.trim() === '')) continue;
    const line = lineAt(starts, start);
    if (record.slice(columns.length).some((cell) => cell.trim() !== '')) {
      failed.push({ line, field: 'row', reason: `has ${record.length} cells but the header names ${columns.length} columns (a delimiter inside a value needs quotes)` });
      continue;
    }
    const cells: CsvRow['cells'] = {};
    columns.forEach((column, i) => {
      const value = record[i]?.trim();
      if (value) cells[column] = value;
    });
    rows.push({ line, cells });
  }
  return { columns, rows, failed };
}

const YES = new Set(['yes', 'y', 'true', '1', 'sim', 's']);
const NO = new Set(['no', 'n', 'false', '0', 'não', 'nao']);

/** A yes/no cell: yes/no, true/false, 1/0, sim/não (any case); empty = no. Undefined when it is none of these. */
export function parseConsent(cell: string | undefined): boolean | undefined {
  if (cell === undefined) return false;
  const v = cell.normalize('NFC').trim().toLowerCase();
  if (YES.has(v)) return true;
  if (NO.has(v)) return false;
  return undefined;
}

/** How a name is matched: any case, any accents, any spacing (`sao  PAULO` finds «São Paulo»). */
export function nameKey(name: string): string {
  return name.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase().replace(/\s+/g, ' ').trim();
}

/** Names to ids; a name that two rows share once their accents and case are gone is ambiguous. */
export function nameIndex(items: { id: number; name: string }[]): Map<string, number[]> {
  const index = new Map<string, number[]>();
  for (const item of items) {
    const key = nameKey(item.name);
    index.set(key, [...(index.get(key) ?? []), item.id]);
  }
  return index;
}

/** The fields of a row, as POST /customers would receive them (ids resolved from names). */
export interface CustomerCandidate {
  name: string;
  code?: string;
  email?: string;
  phone?: string;
  phone2?: string;
  mobile?: string;
  regionId: number;
  customerTypeId: number | null;
}

/** The rules of a customer (schemas/customers.ts, shared with POST /customers): the customer as stored, or each problem by field. */
export type CustomerCheck = (candidate: CustomerCandidate) =>
  | { ok: true; customer: { name: string; email?: string | null; phone?: string | null; phone2?: string | null; mobile?: string | null } }
  | { ok: false; problems: { field: string; message: string }[] };

export interface ImportLookups {
  regions: Map<string, number[]>;
  customerTypes: Map<string, number[]>;
  /** The customer type of rows whose customer_type cell is empty (`?customerTypeId=`). */
  defaultCustomerTypeId?: number;
}

const FIELD_COLUMN: Record<string, ImportColumn> = {
  name: 'name',
  code: 'code',
  email: 'email',
  phone: 'phone',
  phone2: 'phone2',
  mobile: 'mobile',
  regionId: 'region',
  customerTypeId: 'customer_type',
};
const CONSENTS = [
  ['consent_email', 'consentEmail'],
  ['consent_sms', 'consentSms'],
  ['consent_phone', 'consentPhone'],
  ['consent_whatsapp', 'consentWhatsapp'],
] as const;

function resolveName(index: Map<string, number[]>, name: string, noun: string): number | string {
  const ids = index.get(nameKey(name)) ?? [];
  if (ids.length === 1) return ids[0]!;
  return ids.length === 0 ? `there is no ${noun} named «${name}»` : `«${name}» matches ${ids.length} ${noun}s (ids ${ids.join(', ')}); rename one of them`;
}

/**
 * Judges each row on its own, with the same rules as POST /customers (one schema), then
 * the file as a whole: a code or an e-mail address that an earlier row already has fails
 * the later row. A row with several problems gets one failure per problem.
 */
export function validateRows(rows: CsvRow[], lookups: ImportLookups, check: CustomerCheck): { valid: ImportCustomer[]; failed: ImportFailure[] } {
  const valid: ImportCustomer[] = [];
  const failed: ImportFailure[] = [];
  const codeLine = new Map<string, number>();
  const emailLine = new Map<string, number>();
  // A file names a few regions and types many times over: resolve each spelling once.
  const resolved = new Map<string, number | string>();
  const resolve = (index: Map<string, number[]>, name: string, noun: string) => {
    const key = `${noun}\u0000${name}`;
    let found = resolved.get(key);
    if (found === undefined) resolved.set(key, (found = resolveName(index, name, noun)));
    return found;
  };
  for (const { line, cells } of rows) {
    const problems: ImportFailure[] = [];
    const fail = (field: string, reason: string) => problems.push({ line, field, reason });

    if (cells.name === undefined) fail('name', 'is required');
    let regionId: number | undefined;
    if (cells.region === undefined) fail('region', 'is required (a region name)');
    else {
      const found = resolve(lookups.regions, cells.region, 'region');
      if (typeof found === 'number') regionId = found;
      else fail('region', found);
    }
    let customerTypeId: number | null = lookups.defaultCustomerTypeId ?? null;
    if (cells.customer_type !== undefined) {
      const found = resolve(lookups.customerTypes, cells.customer_type, 'customer type');
      if (typeof found === 'number') customerTypeId = found;
      else fail('customer_type', found);
    }
    const consents = {} as Record<(typeof CONSENTS)[number][1], boolean>;
    for (const [column, field] of CONSENTS) {
      const value = parseConsent(cells[column]);
      if (value === undefined) fail(column, `must be yes or no (also true/false, 1/0, sim/não), not «${cells[column]}»`);
      else consents[field] = value;
    }
    const checked = check({
      name: cells.name ?? 'x',
      code: cells.code,
      email: cells.email,
      phone: cells.phone,
      phone2: cells.phone2,
      mobile: cells.mobile,
      regionId: regionId ?? 1,
      customerTypeId,
    });
    if (!checked.ok) {
      for (const p of checked.problems) fail(FIELD_COLUMN[p.field] ?? 'row', p.message);
    }

    const code = cells.code ?? null;
    const emailKey = cells.email !== undefined ? addressKey(cells.email) : null;
    if (code !== null && codeLine.has(code)) fail('code', `«${code}» is also the code on line ${codeLine.get(code)}`);
    if (emailKey !== null && emailLine.has(emailKey)) fail('email', `«${cells.email}» is also the e-mail on line ${emailLine.get(emailKey)}`);

    if (problems.length > 0 || !checked.ok) {
      failed.push(...problems);
      continue;
    }
    if (code !== null) codeLine.set(code, line);
    if (emailKey !== null) emailLine.set(emailKey, line);
    const c = checked.customer;
    valid.push({
      line,
      name: c.name,
      code,
      email: c.email ?? null,
      emailKey,
      phone: c.phone ?? null,
      phone2: c.phone2 ?? null,
      mobile: c.mobile ?? null,
      regionId: regionId!,
      customerTypeId,
      ...consents,
    });
  }
  return { valid, failed };
}

/** Who already has a code or an e-mail address, as the database says. */
export interface TakenBy {
  codes: Map<string, { id: number; name: string }>;
  emailKeys: Map<string, { id: number; name: string }>;
}

/** Moves the rows whose code or e-mail address an existing customer has to the failures. */
export function withoutTaken(rows: ImportCustomer[], taken: TakenBy): { valid: ImportCustomer[]; failed: ImportFailure[] } {
  const valid: ImportCustomer[] = [];
  const failed: ImportFailure[] = [];
  for (const row of rows) {
    const byCode = row.code !== null ? taken.codes.get(row.code) : undefined;
    const byEmail = row.emailKey !== null ? taken.emailKeys.get(row.emailKey) : undefined;
    if (byCode) failed.push({ line: row.line, field: 'code', reason: `«${row.code}» is already the code of customer «${byCode.name}» (id ${byCode.id})` });
    if (byEmail) failed.push({ line: row.line, field: 'email', reason: `«${row.email}» is already the e-mail of customer «${byEmail.name}» (id ${byEmail.id})` });
    if (!byCode && !byEmail) valid.push(row);
  }
  return { valid, failed };
}

/** The template: the header and one example row (the region and type named as in this installation). */
export function templateRows(example: { region: string; customerType: string }): string[][] {
  return [
    [...IMPORT_COLUMNS],
    ['Maria da Silva', '123.456.789-09', 'maria.silva@example.com', '+55 11 3333-4444', '', '+55 11 99999-8888', example.region, example.customerType, 'yes', 'no', 'no', 'yes'],
  ];
}

/** Failures in file order. */
export function byLine(failures: ImportFailure[]): ImportFailure[] {
  return [...failures].sort((a, b) => a.line - b.line);
}
