import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

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
  {
    // Workflows are deterministic: no I/O, no Node APIs, only the workflow SDK and pure code.
    files: ['workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['node:*', 'fs', 'path', 'crypto', 'http', 'net'], message: 'Workflows must stay deterministic: no Node APIs.' },
            { group: ['../db/*', '../api/*', '../workers/*', '../stack/*', 'postgres', 'imapflow', 'mailparser', '@temporalio/client', '@temporalio/worker', '@temporalio/activity'], message: 'Workflows orchestrate; side effects belong in activities.' },
            { group: ['../activities/*'], allowTypeImports: true, message: 'Workflows may only import activity types.' },
            { group: ['../domain/email-address*', '../domain/customer-naming*'], message: 'These domain modules use node:url; workflows cannot.' },
          ],
        },
      ],
    },
  },
  {
    // The domain is pure: it imports nothing of ours.
    files: ['domain/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['../*'], message: 'domain/ imports nothing outside domain/.' }] }],
    },
  },
);
