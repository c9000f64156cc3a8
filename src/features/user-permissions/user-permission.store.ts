/** User permissions, named within their logical cloud (`userPermissions`, keyed by the logical cloud's id). */
import type { Db } from 'mongodb';
import { NamedRecordStore } from '../../db/named-record-store.js';
import type { PermissionData } from '../../domain/logical-cloud.js';

export type UserPermissionStore = NamedRecordStore<PermissionData>;

export const createUserPermissionStore = (db: Db): UserPermissionStore =>
  new NamedRecordStore<PermissionData>(db, 'userPermissions', ['logicalCloudId']);
