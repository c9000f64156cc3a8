/**
 * Shared by the ca-mesh integration tests (not a test file itself): the IstioOperator CRD
 * of test/fixtures/crds, installed on both test clusters and waited for until Established.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from '@jest/globals';
import { kubectl, testClusters } from '../support/backends.js';

export const ISTIO_OPERATOR_CRD = path.join(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/crds/istio-operator.yaml');

/** Applies the CRD (idempotent) and waits on its Established condition (a watch, no sleeps). It stays installed: a fixture of the clusters. */
export async function installIstioOperatorCrd(): Promise<void> {
  for (const cluster of testClusters) {
    const applied = await kubectl({ path: cluster.kubeconfigPath() }, ['apply', '-f', ISTIO_OPERATOR_CRD]);
    expect(applied.stderr).toBe('');
    const established = await kubectl({ path: cluster.kubeconfigPath() }, ['wait', '--for=condition=Established', 'crd/istiooperators.install.istio.io', '--timeout=60s']);
    expect(established.stdout).toMatch(/condition met/);
  }
}
