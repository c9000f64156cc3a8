/**
 * The import bans of eslint.config.js: `@kubernetes/client-node` only in src/kubernetes/ (the
 * cluster gateway), `mongodb` only in stores (`*.store.ts`) and src/db/. Linted with the
 * project's own configuration, as `npm run lint` does, on source strings.
 */
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { ESLint } from 'eslint';

const eslint = new ESLint({ cwd: process.cwd() });

/** The messages of no-restricted-imports for `code` written in `file` (a path under the repository). */
async function bans(file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: path.join(process.cwd(), file) });
  return result!.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

const KUBERNETES = "import { KubeConfig } from '@kubernetes/client-node';\nexport const k = new KubeConfig();\n";
const KUBERNETES_TYPE = "import type { V1Pod } from '@kubernetes/client-node';\nexport type P = V1Pod;\n";
const MONGODB = "import { MongoClient } from 'mongodb';\nexport const c = MongoClient;\n";
const MONGODB_TYPE = "import type { Db } from 'mongodb';\nexport type D = Db;\n";

describe('the import bans', () => {
  it('refuses @kubernetes/client-node outside src/kubernetes/, also as a type or a subpath', async () => {
    const outside = ['src/controllers/namespace.controller.ts', 'src/features/drift/drift-watcher.ts', 'src/db/x.ts'];
    for (const file of outside) {
      expect(await bans(file, KUBERNETES)).toEqual([expect.stringContaining('ClusterGateway')]);
    }
    expect(await bans('src/features/lifecycle/x.store.ts', KUBERNETES_TYPE)).toHaveLength(1);
    expect(await bans('src/services.ts', "import '@kubernetes/client-node/dist/gen/index.js';\n")).toHaveLength(1);
  });

  it('refuses mongodb outside stores and src/db/, also as a type', async () => {
    const outside = ['src/observability/logical-cloud-states.ts', 'src/features/x.service.ts', 'src/kubernetes/x.ts'];
    for (const file of outside) {
      expect(await bans(file, MONGODB)).toEqual([expect.stringContaining('store')]);
    }
    expect(await bans('src/composition-root.ts', MONGODB_TYPE)).toHaveLength(1);
  });

  it('lets src/kubernetes/ import the cluster library, and stores and src/db/ the driver', async () => {
    expect(await bans('src/kubernetes/kube-cluster-gateway.ts', KUBERNETES)).toEqual([]);
    expect(await bans('src/features/lifecycle/credentials.store.ts', MONGODB)).toEqual([]);
    expect(await bans('src/db/mongo.ts', MONGODB_TYPE)).toEqual([]);
  });

  it('leaves tests, scripts and the bench alone', async () => {
    expect(await bans('test/integration/x.test.ts', KUBERNETES + MONGODB)).toEqual([]);
    expect(await bans('bench/x.ts', KUBERNETES)).toEqual([]);
  });
});
