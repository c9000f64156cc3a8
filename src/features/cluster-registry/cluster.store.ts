/** Registered clusters, named within their provider (`clusters`), their secrets sealed in `data.secrets`. */
import type { Db } from 'mongodb';
import { NamedRecordStore } from '../../db/named-record-store.js';
import type { ClusterData } from './cluster.service.js';

export type ClusterStore = NamedRecordStore<ClusterData>;

export const createClusterStore = (db: Db): ClusterStore =>
  new NamedRecordStore<ClusterData>(db, 'clusters', ['provider']);
