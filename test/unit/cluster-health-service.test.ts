/** Probing a cluster on demand opens a connection per request: admins only, on REST and gRPC (one service). */
import { describe, expect, it } from '@jest/globals';
import { PolicyDeniedError } from '../../src/errors.js';
import { clusterHealthService } from '../../src/features/cluster-registry/cluster-health.service.js';
import type { ClusterHealth } from '../../src/features/cluster-registry/cluster-health.store.js';
import type { ClusterRecord } from '../../src/features/cluster-registry/cluster.service.js';

describe('cluster health service', () => {
  const health: ClusterHealth = {
    provider: 'edge',
    cluster: 'c1',
    reachable: true,
    ready: true,
    version: 'v1.34.4',
    checkedAt: new Date(0),
    since: new Date(0),
  };
  let probes = 0;
  const service = clusterHealthService(
    { get: async () => ({ name: 'c1' }) as ClusterRecord },
    { get: async () => health },
    {
      probeNamed: async () => {
        probes++;
        return { ...health, checkedAt: new Date(1000) };
      },
    },
  );

  it('answers the last probe to anyone who may read the registry, and probes now for admins only', async () => {
    expect((await service.status('edge', 'c1', false, { admin: false })).health?.checkedAt).toBe(
      new Date(0).toISOString(),
    );
    await expect(service.status('edge', 'c1', true, { admin: false })).rejects.toBeInstanceOf(PolicyDeniedError);
    expect(probes).toBe(0);
    expect((await service.status('edge', 'c1', true, { admin: true })).health?.checkedAt).toBe(
      new Date(1000).toISOString(),
    );
    expect(probes).toBe(1);
  });
});
