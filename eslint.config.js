// ESLint flat config: typescript-eslint's recommended rules with type information (projectService reads tsconfig.json).
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', 'docs/', 'training/build/', 'training/data/', 'artifacts/'] },
  js.configs.recommended,
  tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      globals: { ...globals.node },
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // Leading underscore marks a deliberately unused binding (e.g. a property dropped by rest destructuring).
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' },
      ],
      // Lines stay readable: Prettier wraps code at 140, and this catches the long strings, comments and templates it cannot wrap.
      // (Deprecated in core ESLint for @stylistic/max-len, but available until ESLint 11; no extra dependency for one rule.)
      'max-len': ['error', { code: 160, ignoreUrls: true }],
      // Off: `async` without `await` is deliberate here — it implements Promise-returning interfaces and turns throws into rejections.
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/no-floating-promises': [
        'error',
        // node:test's describe/it return promises the runner itself tracks; awaiting them is not the convention.
        { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['describe', 'it', 'test', 'suite'] }] },
      ],
    },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    extends: [tseslint.configs.disableTypeChecked],
  },
);
