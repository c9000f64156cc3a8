/**
 * Cluster references, named within their logical cloud (`clusterReferences`, keyed by the
 * logical cloud's id). A cluster is referenced at most once per logical cloud, also when
 * references are written concurrently: a unique index refuses the second.
 */
import type { Db } from 'mongodb';
import { NamedRecordStore } from '../../db/named-record-store.js';
import type { ClusterReferenceData } from '../../domain/logical-cloud.js';

export class ClusterReferenceStore extends NamedRecordStore<ClusterReferenceData> {
  constructor(db: Db) {
    super(db, 'clusterReferences', ['logicalCloudId']);
  }

  override async init(): Promise<void> {
    await super.init();
    await this.ensureUniqueIndex('cluster_once_per_logical_cloud', {
      logicalCloudId: 1,
      'data.clusterProvider': 1,
      'data.cluster': 1,
    });
  }
}
