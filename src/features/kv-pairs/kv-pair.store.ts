/** Key-value pairs, named within their logical cloud (`kvPairs`, keyed by the logical cloud's id). */
import type { Db } from 'mongodb';
import { NamedRecordStore } from '../../db/named-record-store.js';
import type { KvPairData } from '../../domain/logical-cloud.js';

export type KvPairStore = NamedRecordStore<KvPairData>;

export const createKvPairStore = (db: Db): KvPairStore =>
  new NamedRecordStore<KvPairData>(db, 'kvPairs', ['logicalCloudId']);
