/**
 * The layer rule of docs in ../shared/reference/architecture.md, stated as code: a module of
 * src/ imports only modules of its own layer or of the layers below it. A wrong arrow fails
 * `npm run lint` (CI) instead of waiting for a reviewer. Type-only imports count too: a type
 * that points upwards is the same coupling.
 */
import path from 'node:path';

/** Top to bottom; the first layer whose test matches a file (path relative to src/) is its layer. */
export const LAYERS = [
  {
    name: 'entry',
    test: (f) =>
      [
        'main.ts',
        'composition-root.ts',
        'services.ts',
        'stores.ts',
        'background-jobs.ts',
        'cluster-controllers.ts',
      ].includes(f),
  },
  {
    name: 'transports',
    test: (f) =>
      f.startsWith('http/') ||
      f.startsWith('grpc/') ||
      f.startsWith('observability/') ||
      f === 'auth/http.ts' ||
      f === 'auth/grpc.ts' ||
      (f.startsWith('features/') && (f.endsWith('.router.ts') || f.endsWith('/index.ts'))),
  },
  { name: 'features', test: (f) => f.startsWith('features/') },
  { name: 'policy', test: (f) => f.startsWith('auth/') },
  { name: 'controllers', test: (f) => f.startsWith('controllers/') },
  {
    name: 'infrastructure',
    test: (f) =>
      /^(kubernetes|db|certificates|security|kubeconfig|validation|jobs)\//.test(f) ||
      ['errors.ts', 'logger.ts', 'config.ts'].includes(f) ||
      /^config-[a-z]+\.ts$/.test(f),
  },
  { name: 'domain', test: (f) => f.startsWith('domain/') },
];

/**
 * A router is a transport: it validates, authorizes, calls its service and maps the result.
 * It never reaches storage itself: no `*.store.ts` and nothing of src/db/ (not even a type).
 */
export function routerReachesStorage(fromRelative, toRelative) {
  return fromRelative.endsWith('.router.ts') && (toRelative.endsWith('.store.ts') || toRelative.startsWith('db/'));
}

export function layerOf(relativePath) {
  const index = LAYERS.findIndex((l) => l.test(relativePath));
  return index === -1 ? undefined : { index, name: LAYERS[index].name };
}

const toPosix = (p) => p.split(path.sep).join('/');

export const layersRule = {
  meta: {
    type: 'problem',
    docs: { description: 'a module imports only from its own layer or the layers below it (architecture.md)' },
    schema: [],
    messages: {
      upward:
        '{{from}} ({{fromLayer}}) must not import {{to}} ({{toLayer}}): layers point one way (entry → transports → features → policy → controllers → infrastructure → domain)',
      unknown: '{{file}} belongs to no layer: add its folder to eslint-rules/layers.js',
      routerStore:
        '{{from}} must not import {{to}}: a router calls its service, which reaches the stores (architecture.md)',
    },
  },
  create(context) {
    const filename = context.filename ?? context.getFilename();
    const srcRoot = path.resolve(context.cwd ?? process.cwd(), 'src');
    const relative = toPosix(path.relative(srcRoot, filename));
    if (relative.startsWith('..') || !relative.endsWith('.ts')) return {};
    const from = layerOf(relative);
    const check = (node, source) => {
      if (!from) {
        context.report({ node, messageId: 'unknown', data: { file: relative } });
        return;
      }
      if (typeof source !== 'string' || !source.startsWith('.')) return;
      const target = toPosix(path.relative(srcRoot, path.resolve(path.dirname(filename), source))).replace(
        /\.js$/,
        '.ts',
      );
      if (target.startsWith('..')) return;
      if (routerReachesStorage(relative, target)) {
        context.report({ node, messageId: 'routerStore', data: { from: relative, to: target } });
        return;
      }
      const to = layerOf(target);
      if (to && to.index < from.index) {
        context.report({
          node,
          messageId: 'upward',
          data: { from: relative, fromLayer: from.name, to: target, toLayer: to.name },
        });
      }
    };
    return {
      ImportDeclaration: (node) => check(node, node.source.value),
      ExportNamedDeclaration: (node) => node.source && check(node, node.source.value),
      ExportAllDeclaration: (node) => check(node, node.source.value),
      ImportExpression: (node) => node.source.type === 'Literal' && check(node, node.source.value),
    };
  },
};

export default { rules: { layers: layersRule } };
