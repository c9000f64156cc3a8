/**
 * Shared by the mesh integration tests (not a test file itself): the Sail Operator's Istio CRD
 * of test/fixtures/crds, installed on both test clusters and waited for until Established, and
 * a stand-in for the Sail Operator that reports the DCM's Istio resources Ready.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from '@jest/globals';
import { Watch } from '@kubernetes/client-node';
import { kubectl, testClusters } from '../support/backends.js';
import { admin, type ClusterIndex } from './apply-helpers.js';

export const SAIL_ISTIO_CRD = path.join(
  path.dirname(fileURLToPath(import.meta.url)),
  '../fixtures/crds/sail-istio.yaml',
);
export const ISTIO = { group: 'sailoperator.io', version: 'v1', plural: 'istios' };

/** Applies the CRD (idempotent) and waits on its Established condition (a watch, no sleeps). It stays installed: a fixture of the clusters. */
export async function installSailIstioCrd(): Promise<void> {
  for (const cluster of testClusters) {
    const applied = await kubectl({ path: cluster.kubeconfigPath() }, ['apply', '-f', SAIL_ISTIO_CRD]);
    expect(applied.stderr).toBe('');
    const established = await kubectl({ path: cluster.kubeconfigPath() }, [
      'wait',
      '--for=condition=Established',
      'crd/istios.sailoperator.io',
      '--timeout=60s',
    ]);
    expect(established.stdout).toMatch(/condition met/);
  }
}

/** Sets an Istio resource's status (the status subresource) as the Sail Operator would. */
export async function setIstioStatus(
  i: ClusterIndex,
  name: string,
  ready: boolean,
  message = ready ? 'istiod is ready' : 'istiod is not ready',
): Promise<void> {
  const status = {
    state: ready ? 'Healthy' : 'NotReady',
    conditions: [
      {
        type: 'Ready',
        status: ready ? 'True' : 'False',
        reason: ready ? 'Healthy' : 'IstiodNotReady',
        message,
        lastTransitionTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
      },
    ],
  };
  const result = await kubectl({ path: testClusters[i].kubeconfigPath() }, [
    'patch',
    'istios.sailoperator.io',
    name,
    '--subresource=status',
    '--type=merge',
    '-p',
    JSON.stringify({ status }),
  ]);
  expect(result.stderr).toBe('');
}

interface IstioObject {
  metadata?: { name?: string; labels?: Record<string, string> };
  status?: { conditions?: { type: string; status: string }[] };
}

/**
 * Plays the Sail Operator for the Istio resources of the given logical clouds on both clusters:
 * every one that appears (or changes) without Ready=True is set Ready. Answers stop().
 */
export async function playSail(logicalClouds: string[]): Promise<() => void> {
  let stopped = false;
  const controllers = new Set<AbortController>();
  for (const i of [0, 1] as const) {
    const onEvent = (phase: string, object: IstioObject) => {
      if (phase !== 'ADDED' && phase !== 'MODIFIED') return;
      if (!logicalClouds.includes(object.metadata?.labels?.['dcm.onap.org/logical-cloud'] ?? '')) return;
      if (object.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')) return;
      void setIstioStatus(i, object.metadata!.name!, true).catch(() => undefined);
    };
    const start = async (): Promise<void> => {
      if (stopped) return;
      const watch: { controller?: AbortController } = {};
      const done = () => {
        if (watch.controller) controllers.delete(watch.controller);
        // The server ends watches now and then (or one failed): start again unless stopped.
        if (!stopped) setTimeout(() => void start(), 200);
      };
      const controller = await new Watch(admin(i)).watch(
        `/apis/${ISTIO.group}/${ISTIO.version}/${ISTIO.plural}`,
        { labelSelector: 'app.kubernetes.io/managed-by=dcm' },
        onEvent,
        done,
      );
      watch.controller = controller;
      controllers.add(controller);
    };
    await start();
  }
  return () => {
    stopped = true;
    for (const c of controllers) c.abort();
    controllers.clear();
  };
}
