/**
 * `up` / `down` / `status` of the test backends: a MongoDB-protocol server, etcd, and two
 * Kubernetes clusters. `up` is idempotent: when everything recorded in `.testenv/state.json`
 * still runs and answers, it is reused as it is.
 */
import fs from 'node:fs';
import path from 'node:path';
import { MongoClient } from 'mongodb';
import { ensureEtcd, ensureFerretdbBinary, ensureKubeBinary, findMongod } from './binaries.js';
import { clusterHealthy, startCluster, type ClusterState } from './cluster.js';
import { CLUSTER_NAMES, paths, stateDir } from './layout.js';
import { freePort, isAlive, startDetached, stopProcess, tcpOpen, waitFor } from './processes.js';

export interface TestenvState {
  mongo: { kind: 'ferretdb' | 'mongod'; pid: number; port: number; url: string };
  etcd: { pid: number; clientPort: number; peerPort: number };
  clusters: ClusterState[];
  kubectl: string;
}

/** What the tests need, as environment variables. */
export function testenvVariables(state: TestenvState): Record<string, string> {
  const vars: Record<string, string> = { MONGO_URL: state.mongo.url, KUBECTL: state.kubectl };
  state.clusters.forEach((cluster, i) => {
    vars[`DCM_TEST_CLUSTER_${i + 1}_KUBECONFIG`] = cluster.kubeconfig;
    vars[`DCM_TEST_CLUSTER_${i + 1}_CA_KEY`] = cluster.caKey;
  });
  return vars;
}

function log(message: string): void {
  console.error(`[testenv] ${message}`);
}

export function readState(): TestenvState | undefined {
  try {
    return JSON.parse(fs.readFileSync(paths.state, 'utf8')) as TestenvState;
  } catch {
    return undefined;
  }
}

function pidsOf(state: TestenvState): number[] {
  return [...state.clusters.flatMap((c) => [c.controllerManagerPid, c.apiserverPid]), state.etcd.pid, state.mongo.pid];
}

async function mongoAnswers(url: string): Promise<boolean> {
  const client = new MongoClient(url, { serverSelectionTimeoutMS: 2000, connectTimeoutMS: 2000 });
  try {
    await client.connect();
    await client.db('admin').command({ ping: 1 });
    return true;
  } catch {
    return false;
  } finally {
    await client.close().catch(() => undefined);
  }
}

export async function isHealthy(state: TestenvState): Promise<boolean> {
  if (!pidsOf(state).every(isAlive)) return false;
  if (!(await mongoAnswers(state.mongo.url))) return false;
  for (const cluster of state.clusters) if (!(await clusterHealthy(cluster))) return false;
  return true;
}

/**
 * Starts a MongoDB-protocol server on 127.0.0.1: a real mongod when one is at hand
 * (MONGOD_BINARY or on PATH), otherwise FerretDB. Also what `npm start` runs when no
 * MONGO_URL is given.
 */
export async function startMongo(dataDir: string, opts: { fresh: boolean }): Promise<TestenvState['mongo']> {
  const port = await freePort();
  if (opts.fresh) fs.rmSync(dataDir, { recursive: true, force: true });
  fs.mkdirSync(dataDir, { recursive: true });
  const mongod = findMongod();
  const url = `mongodb://127.0.0.1:${port}/`;
  const started = mongod
    ? startDetached('mongod', mongod, ['--dbpath', dataDir, '--port', String(port), '--bind_ip', '127.0.0.1'])
    : startDetached('ferretdb', ensureFerretdbBinary(), [`-listen=127.0.0.1:${port}`, `-data-dir=${dataDir}`]);
  await waitFor('MongoDB-protocol server', () => mongoAnswers(url), { timeoutMs: 60_000, process: started });
  return { kind: mongod ? 'mongod' : 'ferretdb', pid: started.pid, port, url };
}

async function startEtcd(etcd: string): Promise<TestenvState['etcd']> {
  const [clientPort, peerPort] = [await freePort(), await freePort()];
  fs.rmSync(paths.etcdData, { recursive: true, force: true });
  const peer = `http://127.0.0.1:${peerPort}`;
  const client = `http://127.0.0.1:${clientPort}`;
  const started = startDetached('etcd', etcd, [
    '--name=testenv',
    `--data-dir=${paths.etcdData}`,
    `--listen-client-urls=${client}`,
    `--advertise-client-urls=${client}`,
    `--listen-peer-urls=${peer}`,
    `--initial-advertise-peer-urls=${peer}`,
    `--initial-cluster=testenv=${peer}`,
    '--log-level=warn',
  ]);
  const healthy = async () => {
    if (!(await tcpOpen(clientPort))) return false;
    const res = await fetch(`${client}/health`);
    return res.ok && ((await res.json()) as { health?: string }).health === 'true';
  };
  await waitFor('etcd', healthy, { timeoutMs: 60_000, process: started });
  return { pid: started.pid, clientPort, peerPort };
}

function writeEnvFile(state: TestenvState): void {
  const lines = Object.entries(testenvVariables(state)).map(([k, v]) => `export ${k}='${v}'`);
  lines.push(`export PATH='${paths.bin}':"$PATH"`);
  fs.writeFileSync(paths.envFile, `${lines.join('\n')}\n`);
}

export async function up(): Promise<{ state: TestenvState; started: boolean }> {
  const previous = readState();
  if (previous && (await isHealthy(previous))) {
    log(`reusing running backends (${path.relative(process.cwd(), paths.state) || paths.state})`);
    return { state: previous, started: false };
  }
  if (previous) await down();

  const begun = Date.now();
  fs.mkdirSync(stateDir, { recursive: true });
  const kube = ensureKubeBinary();
  fs.mkdirSync(paths.bin, { recursive: true });
  fs.rmSync(paths.kubectl, { force: true });
  fs.symlinkSync(kube, paths.kubectl);
  const etcdBinary = ensureEtcd();

  const started: Partial<TestenvState> = { kubectl: paths.kubectl, clusters: [] };
  const record = () => fs.writeFileSync(paths.state, JSON.stringify(started, null, 2));
  try {
    started.mongo = await startMongo(paths.mongoData, { fresh: true });
    record();
    started.etcd = await startEtcd(etcdBinary);
    record();
    const etcdUrl = `http://127.0.0.1:${started.etcd.clientPort}`;
    const ports = await Promise.all(CLUSTER_NAMES.map(() => freePort()));
    const clusters = await Promise.all(
      CLUSTER_NAMES.map((name, i) => startCluster({ name, kube, etcdUrl, port: ports[i]! })),
    );
    started.clusters = clusters;
    record();
  } catch (error) {
    await down();
    throw error;
  }
  const state = started as TestenvState;
  writeEnvFile(state);
  log(
    `up in ${((Date.now() - begun) / 1000).toFixed(1)} s: ${state.mongo.kind} at ${state.mongo.url}, ` +
      state.clusters.map((c) => `${c.name} at ${c.server}`).join(', '),
  );
  return { state, started: true };
}

/** Stops exactly the processes recorded in the state file, by PID. */
export async function down(): Promise<void> {
  const state = readState() as Partial<TestenvState> | undefined;
  if (!state) return;
  const pids = [
    ...(state.clusters ?? []).flatMap((c) => [c.controllerManagerPid, c.apiserverPid]),
    state.etcd?.pid,
    state.mongo?.pid,
  ].filter((pid): pid is number => typeof pid === 'number');
  for (const pid of pids) await stopProcess(pid);
  fs.rmSync(paths.state, { force: true });
  fs.rmSync(paths.envFile, { force: true });
  log(`stopped ${pids.length} processes`);
}
