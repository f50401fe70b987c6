// The linter of the whole tree (make lint; make test runs it before the tests): typescript-eslint's
// recommended rules, plus the two type-aware promise rules that catch a promise nobody awaits or an
// async callback whose rejection nobody would see (deliberate fire-and-forget is written `void p`).
// A disable comment that no longer suppresses anything is an error.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/node_modules/**', '**/dist/**', 'dist-local/**', '.local-run/**', 'shared/api/gen/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    languageOptions: { globals: globals.node },
    rules: {
      // `_name` marks what is unused on purpose (an element's unused ctx, a skipped tuple member).
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
    },
  },
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
    },
  },
  // Tests walk parsed YAML and JSON of any shape.
  { files: ['test/**/*.ts', '**/*.test.ts'], rules: { '@typescript-eslint/no-explicit-any': 'off' } },
  // jest.config.js and test/leak-check.js are CommonJS, as jest loads them.
  { files: ['**/*.js'], rules: { '@typescript-eslint/no-require-imports': 'off' } },
);
