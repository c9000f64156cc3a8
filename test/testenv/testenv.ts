/**
 * `up` / `down` / `status` of the test backends: a MongoDB-protocol server, etcd, and two
 * Kubernetes clusters. `up` is idempotent: when everything recorded in `.testenv/state.json`
 * still runs and answers, it is reused as it is.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ensureEtcd, ensureKubeBinary } from './binaries.js';
import { clusterHealthy, startCluster, type ClusterState } from './cluster.js';
import { mongoAnswers, startDatabaseServer, stopDatabaseServer, type DatabaseServerState } from './database-server.js';
import { CLUSTER_NAMES, paths, stateDir } from './layout.js';
import { freePort, isAlive, startDetached, stopProcess, tcpOpen, waitFor } from './processes.js';

export interface TestenvState {
  mongo: DatabaseServerState;
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
  return [
    ...state.clusters.flatMap((c) => [c.controllerManagerPid, c.apiserverPid]),
    state.etcd.pid,
    state.mongo.pid,
    ...(state.mongo.postgres ? [state.mongo.postgres.pid] : []),
  ];
}

export async function isHealthy(state: TestenvState): Promise<boolean> {
  if (!pidsOf(state).every(isAlive)) return false;
  if (!(await mongoAnswers(state.mongo.url))) return false;
  for (const cluster of state.clusters) if (!(await clusterHealthy(cluster))) return false;
  return true;
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

/** DCM_TESTENV_DB=sqlite or postgresql forces FerretDB's backend (default: mongod, else PostgreSQL, else SQLite). */
function testenvBackend(): 'postgresql' | 'sqlite' | undefined {
  const wanted = process.env.DCM_TESTENV_DB;
  if (wanted === undefined || wanted === '') return undefined;
  if (wanted === 'postgresql' || wanted === 'sqlite') return wanted;
  throw new Error(`DCM_TESTENV_DB: expected postgresql or sqlite, got ${wanted}`);
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
    started.mongo = await startDatabaseServer(paths.mongoData, {
      fresh: true,
      durable: false,
      backend: testenvBackend(),
    });
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
  ].filter((pid): pid is number => typeof pid === 'number');
  for (const pid of pids) await stopProcess(pid);
  if (state.mongo) {
    await stopDatabaseServer(state.mongo);
    pids.push(...[state.mongo.pid, state.mongo.postgres?.pid].filter((pid): pid is number => typeof pid === 'number'));
  }
  fs.rmSync(paths.state, { force: true });
  fs.rmSync(paths.envFile, { force: true });
  log(`stopped ${pids.length} processes`);
}
