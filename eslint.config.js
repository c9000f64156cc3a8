import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';
import dcmLayers from './eslint-rules/layers.js';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'coverage/', '.testenv/', 'testenv/**/*.go', 'helm/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': ['error', { allow: ['error'] }],
    },
  },
  {
    // The layers of architecture.md: imports point one way (eslint-rules/layers.js).
    files: ['src/**/*.ts'],
    plugins: { dcm: dcmLayers },
    rules: { 'dcm/layers': 'error' },
  },
  {
    files: ['test/**', 'scripts/**', 'bench/**'],
    rules: { 'no-console': 'off' },
  },
);
