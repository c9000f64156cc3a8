/** Overall quotas, named within their logical cloud (`overallQuotas`, keyed by the logical cloud's id). */
import type { Db } from 'mongodb';
import { NamedRecordStore } from '../../db/named-record-store.js';
import type { OverallQuotaData } from './overall-quota.schema.js';

export type OverallQuotaStore = NamedRecordStore<OverallQuotaData>;

export const createOverallQuotaStore = (db: Db): OverallQuotaStore =>
  new NamedRecordStore<OverallQuotaData>(db, 'overallQuotas', ['logicalCloudId']);
