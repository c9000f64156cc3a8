/** Cluster providers: top-level records that can be deleted only once they hold no cluster (409 until then). */
import type { NamedRecordStore } from '../../db/named-record-store.js';
import type { Described } from '../metadata.js';
import { TopLevelService } from '../top-level.service.js';

export type ClusterProviderService = TopLevelService<Described>;

export function createClusterProviderService(
  store: NamedRecordStore<Described>,
  hasClusters: (provider: string) => Promise<boolean>,
): ClusterProviderService {
  return new TopLevelService('Cluster provider', store, { noun: 'clusters', exist: hasClusters });
}
