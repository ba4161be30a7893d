import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', '**/.turbo/**', '.roster-data/**', 'test-output/**', 'apps/admin/**/*.vue', 'bench/results/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', fetch: 'readonly', performance: 'readonly', Buffer: 'readonly', AbortController: 'readonly', structuredClone: 'readonly', URLSearchParams: 'readonly', Response: 'readonly', Request: 'readonly', Headers: 'readonly', TextEncoder: 'readonly', TextDecoder: 'readonly', queueMicrotask: 'readonly', setImmediate: 'readonly', window: 'readonly', document: 'readonly', navigator: 'readonly', localStorage: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      '@typescript-eslint/no-explicit-any': 'error',
      'no-empty': ['error', { allowEmptyCatch: false }],
    },
  },
  // DESIGN.md: routes never import knex or objection (routes -> domain services -> repositories). The SCIM layer
  // maps the protocol onto packages/domain's commands; only the filter and sort compilers (and their tests)
  // speak SQL.
  {
    files: ['apps/scim-gateway/src/routes/**/*.ts', 'apps/scim-gateway/src/scim/**/*.ts'],
    ignores: ['apps/scim-gateway/src/scim/filter/compile-sql*.ts', 'apps/scim-gateway/src/scim/sort.ts', 'apps/scim-gateway/src/scim/sort.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            { name: 'knex', message: 'SQL belongs in packages/domain: call a directory command or repository there.' },
            { name: 'objection', message: 'Models belong in packages/domain: call a directory command there.' },
            { name: '@roster/db', message: 'The database belongs to packages/domain: call a directory command there.' },
          ],
          patterns: [{ group: ['@roster/db/*'], message: 'The database belongs to packages/domain.' }],
        },
      ],
    },
  },
);
