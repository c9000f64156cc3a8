/** A cluster's key-value pairs (clm's kv-pairs), named within their cluster (`clusterKvPairs`). */
import type { Db } from 'mongodb';
import { NamedRecordStore } from '../../db/named-record-store.js';
import type { KvPairData } from '../../domain/logical-cloud.js';

export type ClusterKvPairStore = NamedRecordStore<KvPairData>;

export const createClusterKvPairStore = (db: Db): ClusterKvPairStore =>
  new NamedRecordStore<KvPairData>(db, 'clusterKvPairs', ['provider', 'cluster']);
