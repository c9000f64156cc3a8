/**
 * Waiting by watch (issue 4, point 2: the signed certificate is "waited for by watch, not
 * by sleeping"): a condition that already holds resolves at once, and one reached later
 * resolves when it is reached, on the real test clusters.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { PatchStrategy, setHeaderOptions, type V1Namespace } from '@kubernetes/client-node';
import { waitForObject } from '../../src/kubernetes/wait-for-object.js';
import { admin, core, removeLeftovers } from './apply-helpers.js';

const NS = 'ns-wait-1';

describe('waitForObject', () => {
  beforeAll(async () => {
    await removeLeftovers([NS], []);
  });

  afterAll(async () => {
    await removeLeftovers([NS], []);
  });

  it('resolves at once when the condition already holds, every time, on both clusters', async () => {
    for (const i of [0, 1] as const) {
      for (let attempt = 0; attempt < 3; attempt++) {
        const started = Date.now();
        const ns = await waitForObject<V1Namespace>({
          kubeConfig: admin(i),
          collectionPath: '/api/v1/namespaces',
          name: 'kube-system',
          condition: (n) => n.status?.phase === 'Active',
          timeoutMs: 5000,
        });
        expect(ns?.metadata?.name).toBe('kube-system');
        expect(Date.now() - started).toBeLessThan(2000);
      }
    }
  });

  it('resolves when a condition not yet true becomes true', async () => {
    await core(0).createNamespace({ body: { metadata: { name: NS } } });
    const waiting = waitForObject<V1Namespace>({
      kubeConfig: admin(0),
      collectionPath: '/api/v1/namespaces',
      name: NS,
      condition: (n) => n.metadata?.labels?.ready === 'yes',
      timeoutMs: 20_000,
    });
    await core(0).patchNamespace(
      { name: NS, body: { metadata: { labels: { ready: 'yes' } } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    expect((await waiting)?.metadata?.labels?.ready).toBe('yes');
  });

  it('gives up after its timeout when the condition never holds', async () => {
    const started = Date.now();
    await expect(
      waitForObject<V1Namespace>({
        kubeConfig: admin(1),
        collectionPath: '/api/v1/namespaces',
        name: 'kube-system',
        condition: () => false,
        timeoutMs: 1500,
      }),
    ).rejects.toThrow(/condition not met within 1500 ms/);
    expect(Date.now() - started).toBeLessThan(5000);
  });
});
