/**
 * Where the test backends live: versions, the build cache outside the clone, and the
 * per-checkout state directory `.testenv/` (logs, data, certificates, PIDs, env file).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const KUBERNETES_VERSION = 'v1.34.4';
export const FERRETDB_VERSION = 'v1.24.2';
/** istio.io/istio as required by test/testenv/istio/go.mod (istiod's pilot-discovery, built only for the mesh tests). */
export const ISTIO_MODULE_VERSION = 'v0.0.0-20260827124520-eed52ebb66ad';

export const CLUSTER_NAMES = ['cluster-1', 'cluster-2'] as const;

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** Built binaries, keyed by version, shared by every clone on this machine. */
export const cacheRoot =
  process.env.DCM_TESTENV_CACHE ??
  path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'dcm-testenv');

/** A short hash of the FerretDB wrapper's sources: a changed wrapper gets a new cache entry (and is rebuilt). */
function ferretdbSourceKey(): string {
  const hash = crypto.createHash('sha256');
  for (const file of ['main.go', 'go.mod', 'go.sum']) {
    hash.update(fs.readFileSync(path.join(repoRoot, 'test/testenv/ferretdb', file)));
  }
  return hash.digest('hex').slice(0, 12);
}

export const stateDir = process.env.DCM_TESTENV_DIR ?? path.join(repoRoot, '.testenv');

export const paths = {
  kubeSource: path.join(repoRoot, 'test/testenv/kube'),
  ferretdbSource: path.join(repoRoot, 'test/testenv/ferretdb'),
  istioSource: path.join(repoRoot, 'test/testenv/istio'),
  kubeBinary: path.join(cacheRoot, `kube-${KUBERNETES_VERSION}`, 'kube'),
  ferretdbBinary: path.join(cacheRoot, `ferretdb-${FERRETDB_VERSION}-${ferretdbSourceKey()}`, 'ferretdb'),
  pilotDiscoveryBinary: path.join(cacheRoot, `istio-${ISTIO_MODULE_VERSION}`, 'pilot-discovery'),
  state: path.join(stateDir, 'state.json'),
  envFile: path.join(stateDir, 'env'),
  logs: path.join(stateDir, 'logs'),
  bin: path.join(stateDir, 'bin'),
  kubectl: path.join(stateDir, 'bin', 'kubectl'),
  clusterDir: (name: string) => path.join(stateDir, name),
  etcdData: path.join(stateDir, 'etcd'),
  mongoData: path.join(stateDir, 'mongo'),
  postgresDir: path.join(stateDir, 'postgres'),
};
