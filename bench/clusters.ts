/**
 * Further test clusters for the fan-out section: each a kube-apiserver and a
 * kube-controller-manager of the cached kube binary, on the running etcd under a prefix of
 * its own, started by test/testenv/cluster.ts as cluster-1 and cluster-2 are, recording
 * every PID the moment the process is spawned, so that everything started
 * is stopped by its PID at the end, also when starting failed half-way. Their etcd keys are
 * removed before they start and after they stop.
 */
import fs from 'node:fs';
import { startCluster } from '../test/testenv/cluster.js';
import { freePort, isAlive, stopProcess } from '../test/testenv/processes.js';
import type { Backends, BenchCluster } from './env.js';
import { log, onExit } from './env.js';

export interface ExtraClusters {
  clusters: BenchCluster[];
  /** Every process started, by PID. */
  pids: number[];
  startMs: number;
  stop(): Promise<void>;
}

/** Alive and not a zombie (killed, not yet reaped). */
function running(pid: number): boolean {
  if (!isAlive(pid)) return false;
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');

/** Deletes every etcd key under `/<name>/` (the cluster's etcd prefix) through etcd's v3 JSON gateway. */
async function deleteEtcdPrefix(etcdUrl: string, name: string): Promise<void> {
  const prefix = `/${name}/`;
  const end = `/${name}0`; // '/' + 1
  const res = await fetch(`${etcdUrl}/v3/kv/deleterange`, {
    method: 'POST',
    body: JSON.stringify({ key: b64(prefix), range_end: b64(end) }),
  });
  if (!res.ok) throw new Error(`etcd deleterange ${prefix}: HTTP ${res.status}`);
}

/** One cluster as the test environment starts cluster-1 and cluster-2, every PID recorded the moment it is spawned. */
async function startOne(name: string, kube: string, etcdUrl: string, pids: number[]): Promise<BenchCluster> {
  const state = await startCluster({
    name,
    kube,
    etcdUrl,
    port: await freePort(),
    onSpawn: (pid) => pids.push(pid),
    timeoutMs: 180_000,
  });
  return { name, kubeconfigPath: state.kubeconfig, caKeyPath: state.caKey };
}

/** Starts clusters `bench-cluster-<n>` for the given numbers; on any failure stops what it started and throws. */
export async function startExtraClusters(backends: Backends, numbers: number[]): Promise<ExtraClusters> {
  const { etcdUrl, kubeBinary } = backends;
  if (!etcdUrl || !kubeBinary) {
    throw new Error(
      'more clusters can only be started on our own test backends (etcd from .testenv/state.json and the cached kube binary)',
    );
  }
  const names = numbers.map((n) => `bench-cluster-${n}`);
  const pids: number[] = [];
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    // Controller-managers first (they talk to their apiserver), all by PID.
    await Promise.all(
      pids
        .slice()
        .reverse()
        .map((pid) => stopProcess(pid)),
    );
    // A killed process lingers until its parent (this process) reaps it: wait for that, briefly.
    const deadline = Date.now() + 5000;
    while (pids.some(running) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    const alive = pids.filter(running);
    if (alive.length > 0) log(`clusters: processes still running after SIGKILL: ${alive.join(', ')}`);
    await Promise.all(
      names.map((name) =>
        deleteEtcdPrefix(etcdUrl, name).catch((error: unknown) => log(`clusters: ${(error as Error).message}`)),
      ),
    );
  };
  const forget = onExit(stop);
  const started = performance.now();
  try {
    await Promise.all(names.map((name) => deleteEtcdPrefix(etcdUrl, name)));
    // All attempts settle before anything is stopped: none may spawn a process after the clean-up.
    const results = await Promise.allSettled(names.map((name) => startOne(name, kubeBinary, etcdUrl, pids)));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    const clusters = results.map((r) => (r as PromiseFulfilledResult<BenchCluster>).value);
    return {
      clusters,
      pids,
      startMs: performance.now() - started,
      stop: async () => {
        await stop();
        forget();
      },
    };
  } catch (error) {
    await stop();
    forget();
    throw error;
  }
}
