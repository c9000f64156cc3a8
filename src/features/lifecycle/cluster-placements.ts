/**
 * Where a logical cloud is placed: the cluster a reference names, and whether two placements are
 * the same. Pure.
 */
import type { ClusterReferenceRecord } from '../../domain/logical-cloud.js';
import type { ClusterPlacement } from './lifecycle-status.store.js';

export const placementOf = (r: ClusterReferenceRecord): ClusterPlacement => ({
  reference: r.name,
  provider: r.data.clusterProvider,
  cluster: r.data.cluster,
});

export const samePlacement = (a: ClusterPlacement, b: ClusterPlacement): boolean =>
  a.reference === b.reference && a.provider === b.provider && a.cluster === b.cluster;
