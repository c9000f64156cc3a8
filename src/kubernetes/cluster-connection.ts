/**
 * The names the cluster boundary had before it became the cluster gateway (cluster-gateway.ts),
 * kept for the modules that still use them.
 */
import { createClusterGateway, type ClusterGateway } from './cluster-gateway.js';

export {
  ClusterError,
  FIELD_MANAGER,
  certainlyNotDone,
  toClusterError,
  type ClusterGateway,
  type KubeObject,
  type ObjectMeta,
  type ObjectRef,
} from './cluster-gateway.js';

/** @deprecated the cluster gateway: ClusterGateway. */
export type ClusterConnection = ClusterGateway;
/** @deprecated the cluster gateway: ClusterGateway (it answers plain-text GETs too). */
export type ApiServerConnection = ClusterGateway;

/** @deprecated createClusterGateway. */
export const createClusterConnection = (adminKubeconfig: string, timeoutMs: number): ClusterGateway => createClusterGateway(adminKubeconfig, timeoutMs);
