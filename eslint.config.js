import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';
import dcmLayers from './eslint-rules/layers.js';

/** The libraries behind the two boundaries, and where each may be imported (architecture.md). */
const KUBERNETES = {
  names: ['@kubernetes/client-node'],
  message: 'reach a cluster through the ClusterGateway of src/kubernetes/, the only code that imports the library',
};
const MONGODB = {
  names: ['mongodb'],
  message: 'read and write through a store (*.store.ts) or src/db/, the only code that imports the driver',
};
/** no-restricted-imports refusing these libraries (and their subpaths); type-only imports too. */
const refuse = (...libraries) => [
  'error',
  {
    paths: libraries.flatMap(({ names, message }) => names.map((name) => ({ name, message }))),
    patterns: libraries.map(({ names, message }) => ({ group: names.map((name) => `${name}/*`), message })),
  },
];

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
    // The cluster library only in src/kubernetes/, the database driver only in stores and src/db/.
    files: ['src/**/*.ts'],
    rules: { 'no-restricted-imports': refuse(KUBERNETES, MONGODB) },
  },
  {
    files: ['src/kubernetes/**/*.ts'],
    rules: { 'no-restricted-imports': refuse(MONGODB) },
  },
  {
    files: ['src/**/*.store.ts', 'src/db/**/*.ts'],
    rules: { 'no-restricted-imports': refuse(KUBERNETES) },
  },
  {
    files: ['test/**', 'scripts/**', 'bench/**'],
    rules: { 'no-console': 'off' },
  },
);
