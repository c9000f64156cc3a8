/** Logical clouds, named within their project (`logicalClouds`); their children are keyed by the logical cloud's id. */
import type { Db } from 'mongodb';
import { NamedRecordStore } from '../../db/named-record-store.js';
import type { LogicalCloudData } from '../../domain/logical-cloud.js';

export type LogicalCloudStore = NamedRecordStore<LogicalCloudData>;

export const createLogicalCloudStore = (db: Db): LogicalCloudStore =>
  new NamedRecordStore<LogicalCloudData>(db, 'logicalClouds', ['project']);
