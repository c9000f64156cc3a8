/**
 * The import graph of src/: no module imports itself back through others (an import circle),
 * and every module belongs to a layer of eslint-rules/layers.js (which lint checks arrows of);
 * the lint rule itself refuses a wrong arrow, e.g. a router that reaches a store.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { Linter, type ESLint } from 'eslint';
import tseslint from 'typescript-eslint';
import dcmLayers, { layerOf } from '../../eslint-rules/layers.js';

const SRC = path.resolve('src');

function modules(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return modules(full);
    return e.name.endsWith('.ts') ? [full] : [];
  });
}

/** Relative imports and re-exports of a module (type-only ones too), as absolute .ts paths. */
function importsOf(file: string): string[] {
  const text = fs.readFileSync(file, 'utf8');
  return [...text.matchAll(/(?:import|export)\s[^'";]*?from\s+'(\.[^']+)'/g)].map((m) =>
    path.resolve(path.dirname(file), m[1]!.replace(/\.js$/, '.ts')),
  );
}

/** Strongly connected components of more than one module (Tarjan). */
function circles(graph: Map<string, string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string) => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(path.relative(SRC, w));
      } while (w !== v);
      if (component.length > 1) found.push(component.sort());
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return found;
}

describe('the import graph of src/', () => {
  const files = modules(SRC);
  const graph = new Map(files.map((f) => [f, importsOf(f)]));

  it('has no import circle', () => {
    expect(circles(graph)).toEqual([]);
  });

  it('finds a circle where there is one (the check can fail)', () => {
    const a = path.join(SRC, 'a.ts');
    const b = path.join(SRC, 'b.ts');
    expect(
      circles(
        new Map([
          [a, [b]],
          [b, [a]],
        ]),
      ),
    ).toEqual([['a.ts', 'b.ts']]);
  });

  it('puts every module in a layer, and a few where the architecture says', () => {
    const unplaced = files.map((f) => path.relative(SRC, f).split(path.sep).join('/')).filter((f) => !layerOf(f));
    expect(unplaced).toEqual([]);
    expect(layerOf('features/lifecycle/lifecycle.router.ts')?.name).toBe('transports');
    expect(layerOf('features/lifecycle/lifecycle.service.ts')?.name).toBe('features');
    expect(layerOf('features/kv-pairs/index.ts')?.name).toBe('transports');
    expect(layerOf('kubernetes/discovery.ts')?.name).toBe('infrastructure');
    expect(layerOf('domain/tenant-identity.ts')?.name).toBe('domain');
  });
});

/** The problems the layer rule reports for `code` written in `file` (a path under src/). */
function layerProblems(file: string, code: string): string[] {
  const linter = new Linter({ cwd: process.cwd() });
  const config = [
    {
      files: ['**/*.ts'],
      languageOptions: { parser: tseslint.parser as Linter.Parser },
      plugins: { dcm: dcmLayers as unknown as ESLint.Plugin },
      rules: { 'dcm/layers': 'error' as const },
    },
  ];
  return linter.verify(code, config, { filename: path.join(SRC, file) }).map((m) => m.message);
}

describe('the layer rule (eslint-rules/layers.js)', () => {
  const router = 'features/kv-pairs/kv-pair.router.ts';

  it("refuses a router that imports a store, even a store's type", () => {
    expect(layerProblems(router, "import { createKvPairStore } from './kv-pair.store.js';\n")).toEqual([
      expect.stringContaining('must not import features/kv-pairs/kv-pair.store.ts'),
    ]);
    expect(layerProblems(router, "import type { ProjectStore } from '../projects/project.store.js';\n")).toHaveLength(
      1,
    );
  });

  it('refuses a router that imports src/db/', () => {
    expect(layerProblems(router, "import { pairsToMap } from '../../db/named-record-store.js';\n")).toEqual([
      expect.stringContaining('must not import db/named-record-store.ts'),
    ]);
  });

  it('lets a router import its schema and service, and a service its store', () => {
    const routerCode =
      "import { KvPairView } from './kv-pair.schema.js';\nimport type { KvPairService } from './kv-pair.service.js';\n";
    expect(layerProblems(router, routerCode)).toEqual([]);
    const serviceCode = "import type { KvPairStore } from './kv-pair.store.js';\n";
    expect(layerProblems('features/kv-pairs/kv-pair.service.ts', serviceCode)).toEqual([]);
  });

  it('refuses an upward arrow (a service importing a router)', () => {
    expect(
      layerProblems('features/kv-pairs/kv-pair.service.ts', "import { kvPairCrud } from './kv-pair.router.js';\n"),
    ).toEqual([expect.stringContaining('(features) must not import features/kv-pairs/kv-pair.router.ts (transports)')]);
  });
});
