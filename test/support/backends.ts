/** Access to the real test backends that the integration project's global set-up provides. */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run the integration tests through jest's global set-up (npm test)`);
  return value;
}

export const mongoUrl = (): string => required('MONGO_URL');

/** A database of its own for one test file, so files never see each other's data. */
export const uniqueDatabaseName = (prefix: string): string => `${prefix}_${randomUUID().slice(0, 8)}`;

export const testClusters = [
  { name: 'cluster-1', kubeconfigPath: () => required('DCM_TEST_CLUSTER_1_KUBECONFIG') },
  { name: 'cluster-2', kubeconfigPath: () => required('DCM_TEST_CLUSTER_2_KUBECONFIG') },
] as const;

export function adminKubeConfig(kubeconfigPath: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  return kc;
}

/** The optional CA key of a test cluster (set by our own test backends, absent for external clusters). */
export const clusterCaKeyPath = (index: 1 | 2): string | undefined => process.env[`DCM_TEST_CLUSTER_${index}_CA_KEY`];

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs kubectl (the test backends' own build, or $KUBECTL) against a kubeconfig given as text or path. */
export async function kubectl(kubeconfig: { path: string } | { text: string }, args: string[]): Promise<CommandResult> {
  let file: string;
  let cleanup = () => undefined as void;
  if ('path' in kubeconfig) file = kubeconfig.path;
  else {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dcm-kubeconfig-'));
    file = path.join(dir, 'config');
    fs.writeFileSync(file, kubeconfig.text, { mode: 0o600 });
    cleanup = () => fs.rmSync(dir, { recursive: true, force: true });
  }
  const binary = process.env.KUBECTL ?? 'kubectl';
  try {
    return await new Promise<CommandResult>((resolve) => {
      execFile(binary, ['--kubeconfig', file, ...args], { timeout: 60_000 }, (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      });
    });
  } finally {
    cleanup();
  }
}
