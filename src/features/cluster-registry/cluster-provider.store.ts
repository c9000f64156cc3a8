/** Cluster providers, stored as named records at the top level (`clusterProviders`). */
import type { Db } from 'mongodb';
import { NamedRecordStore } from '../../db/named-record-store.js';
import type { Described } from '../metadata.js';

export type ClusterProviderStore = NamedRecordStore<Described>;

export const createClusterProviderStore = (db: Db): ClusterProviderStore =>
  new NamedRecordStore<Described>(db, 'clusterProviders', []);
