import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

/**
 * What each folder may import of ours (README, "Layout"): data flows one way, and a folder
 * that imports what it should not fails the lint, not a review.
 */
const FOLDERS = ['domain', 'schemas', 'contracts', 'config', 'db', 'clients', 'activities', 'workflows', 'api', 'workers', 'stack', 'scripts', 'bench', 'test'];
const MAY_IMPORT = {
  domain: [],
  schemas: ['domain'],
  contracts: ['domain'],
  config: ['domain'],
  db: ['domain', 'schemas', 'contracts'],
  clients: ['domain', 'contracts', 'config', 'db'],
  activities: ['domain', 'schemas', 'contracts', 'config', 'db', 'clients'],
  workflows: ['domain', 'contracts'],
  api: ['domain', 'schemas', 'contracts', 'config', 'db', 'clients'],
  workers: ['domain', 'schemas', 'contracts', 'config', 'db', 'clients', 'activities', 'workflows'],
  stack: ['domain', 'schemas', 'contracts', 'config', 'db', 'clients', 'activities', 'workflows', 'api', 'workers'],
  scripts: ['domain', 'schemas', 'contracts', 'config', 'db', 'clients', 'activities', 'workflows', 'api', 'workers', 'stack'],
  bench: ['domain', 'schemas', 'contracts', 'config', 'db', 'clients', 'activities', 'workflows', 'api', 'workers', 'stack'],
  test: FOLDERS,
};
/** Type-only imports that carry no code across (a workflow's signature, an activity's type). */
const TYPES_ONLY = { workflows: ['activities'], clients: ['workflows'], api: ['workflows'] };

const importRules = Object.entries(MAY_IMPORT).map(([folder, allowed]) => ({
  files: [`${folder}/**/*.ts`],
  rules: {
    'no-restricted-imports': [
      'error',
      {
        patterns: [
          ...FOLDERS.filter((f) => f !== folder && !allowed.includes(f)).map((f) => ({
            group: [`../${f}/*`, `../../${f}/*`, `../../../${f}/*`],
            allowTypeImports: (TYPES_ONLY[folder] ?? []).includes(f),
            message: `${folder}/ may import ${[...allowed, ...(TYPES_ONLY[folder] ?? []).map((t) => `${t} (types)`)].join(', ') || 'nothing of ours'}, not ${f}/ (README, "Layout").`,
          })),
          ...(folder === 'workflows'
            ? [
                { group: ['node:*', 'fs', 'path', 'crypto', 'http', 'net'], message: 'Workflows must stay deterministic: no Node APIs.' },
                { group: ['postgres', 'imapflow', 'mailparser', '@temporalio/client', '@temporalio/worker', '@temporalio/activity'], message: 'Workflows orchestrate; side effects belong in activities.' },
                { group: ['../domain/email-address*', '../domain/customer-naming*'], message: 'These domain modules use node:url; workflows cannot.' },
              ]
            : []),
        ],
      },
    ],
  },
}));

export default tseslint.config(
  { ignores: ['node_modules/', '.data/', '.tools/', '.cache/', 'dist/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  { languageOptions: { globals: globals.node } },
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  ...importRules,
);
