/** A cluster's last known health, or (admins only) a probe now. */
import type { Principal } from '../../auth/authorize.js';
import { PolicyDeniedError } from '../../errors.js';
import type { ClusterHealthProber } from './cluster-health.job.js';
import { clusterStatusBody } from './cluster-health.schema.js';
import type { ClusterHealthStore } from './cluster-health.store.js';
import type { ClusterService } from './cluster.service.js';

export interface ClusterHealthService {
  /** `probe`: probe now (admins only: it opens a connection to the cluster per request). */
  status(
    provider: string,
    cluster: string,
    probe: boolean,
    caller: Pick<Principal, 'admin'>,
  ): Promise<ReturnType<typeof clusterStatusBody>>;
}

export function clusterHealthService(
  clusters: Pick<ClusterService, 'get'>,
  store: Pick<ClusterHealthStore, 'get'>,
  prober: Pick<ClusterHealthProber, 'probeNamed'>,
): ClusterHealthService {
  return {
    async status(provider, cluster, probe, caller) {
      if (probe && !caller.admin) {
        throw new PolicyDeniedError(
          'only admins may probe a cluster on demand; without probe=true the last probe is answered',
        );
      }
      await clusters.get(provider, cluster); // 404 naming the provider or the cluster
      const health = probe ? await prober.probeNamed(provider, cluster) : await store.get(provider, cluster);
      return clusterStatusBody(provider, cluster, health);
    },
  };
}
