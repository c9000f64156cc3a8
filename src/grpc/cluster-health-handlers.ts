/** A registered cluster's health over gRPC. */
import type { UntypedServiceImplementation } from '@grpc/grpc-js';
import type { ClusterHealthService } from '../features/cluster-registry/cluster-health.service.js';
import { toStruct } from './struct.js';
import { requireFields, type Request, type Unary } from './unary.js';

export function clusterHealthHandlers(unary: Unary, clusterHealth: ClusterHealthService): UntypedServiceImplementation {
  return {
    GetClusterStatus: unary('GetClusterStatus', async (r: Request, caller) => {
      requireFields(r, ['cluster_provider', 'cluster']);
      const [provider, cluster] = [r.cluster_provider as string, r.cluster as string];
      const status = await clusterHealth.status(provider, cluster, r.probe === true, caller);
      return { body: toStruct(status) };
    }),
  };
}
