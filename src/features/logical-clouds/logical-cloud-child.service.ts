/**
 * Cluster references, user permissions, cluster quotas and kv-pairs all live under one
 * logical cloud and behave alike: this is their one service. A resource adds its own rule
 * through `prepare` (e.g. a reference must name a registered cluster).
 */
import {
  DuplicateNameError,
  type NamedRecordStore,
  type Page,
  type PageOf,
  type StoredRecord,
  type UpdateOutcome,
} from '../../db/named-record-store.js';
import { ConflictError, NotFoundError, PreconditionFailedError } from '../../errors.js';
import type { Caller } from '../project-policies/project-policy.service.js';
import type { LogicalCloudRecord } from '../../domain/logical-cloud.js';

export interface LogicalCloudResolver {
  /** The logical cloud, or NotFoundError naming the project or the logical cloud that is missing. */
  resolve(project: string, logicalCloud: string): Promise<LogicalCloudRecord>;
}

export interface ChildHooks<Input, T> {
  /**
   * Validates the input against the logical cloud, the rest of the world and (for a non-admin
   * caller) the project's policy; returns what to store.
   */
  prepare(lc: LogicalCloudRecord, input: Input, name: string, caller: Caller): Promise<T> | T;
  /** Refuses a change, e.g. while the logical cloud is being applied. */
  checkMutable?(lc: LogicalCloudRecord): Promise<void>;
  /** Refuses changing or deleting this record by hand (e.g. a reference made by a cluster selector). */
  checkRecord?(lc: LogicalCloudRecord, record: StoredRecord<T>, change: 'update' | 'delete'): void;
}

export class LogicalCloudChildService<Input, T> {
  constructor(
    private readonly noun: string,
    private readonly store: NamedRecordStore<T>,
    private readonly logicalClouds: LogicalCloudResolver,
    private readonly hooks: ChildHooks<Input, T>,
  ) {}

  private scope(lc: LogicalCloudRecord) {
    return { logicalCloudId: lc.id };
  }

  private notFound(lc: LogicalCloudRecord, name: string): NotFoundError {
    return new NotFoundError(`${this.noun} ${name} not found in Logical Cloud ${lc.name}`);
  }

  /**
   * A write the database refused may have lost a race to a concurrent write that breaks a
   * rule of the resource (e.g. a cluster referenced twice, which a unique index refuses):
   * checking the input again names that conflict; otherwise the error stands.
   */
  private async recheck(lc: LogicalCloudRecord, input: Input, name: string, caller: Caller): Promise<void> {
    await this.hooks.prepare(lc, input, name, caller);
  }

  async create(
    project: string,
    logicalCloud: string,
    name: string,
    input: Input,
    caller: Caller,
  ): Promise<StoredRecord<T>> {
    const lc = await this.logicalClouds.resolve(project, logicalCloud);
    await this.hooks.checkMutable?.(lc);
    const data = await this.hooks.prepare(lc, input, name, caller);
    try {
      return await this.store.create(this.scope(lc), name, data);
    } catch (error) {
      await this.recheck(lc, input, name, caller);
      if (error instanceof DuplicateNameError)
        throw new ConflictError(`${this.noun} ${name} already exists in Logical Cloud ${lc.name}`);
      throw error;
    }
  }

  async get(project: string, logicalCloud: string, name: string): Promise<StoredRecord<T>> {
    const lc = await this.logicalClouds.resolve(project, logicalCloud);
    const record = await this.store.get(this.scope(lc), name);
    if (!record) throw this.notFound(lc, name);
    return record;
  }

  async list(project: string, logicalCloud: string, page?: Page): Promise<PageOf<StoredRecord<T>>> {
    const lc = await this.logicalClouds.resolve(project, logicalCloud);
    return this.store.list(this.scope(lc), page);
  }

  async update(
    project: string,
    logicalCloud: string,
    name: string,
    input: Input,
    expectedRevision: number | undefined,
    caller: Caller,
  ): Promise<StoredRecord<T>> {
    const lc = await this.logicalClouds.resolve(project, logicalCloud);
    await this.hooks.checkMutable?.(lc);
    await this.checkRecord(lc, name, 'update');
    const data = await this.hooks.prepare(lc, input, name, caller);
    let outcome: UpdateOutcome<T>;
    try {
      outcome = await this.store.update(this.scope(lc), name, data, expectedRevision);
    } catch (error) {
      await this.recheck(lc, input, name, caller);
      throw error;
    }
    if (outcome.kind === 'not-found') throw this.notFound(lc, name);
    if (outcome.kind === 'stale') {
      throw new PreconditionFailedError(
        `${this.noun} ${name} was changed since revision ${expectedRevision}; GET it again`,
      );
    }
    return outcome.record;
  }

  async delete(project: string, logicalCloud: string, name: string): Promise<void> {
    const lc = await this.logicalClouds.resolve(project, logicalCloud);
    await this.hooks.checkMutable?.(lc);
    await this.checkRecord(lc, name, 'delete');
    if (!(await this.store.delete(this.scope(lc), name))) throw this.notFound(lc, name);
  }

  private async checkRecord(lc: LogicalCloudRecord, name: string, change: 'update' | 'delete'): Promise<void> {
    if (!this.hooks.checkRecord) return;
    const record = await this.store.get(this.scope(lc), name);
    if (record) this.hooks.checkRecord(lc, record, change);
  }
}
