/**
 * The DCM under test, composed exactly as in production (composition root) — in this process,
 * listening on 127.0.0.1:0, or as a child process `node --import tsx src/main.ts` whose
 * memory can be read from /proc — plus a small REST client and the fixtures the sections share.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { MongoClient, type Db } from 'mongodb';
import ts from 'typescript';
import { pino } from 'pino';
import { createDcm, type Dcm, type ServiceDependencies } from '../src/composition-root.js';
import { defaultConfig, type Config } from '../src/config.js';
import { generateEncryptionKey, parseEncryptionKeys, SecretCipher } from '../src/security/secret-cipher.js';
import { design } from '../test/support/dcm.js';
import { repoRoot } from '../test/testenv/layout.js';
import { freePort, isAlive, stopProcess, waitFor } from '../test/testenv/processes.js';
import type { BenchCluster } from './env.js';

export { design };

// ---- REST ----------------------------------------------------------------------------------

export interface Reply {
  status: number;
  body: unknown;
  text: string;
}

export class RestClient {
  /** Headers of every request (the bearer token of a DCM with authentication). */
  readonly headers: Record<string, string>;

  constructor(
    readonly baseUrl: string,
    token?: string,
  ) {
    this.headers = token ? { authorization: `Bearer ${token}` } : {};
  }

  async request(method: string, urlPath: string, body?: unknown): Promise<Reply> {
    const res = await fetch(`${this.baseUrl}${urlPath}`, {
      method,
      headers: body === undefined ? this.headers : { ...this.headers, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      /* not JSON */
    }
    return { status: res.status, body: parsed, text };
  }

  /** A request that must answer `expected`; anything else fails the benchmark with the answer. */
  async expect(method: string, urlPath: string, expected: number, body?: unknown): Promise<Reply> {
    const reply = await this.request(method, urlPath, body);
    if (reply.status !== expected)
      throw new Error(`${method} ${urlPath}: expected ${expected}, got ${reply.status}: ${reply.text.slice(0, 500)}`);
    return reply;
  }
}

export const lcPath = (project: string, lc: string): string => `/v2/projects/${project}/logical-clouds/${lc}`;

/** The design's logical cloud (two inline permissions) under names of the benchmark's own. */
export function logicalCloudBody(name: string, namespace: string, user: string) {
  const body = design.logicalCloud();
  body.metadata.name = name;
  body.spec.namespace = namespace;
  body.spec.user['user-name'] = user;
  return body;
}

export async function createProject(rest: RestClient, project: string): Promise<void> {
  await rest.expect('POST', '/v2/projects', 201, { metadata: { name: project } });
}

/** A cluster provider and the given clusters registered under it (optionally with the cluster's CA key). */
export async function registerClusters(
  rest: RestClient,
  provider: string,
  clusters: { name: string; cluster: BenchCluster; withCaKey?: boolean }[],
): Promise<void> {
  await rest.expect('POST', '/v2/cluster-providers', 201, { metadata: { name: provider } });
  for (const c of clusters) {
    const spec: Record<string, string> = { kubeconfig: fs.readFileSync(c.cluster.kubeconfigPath, 'utf8') };
    if (c.withCaKey) {
      if (!c.cluster.caKeyPath) throw new Error(`${c.cluster.name} has no CA key (DCM_TEST_CLUSTER_n_CA_KEY)`);
      spec['ca-key'] = fs.readFileSync(c.cluster.caKeyPath, 'utf8');
    }
    await rest.expect('POST', `/v2/cluster-providers/${provider}/clusters`, 201, { metadata: { name: c.name }, spec });
  }
}

/** A logical cloud as the scale and fan-out sections store it: two permissions, a quota, cluster references. */
export async function createLogicalCloud(
  rest: RestClient,
  project: string,
  lc: {
    name: string;
    namespace: string;
    user: string;
    references: { name: string; provider: string; cluster: string }[];
  },
): Promise<void> {
  await rest.expect(
    'POST',
    `/v2/projects/${project}/logical-clouds`,
    201,
    logicalCloudBody(lc.name, lc.namespace, lc.user),
  );
  await createChildren(rest, project, lc);
}

/** A logical cloud's cluster references and quota, as createLogicalCloud makes them. */
export async function createChildren(
  rest: RestClient,
  project: string,
  lc: { name: string; references: { name: string; provider: string; cluster: string }[] },
): Promise<void> {
  for (const r of lc.references) {
    await rest.expect('POST', `${lcPath(project, lc.name)}/cluster-references`, 201, {
      name: r.name,
      'cluster-provider': r.provider,
      'cluster-name': r.cluster,
    });
  }
  await rest.expect('POST', `${lcPath(project, lc.name)}/cluster-quotas`, 201, design.quota());
}

// ---- a DCM in this process -------------------------------------------------------------------

export interface InProcessDcm {
  dcm: Dcm;
  db: Db;
  databaseName: string;
  rest: RestClient;
  url: string;
  server: Server;
  close(): Promise<void>;
}

export const benchCipher = new SecretCipher(parseEncryptionKeys(generateEncryptionKey('bench')));

export async function startInProcessDcm(opts: {
  mongoUrl: string;
  databaseName: string;
  config?: Partial<Config>;
  gateways?: ServiceDependencies['gateways'];
}): Promise<InProcessDcm> {
  const mongo = await MongoClient.connect(opts.mongoUrl);
  const db = mongo.db(opts.databaseName);
  const dcm = await createDcm({
    db,
    logger: pino({ level: process.env.BENCH_DCM_LOG_LEVEL ?? 'silent' }),
    config: { ...defaultConfig(), ...opts.config },
    cipher: benchCipher,
    bodyLimit: '1mb',
    ready: async () => true,
    auth: { mode: 'development' },
    ...(opts.gateways ? { gateways: opts.gateways } : {}),
  });
  const server: Server = await new Promise((resolve) => {
    const s = dcm.app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    dcm,
    db,
    databaseName: opts.databaseName,
    rest: new RestClient(url),
    url,
    server,
    close: async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await dcm.services.lifecycle.idle();
      await dropWithRetry(db, opts.databaseName);
      await mongo.close();
    },
  };
}

// ---- a DCM as a child process ------------------------------------------------------------------

export interface ProcessMemory {
  rss: number;
  /** Peak RSS of the process so far (VmHWM). */
  peak: number;
}

/** RSS and peak RSS of a process, from /proc/<pid>/status. */
export function processMemory(pid: number): ProcessMemory {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
  return { rss: kib('VmRSS'), peak: kib('VmHWM') };
}

export interface ChildDcm {
  pid: number;
  url: string;
  rest: RestClient;
  log: string;
  memory(): ProcessMemory;
  stop(): Promise<void>;
}

/**
 * The DCM compiled ahead of time, as `npm run build` makes `dist/` for `node dist/main.js`
 * (production), but into a temporary directory and without type checking: every src/ file
 * transpiled by TypeScript (`transpileModule`, the build's compiler options). node_modules and
 * proto/ are linked next to it.
 */
/** The node flags production runs the DCM with: those of `npm run start:prod` (and the image's CMD). */
export function productionNodeFlags(): string[] {
  const pkg = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as {
    scripts: Record<string, string>;
  };
  return pkg.scripts['start:prod']!.split(/\s+/).filter((word) => word.startsWith('--'));
}

export function buildToTemp(): { dir: string; main: string; remove(): void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dcm-bench-build-'));
  const src = path.join(repoRoot, 'src');
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const file = path.join(d, e.name);
      if (e.isDirectory()) walk(file);
      else if (file.endsWith('.ts') && !file.endsWith('.d.ts')) {
        const out = path.join(dir, 'dist', path.relative(src, file)).replace(/\.ts$/, '.js');
        const { outputText } = ts.transpileModule(fs.readFileSync(file, 'utf8'), {
          fileName: file,
          compilerOptions: {
            module: ts.ModuleKind.ES2022,
            target: ts.ScriptTarget.ES2022,
            esModuleInterop: true,
            verbatimModuleSyntax: true,
          },
        });
        fs.mkdirSync(path.dirname(out), { recursive: true });
        fs.writeFileSync(out, outputText);
      }
    }
  };
  walk(src);
  fs.symlinkSync(path.join(repoRoot, 'node_modules'), path.join(dir, 'node_modules'));
  fs.symlinkSync(path.join(repoRoot, 'proto'), path.join(dir, 'proto'));
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ type: 'module', private: true }));
  return {
    dir,
    main: path.join(dir, 'dist', 'main.js'),
    remove: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}

/**
 * The DCM as a child process on its own database, on free ports of 127.0.0.1, with a static
 * bearer token: `node --import tsx src/main.ts`, or `node <main>` of a build. Resolves once /readyz answers 200.
 */
export async function startChildDcm(opts: {
  mongoUrl: string;
  databaseName: string;
  /** DCM_ENCRYPTION_KEYS: the same for every DCM on one database (the DCM's own CA key is stored sealed). */
  encryptionKeys: string;
  env?: Record<string, string>;
  builtMain?: string;
}): Promise<ChildDcm> {
  const [httpPort, grpcPort] = [await freePort(), await freePort()];
  const log = path.join(os.tmpdir(), `dcm-bench-${opts.databaseName}-${opts.builtMain ? 'built' : 'tsx'}.log`);
  // Production-like: authentication by a static bearer token (an admin's).
  const token = randomBytes(24).toString('hex');
  const tokensFile = path.join(os.tmpdir(), `dcm-bench-${opts.databaseName}-tokens.json`);
  fs.writeFileSync(tokensFile, JSON.stringify([{ name: 'bench', token, role: 'admin' }]), { mode: 0o600 });
  const fd = fs.openSync(log, 'w');
  const args = opts.builtMain ? [...productionNodeFlags(), opts.builtMain] : ['--import', 'tsx', 'src/main.ts'];
  const child: ChildProcess = spawn(process.execPath, args, {
    cwd: repoRoot,
    stdio: ['ignore', fd, fd],
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      NODE_ENV: 'production',
      MONGO_URL: opts.mongoUrl,
      DCM_DATABASE: opts.databaseName,
      DCM_HOST: '127.0.0.1',
      DCM_HTTP_PORT: String(httpPort),
      DCM_GRPC_PORT: String(grpcPort),
      DCM_LOG_LEVEL: 'warn',
      DCM_ENCRYPTION_KEYS: opts.encryptionKeys,
      DCM_AUTH_TOKENS_FILE: tokensFile,
      // Node's own options for the DCM processes (e.g. V8 heap flags), to compare their effect.
      ...(process.env.BENCH_DCM_NODE_OPTIONS ? { NODE_OPTIONS: process.env.BENCH_DCM_NODE_OPTIONS } : {}),
      ...opts.env,
    },
  });
  fs.closeSync(fd);
  const pid = child.pid;
  if (pid === undefined) throw new Error('could not start the DCM process');
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${httpPort}`;
  let keepLog = false;
  const stop = async () => {
    fs.rmSync(tokensFile, { force: true });
    if (isAlive(pid)) {
      await stopProcess(pid, 15_000);
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 1000))]);
    }
    if (!keepLog) fs.rmSync(log, { force: true });
  };
  try {
    // Waits on the condition (the process answers ready); fails at once, with its log, if it exits.
    const ready = () => fetch(`${url}/readyz`).then((r) => r.status === 200);
    await waitFor('the DCM process', ready, { timeoutMs: 60_000, process: { name: 'dcm', pid, log } });
  } catch (error) {
    keepLog = true;
    await stop();
    throw error;
  }
  return { pid, url, rest: new RestClient(url, token), log, memory: () => processMemory(pid), stop };
}

/** Drops a benchmark database; FerretDB may refuse while a request of a stopped server is still finishing, so once more after a moment. */
async function dropWithRetry(db: Db, databaseName: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await db.dropDatabase();
      return;
    } catch (error) {
      if (attempt === 3) {
        console.error(`[bench] could not drop database ${databaseName}: ${(error as Error).message}`);
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }
}

export async function dropDatabase(mongoUrl: string, databaseName: string): Promise<void> {
  const mongo = await MongoClient.connect(mongoUrl);
  try {
    await dropWithRetry(mongo.db(databaseName), databaseName);
  } finally {
    await mongo.close();
  }
}
