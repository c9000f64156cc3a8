/**
 * Cluster references, named within their logical cloud (`clusterReferences`, keyed by the
 * logical cloud's id). A cluster is referenced at most once per logical cloud, also when
 * references are written concurrently: a unique index refuses the second. The referenced
 * cluster (`clusterProvider`, `cluster`) is also stored at top level, where filters find it.
 */
import type { Db } from 'mongodb';
import { promoteDataFields } from '../../db/migrations/promote-fields.js';
import { NamedRecordStore } from '../../db/named-record-store.js';
import type { ClusterReferenceData } from '../../domain/logical-cloud.js';

const PROMOTED = ['clusterProvider', 'cluster'] as const;

export class ClusterReferenceStore extends NamedRecordStore<ClusterReferenceData> {
  constructor(db: Db) {
    super(db, 'clusterReferences', ['logicalCloudId'], { promoted: PROMOTED });
  }

  override async init(): Promise<void> {
    await super.init();
    // References stored before the promotion get their top-level copies first: the index is on them.
    await this.migrate(promoteDataFields('clusterReferences', PROMOTED));
    await this.ensureUniqueIndex('one_reference_per_cluster', { logicalCloudId: 1, clusterProvider: 1, cluster: 1 });
    await this.dropIndexIfPresent('cluster_once_per_logical_cloud');
  }
}
