import { stringify } from 'csv-stringify/sync';
import { describe, expect, it } from 'vitest';
import {
  byLine,
  CsvFileError,
  decodeCsv,
  detectDelimiter,
  IMPORT_COLUMNS,
  nameIndex,
  nameKey,
  parseConsent,
  readCustomerCsv,
  templateRows,
  validateRows,
  withoutTaken,
  type ImportLookups,
} from '../../domain/customer-import.js';
import { checkCustomer } from '../../schemas/customers.js';

const lookups: ImportLookups = {
  regions: nameIndex([
    { id: 1, name: 'São Paulo' },
    { id: 2, name: 'Nordeste' },
    { id: 3, name: 'Rio  de Janeiro' },
    { id: 4, name: 'Sul' },
    { id: 5, name: 'SUL ' },
  ]),
  customerTypes: nameIndex([
    { id: 10, name: 'Pessoa Física' },
    { id: 11, name: 'Empresa' },
  ]),
};

const read = (text: string) => readCustomerCsv(text);
const judge = (text: string, l: ImportLookups = lookups) => {
  const file = read(text);
  const checked = validateRows(file.rows, l, checkCustomer);
  return { ...checked, failed: byLine([...file.failed, ...checked.failed]) };
};

describe('reading the file', () => {
  it('finds the delimiter on the header line', () => {
    expect(detectDelimiter('name;region;email\r\nA, B;Sul;a@b.co')).toBe(';');
    expect(detectDelimiter('\uFEFFname,region\nA;B,Sul')).toBe(',');
    expect(detectDelimiter('name\tregion\tcode\n')).toBe('\t');
    expect(detectDelimiter('name\n')).toBe(',');
  });

  it('reads UTF-8, and Windows-1252 when the bytes are not UTF-8 or the charset says so', () => {
    expect(decodeCsv(Buffer.from('\uFEFFname\nJoão', 'utf8'))).toBe('\uFEFFname\nJoão');
    const excel = Buffer.from([0x6e, 0x61, 0x6d, 0x65, 0x0a, 0x4a, 0x6f, 0xe3, 0x6f]); // "name\nJoão" in Windows-1252
    expect(decodeCsv(excel)).toBe('name\nJoão');
    expect(decodeCsv(Buffer.from('Ã£', 'latin1'), 'windows-1252')).toBe('Ã£');
    expect(decodeCsv(Buffer.from('é', 'utf8'), 'utf-8')).toBe('é');
    // Excel's "Unicode text": UTF-16 with a BOM, tab-separated.
    const unicodeText = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('name\tregion\r\nJoão\tSul\r\n', 'utf16le')]);
    expect(decodeCsv(unicodeText)).toBe('name\tregion\r\nJoão\tSul\r\n');
    expect(read(decodeCsv(unicodeText)).rows).toEqual([{ line: 2, cells: { name: 'João', region: 'Sul' } }]);
  });

  it('numbers rows by the physical line they start on: BOM, CRLF, LF, CR, blank lines and quoted line breaks', () => {
    const text = '\uFEFFname;region\r\nAna;Sul\r\n\r\n"Bruno\r\nda Costa";Sul\r\nCarla;Sul\nDiego;Sul\rElisa;"Sul"\n\n';
    const { rows, failed } = read(text);
    expect(failed).toEqual([]);
    expect(rows.map((r) => [r.line, r.cells.name])).toEqual([
      [2, 'Ana'],
      [4, 'Bruno\r\nda Costa'],
      [6, 'Carla'],
      [7, 'Diego'],
      [8, 'Elisa'],
    ]);
  });

  it('counts lines right after multi-byte characters', () => {
    const { rows } = read('name,region\nJoão Ação 漢字 🚀,Sul\n"Zé\nNinguém",Sul\nÚltimo,Sul');
    expect(rows.map((r) => r.line)).toEqual([2, 3, 5]);
  });

  it('reads headers in any case and spelling, in any order, and trims cells', () => {
    const { columns, rows } = read('REGION, Name ,Customer Type,consent-email,E-mail\n Sul , Ana ,Empresa,sim,ana@x.com\n');
    expect(columns).toEqual(['region', 'name', 'customer_type', 'consent_email', 'email']);
    expect(rows[0]!.cells).toEqual({ region: 'Sul', name: 'Ana', customer_type: 'Empresa', consent_email: 'sim', email: 'ana@x.com' });
  });

  it('skips rows whose cells are all empty, and fails a row with more cells than the header', () => {
    const { rows, failed } = read('name;region\nAna;Sul\n;\n  ;  \nBia;Sul;extra\nCid;Sul;\n');
    expect(rows.map((r) => r.cells.name)).toEqual(['Ana', 'Cid']);
    expect(failed).toEqual([{ line: 5, field: 'row', reason: expect.stringMatching(/3 cells but the header names 2 columns/) }]);
  });

  it('ignores empty cells at the end of the header, but not a value under them', () => {
    const { columns, rows, failed } = read('name;region;;\nAna;Sul;;\nBia;Sul;;lost\n');
    expect(columns).toEqual(['name', 'region']);
    expect(rows.map((r) => r.cells)).toEqual([{ name: 'Ana', region: 'Sul' }]);
    expect(failed).toEqual([{ line: 3, field: 'row', reason: expect.stringMatching(/4 cells but the header names 2 columns/) }]);
  });

  it.each([
    ['', /empty/],
    ['name,,region\nA,,Sul', /column 2 of the header, «», is not a column/],
    ['\uFEFF  \r\n', /empty/],
    ['name,region,notes\nA,Sul,x', /«notes», is not a column/],
    ['name,Name,region\n', /names the column name twice/],
    ['name,code\nA,1', /no region column/],
    ['name,region\n"Ana,Sul\n', /not valid CSV/],
  ])('refuses a file that cannot be read as a whole: %j', (text, message) => {
    expect(() => read(text)).toThrow(CsvFileError);
    expect(() => read(text)).toThrow(message);
  });
});

describe('yes/no cells and names', () => {
  it.each([
    ['yes', true],
    ['TRUE', true],
    ['1', true],
    ['Sim', true],
    ['no', false],
    ['false', false],
    ['0', false],
    ['não', false],
    ['NÃO', false],
    ['nao', false],
    ['na\u0303o', false],
    [undefined, false],
    ['maybe', undefined],
    ['2', undefined],
  ])('%j → %j', (cell, value) => {
    expect(parseConsent(cell)).toBe(value);
  });

  it('matches names in any case, accents and spacing', () => {
    expect(nameKey('  São   PAULO ')).toBe(nameKey('sao paulo'));
    expect(nameKey('Rio de Janeiro')).toBe(nameKey('Rio  de Janeiro'));
  });
});

describe('judging the rows', () => {
  it('turns good rows into customers with the ids of the names they give', () => {
    const { valid, failed } = judge(
      'name;code;email;phone;phone2;mobile;region;customer_type;consent_email;consent_sms;consent_phone;consent_whatsapp\r\n' +
        'Maria da Silva;123.456.789-09;Maria@Example.com;+55 11 3333-4444;;(11) 99999-8888;sao paulo;empresa;sim;não;1;\r\n' +
        'José;;;;;;Rio de Janeiro;;;;;\r\n',
    );
    expect(failed).toEqual([]);
    expect(valid).toEqual([
      {
        line: 2,
        name: 'Maria da Silva',
        code: '123.456.789-09',
        email: 'Maria@Example.com',
        emailKey: 'maria@example.com',
        phone: '+55 11 3333-4444',
        phone2: null,
        mobile: '(11) 99999-8888',
        regionId: 1,
        customerTypeId: 11,
        consentEmail: true,
        consentSms: false,
        consentPhone: true,
        consentWhatsapp: false,
      },
      {
        line: 3,
        name: 'José',
        code: null,
        email: null,
        emailKey: null,
        phone: null,
        phone2: null,
        mobile: null,
        regionId: 3,
        customerTypeId: null,
        consentEmail: false,
        consentSms: false,
        consentPhone: false,
        consentWhatsapp: false,
      },
    ]);
  });

  it('names the line, the column and the reason of every problem', () => {
    const { valid, failed } = judge(
      [
        'name,code,email,phone,region,customer_type,consent_sms',
        ',A1,,,Nordeste,,', // 2: no name
        'Bia,A2,,,,,', // 3: no region
        'Cid,A3,,,Atlantis,,', // 4: unknown region
        'Dani,A4,not-an-address,,Nordeste,,', // 5: bad e-mail
        'Edu,A5,,12,Nordeste,,', // 6: bad phone
        'Fábio,A6,,,Nordeste,Alien,', // 7: unknown customer type
        'Gil,A7,,,Nordeste,,talvez', // 8: bad consent
        'Hugo,C000123,,,Nordeste,,', // 9: a code of the generated form
        'Ivo,A9,,,Sul,,', // 10: two regions are «Sul» once spaced and cased alike
        `${'x'.repeat(201)},A10,,,Nordeste,,`, // 11: name too long
        ',,bad,,Atlantis,,', // 12: three problems at once
        'Ok,A12,ok@example.com,,Nordeste,,', // 13: fine
      ].join('\n'),
    );
    expect(valid.map((v) => v.line)).toEqual([13]);
    expect(failed.map((f) => [f.line, f.field])).toEqual([
      [2, 'name'],
      [3, 'region'],
      [4, 'region'],
      [5, 'email'],
      [6, 'phone'],
      [7, 'customer_type'],
      [8, 'consent_sms'],
      [9, 'code'],
      [10, 'region'],
      [11, 'name'],
      [12, 'name'],
      [12, 'region'],
      [12, 'email'],
    ]);
    const reason = (line: number, field = failed.find((f) => f.line === line)!.field) => failed.find((f) => f.line === line && f.field === field)!.reason;
    expect(reason(2)).toBe('is required');
    expect(reason(3)).toMatch(/is required/);
    expect(reason(4)).toBe('there is no region named «Atlantis»');
    expect(reason(5)).toMatch(/e-mail address/);
    expect(reason(6)).toMatch(/phone number/);
    expect(reason(7)).toBe('there is no customer type named «Alien»');
    expect(reason(8)).toMatch(/yes or no.*«talvez»/);
    expect(reason(9)).toMatch(/generated codes/);
    expect(reason(10)).toMatch(/matches 2 regions \(ids 4, 5\)/);
    expect(reason(11)).toMatch(/at most 200/);
  });

  it('fails a later row that repeats a code or an e-mail address (in any case) of an earlier good row', () => {
    const { valid, failed } = judge(
      ['name,code,email,region', 'Ana,K1,ana@x.com,Sul x', 'Ana,K1,ana@x.com,Nordeste', 'Bia,K1,bia@x.com,Nordeste', 'Cid,K3,ANA@X.COM,Nordeste', 'Dani,k1,,Nordeste'].join('\n'),
    );
    // Line 2 fails (no region «Sul x»), so line 3 is the first good row with K1 and ana@x.com.
    expect(valid.map((v) => v.line)).toEqual([3, 6]);
    expect(failed).toEqual([
      { line: 2, field: 'region', reason: 'there is no region named «Sul x»' },
      { line: 4, field: 'code', reason: '«K1» is also the code on line 3' },
      { line: 5, field: 'email', reason: '«ANA@X.COM» is also the e-mail on line 3' },
    ]);
  });

  it('gives the default customer type to rows that name none', () => {
    const { valid } = judge('name,region,customer_type\nA,Sul x,\nB,Nordeste,\nC,Nordeste,Pessoa Fisica', { ...lookups, defaultCustomerTypeId: 11 });
    expect(valid.map((v) => v.customerTypeId)).toEqual([11, 10]);
  });

  it('leaves out the rows whose code or e-mail address an existing customer has', () => {
    const { valid } = judge('name,code,email,region\nA,K1,,Nordeste\nB,,b@x.com,Nordeste\nC,K3,c@x.com,Nordeste');
    const result = withoutTaken(valid, { codes: new Map([['K1', { id: 7, name: 'Old A' }]]), emailKeys: new Map([['b@x.com', { id: 8, name: 'Old B' }]]) });
    expect(result.valid.map((v) => v.line)).toEqual([4]);
    expect(result.failed).toEqual([
      { line: 2, field: 'code', reason: '«K1» is already the code of customer «Old A» (id 7)' },
      { line: 3, field: 'email', reason: '«b@x.com» is already the e-mail of customer «Old B» (id 8)' },
    ]);
  });

  it('reads its own template back without a problem', () => {
    for (const delimiter of [',', ';']) {
      const csv = `\uFEFF${stringify(templateRows({ region: 'São Paulo', customerType: 'Empresa' }), { delimiter, record_delimiter: 'windows' })}`;
      const { valid, failed } = judge(csv);
      expect(failed).toEqual([]);
      expect(valid).toHaveLength(1);
      expect(read(csv).columns).toEqual([...IMPORT_COLUMNS]);
    }
  });
});
