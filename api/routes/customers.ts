import { stringify } from 'csv-stringify/sync';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { isPostgresError } from '../../db/constraint-errors.js';
import { customers, importLookups, insertImported, takenBy } from '../../db/customers.js';
import {
  byLine,
  CsvFileError,
  decodeCsv,
  IMPORT_COLUMNS,
  MAX_IMPORT_ROWS,
  nameIndex,
  readCustomerCsv,
  templateRows,
  validateRows,
  withoutTaken,
  type ImportFailure,
} from '../../domain/customer-import.js';
import { ADMIN_ONLY, ANY_ROLE, TICKET_ROLES } from '../../domain/roles.js';
import { boolParam, enumParam, idParam, idPath } from '../../schemas/common.js';
import { checkCustomer, customer, customerCreate, customerListQuery, customerPage, customerUpdate, importReport, reservedCodeProblem } from '../../schemas/customers.js';
import type { AppDeps } from '../deps.js';
import { badRequest, HttpProblem, notFound } from '../plugins/errors.js';

const IMPORT_BODY_LIMIT = 50 * 1024 * 1024;
/** What browsers and tools send for a .csv file (Windows says Excel). */
const CSV_TYPES = ['text/csv', 'application/csv', 'text/x-csv', 'application/vnd.ms-excel'];

const noCustomer = (id: number) => notFound(`There is no customer with id ${id}.`);

/**
 * A second customer with the same e-mail address (compared by its key, in any case): the
 * answer names the customer who has it. Other constraint verdicts are the errors plugin's.
 */
async function asRequestProblem(sql: AppDeps['sql'], err: unknown): Promise<unknown> {
  if (!isPostgresError(err)) return err;
  const value = /\)=\((.*)\)/s.exec(err.detail ?? '')?.[1];
  if (err.code === '23505' && err.constraint_name === 'customer_email_key_key' && value !== undefined) {
    const owner = await customers.withEmailKey(sql, value);
    const message = owner ? `is already the e-mail of customer «${owner.name}» (id ${owner.id})` : 'is already the e-mail of another customer';
    return new HttpProblem(409, 'Conflict', `email ${message}: two customers cannot share an address (compared in any case).`, [{ field: 'body.email', message }]);
  }
  return err;
}

/**
 * Customers (SPEC §3, seed 002): CRUD with observers, search, and the CSV import with its
 * downloadable template. Their contracts: routes/contracts.ts.
 */
export function customersRoutes(deps: AppDeps): FastifyPluginAsyncZod {
  return async (app) => {
    const { sql } = deps;
    const tags = ['customers'];
    const translate = async (err: unknown): Promise<never> => {
      throw await asRequestProblem(sql, err);
    };
    const existing = async (id: number) => (await customers.get(sql, id)) ?? Promise.reject(noCustomer(id));

    // The import's body is the file itself. Only this plugin's routes see this parser; the
    // import route raises the body limit for itself alone.
    app.addContentTypeParser(CSV_TYPES, { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

    app.get(
      '/customers',
      {
        config: { roles: ANY_ROLE },
        schema: {
          summary: 'List customers',
          description:
            '`q` finds customers whose name, e-mail or code contains the text, in any case (a substring: "silva" finds "Maria da Silva", ' +
            '"@acme.com.br" a whole company); a trigram index keeps it fast on large customer bases. Filters combine with AND. Oldest first.',
          tags,
          querystring: customerListQuery,
          response: { 200: customerPage },
        },
      },
      (req) => customers.list(sql, req.query),
    );

    app.get('/customers/:id', { config: { roles: ANY_ROLE }, schema: { summary: 'One customer', tags, params: idPath, response: { 200: customer } } }, (req) =>
      existing(req.params.id),
    );

    app.post(
      '/customers',
      {
        config: { roles: TICKET_ROLES },
        schema: {
          summary: 'Create a customer',
          description:
            'Agents register customers too (as in Zendesk and Freshdesk). `code` is generated (`C` + the zero-padded id) when left out; ' +
            'a code of your own (a CPF/CNPJ, stored as written) must be unique and must not have the generated form. `email` is unique whatever ' +
            'its case: a second customer with the address gets 409 naming `body.email`, and the e-mail path then finds this customer for mail ' +
            'from that address. `observerIds` are written in the same transaction as the customer.',
          tags,
          body: customerCreate,
          response: { 201: customer },
        },
      },
      async (req, reply) => {
        const reserved = reservedCodeProblem(req.body.code);
        if (reserved) throw badRequest('body.code', reserved);
        const created = await customers.create(sql, req.body).catch(translate);
        return reply.code(201).send(created);
      },
    );

    app.patch(
      '/customers/:id',
      {
        config: { roles: TICKET_ROLES },
        schema: {
          summary: 'Change a customer (only the fields given)',
          description:
            '`observerIds`, when given, replaces the whole set of observers. `regionId` and `code` cannot be cleared; `code` may be set to ' +
            "the customer's own generated code, not to another code of that form.",
          tags,
          params: idPath,
          body: customerUpdate,
          response: { 200: customer },
        },
      },
      async (req) => {
        const { id } = req.params;
        const reserved = reservedCodeProblem(req.body.code, id);
        if (reserved) throw badRequest('body.code', reserved);
        return (await customers.update(sql, id, req.body).catch(translate)) ?? Promise.reject(noCustomer(id));
      },
    );

    app.delete(
      '/customers/:id',
      {
        config: { roles: ADMIN_ONLY },
        schema: {
          summary: 'Delete a customer',
          description: 'Refused (409, naming tickets) while tickets are for the customer. Its contracts and observers are deleted with it.',
          tags,
          params: idPath,
          response: { 204: z.null().describe('deleted') },
        },
      },
      async (req, reply) => {
        if (!(await customers.remove(sql, req.params.id))) throw noCustomer(req.params.id);
        return reply.code(204).send(null);
      },
    );

    // ---------------------------------------------------------------- CSV import

    app.get(
      '/customers/import/template',
      {
        config: { roles: ADMIN_ONLY },
        schema: {
          summary: 'Download the CSV template of the customer import',
          description:
            'A `text/csv` attachment, `customers-template.csv`: the header row and one example row to overwrite (its region and customer ' +
            "type are named as in this installation). UTF-8 with a BOM, so Excel shows accents. `delimiter=semicolon` suits Excel in locales whose decimal separator is a comma (Brazil); the default is comma.",
          tags,
          querystring: z.strictObject({ delimiter: enumParam(['comma', 'semicolon']).optional().describe('default comma') }),
          response: { 200: { description: 'the template, as a file to save', content: { 'text/csv': { schema: z.string() } } } },
        },
      },
      async (req, reply) => {
        const { regions, customerTypes } = await importLookups(sql);
        const rows = templateRows({ region: regions[0]?.name ?? 'São Paulo', customerType: customerTypes[0]?.name ?? '' });
        const csv = stringify(rows, { delimiter: req.query.delimiter === 'semicolon' ? ';' : ',', record_delimiter: 'windows' });
        return reply
          .header('content-type', 'text/csv; charset=utf-8')
          .header('content-disposition', 'attachment; filename="customers-template.csv"')
          .send(`\uFEFF${csv}`);
      },
    );

    app.post(
      '/customers/import',
      {
        bodyLimit: IMPORT_BODY_LIMIT,
        config: { roles: ADMIN_ONLY },
        schema: {
          summary: 'Import customers from a CSV file',
          description: [
            `Send the file itself as the body (\`Content-Type: text/csv\`, up to 50 MB and ${MAX_IMPORT_ROWS.toLocaleString('en')} rows; e.g. \`curl --data-binary @customers.csv\`).`,
            `Columns, named in the header in any order (case, spaces, hyphens and underscores aside: \`Customer Type\` is customer_type): ${IMPORT_COLUMNS.join(', ')}. \`name\` and \`region\` are required; \`code\` is generated when empty; \`region\` and \`customer_type\` are names, ` +
              'matched in any case and without regard to accents or extra spaces; consents are yes/no, true/false, 1/0 or sim/não (empty = no). An unknown column refuses the whole file (400), so a misspelt header never drops data.',
            'UTF-8 with or without a BOM; UTF-16 with a BOM (Excel\'s "Unicode text"); a file that is not UTF-8 (or says `charset=windows-1252`) is read as Windows-1252, as Excel writes "CSV" in Brazil. `;`, `,` or tab, read from the header line; quoted fields; CRLF, LF or CR.',
            'Each row is judged with the same rules as POST /customers: a good row becomes a customer, a bad row is reported with its line (the header is line 1; a row with a line break in a quoted value is reported at its first line) and every reason, one `failed` entry per problem. A code or e-mail address already in the database, or on an earlier good row of the file, fails the row (the first good row keeps it). A row with more cells than the header fails as a whole (`field: row`). Rows whose cells are all empty are skipped and not counted.',
            '`customerTypeId` gives a customer type to the rows whose customer_type cell is empty; a row naming its own type keeps it.',
            'The good rows are written in one transaction: the file is imported, except its bad rows, or (if the server stops) not at all; imports run one at a time. A row whose code or e-mail another customer takes while the file is imported is reported, not written. `dryRun=true` judges the file, database checks included, and writes nothing; its `imported` counts the customers it would create.',
          ].join('\n\n'),
          tags,
          querystring: z.strictObject({
            dryRun: boolParam.optional().describe('true = report only, write nothing'),
            customerTypeId: idParam.optional().describe('the customer type of rows that name none'),
          }),
          response: { 200: importReport },
        },
      },
      async (req) => {
        const body: unknown = req.body;
        if (!Buffer.isBuffer(body) && typeof body !== 'string') {
          throw new HttpProblem(415, 'Unsupported Media Type', 'Send the CSV file itself as the body, with Content-Type: text/csv.');
        }
        const charset = /charset=([^;]+)/i.exec(req.headers['content-type'] ?? '')?.[1];
        const file = (() => {
          try {
            return readCustomerCsv(typeof body === 'string' ? body : decodeCsv(body, charset));
          } catch (err) {
            if (err instanceof CsvFileError) throw badRequest('body', err.message);
            throw err;
          }
        })();
        const dryRun = req.query.dryRun ?? false;
        const { customerTypeId } = req.query;
        const { regions, customerTypes } = await importLookups(sql);
        if (customerTypeId !== undefined && !customerTypes.some((t) => t.id === customerTypeId)) {
          throw badRequest('querystring.customerTypeId', `there is no customer type with id ${customerTypeId}`);
        }
        const checked = validateRows(file.rows, { regions: nameIndex(regions), customerTypes: nameIndex(customerTypes), defaultCustomerTypeId: customerTypeId }, checkCustomer);
        const taken = await takenBy(
          sql,
          checked.valid.flatMap((r) => (r.code !== null ? [r.code] : [])),
          checked.valid.flatMap((r) => (r.emailKey !== null ? [r.emailKey] : [])),
        );
        const free = withoutTaken(checked.valid, taken);
        let imported = free.valid.length;
        const lost: ImportFailure[] = [];
        if (!dryRun && free.valid.length > 0) {
          const result = await insertImported(sql, free.valid);
          imported = result.inserted;
          for (const row of result.lost) {
            const field = row.code !== null ? 'code' : 'email';
            lost.push({ line: row.line, field, reason: `another customer took this ${field === 'code' ? 'code' : 'e-mail address'} while the file was being imported` });
          }
        }
        return {
          dryRun,
          rows: file.rows.length + file.failed.length,
          imported,
          failed: byLine([...file.failed, ...checked.failed, ...free.failed, ...lost]),
        };
      },
    );

    // `/customers/import` is a path of its own, not the customer with id "import": every other
    // method gets 405 with `Allow: POST`, not a 400 about an id nor the methods of
    // /customers/:id (hidden from the docs; HEAD comes with GET). Refused on request, before
    // any body is read (QUERY would otherwise be a 400 for its missing content type).
    const notAllowed = async (req: FastifyRequest, reply: FastifyReply) => {
      reply.header('allow', 'POST');
      throw new HttpProblem(405, 'Method Not Allowed', `/customers/import answers POST, not ${req.method}.`);
    };
    app.route({
      method: app.supportedMethods.filter((m) => m !== 'POST' && m !== 'HEAD'),
      url: '/customers/import',
      config: { roles: ANY_ROLE },
      schema: { hide: true },
      onRequest: notAllowed,
      handler: notAllowed,
    });
  };
}
