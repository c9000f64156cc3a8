/** Projects, stored as named records at the top level (`projects`). */
import type { Db } from 'mongodb';
import { NamedRecordStore } from '../../db/named-record-store.js';
import type { Described } from '../metadata.js';

export type ProjectStore = NamedRecordStore<Described>;

export const createProjectStore = (db: Db): ProjectStore => new NamedRecordStore<Described>(db, 'projects', []);
