/** Cluster quotas, named within their logical cloud (`clusterQuotas`, keyed by the logical cloud's id). */
import type { Db } from 'mongodb';
import { NamedRecordStore } from '../../db/named-record-store.js';
import type { ClusterQuotaData } from '../../domain/logical-cloud.js';

export type ClusterQuotaStore = NamedRecordStore<ClusterQuotaData>;

export const createClusterQuotaStore = (db: Db): ClusterQuotaStore =>
  new NamedRecordStore<ClusterQuotaData>(db, 'clusterQuotas', ['logicalCloudId']);
