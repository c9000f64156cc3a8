/**
 * Projects and cluster providers behave alike: named records at the top level that can
 * only be deleted once nothing lives under them (as in EMCO: 409 while children exist).
 */
import {
  DuplicateNameError,
  type NamedRecordStore,
  type Page,
  type PageOf,
  type StoredRecord,
} from '../db/named-record-store.js';
import { ConflictError, NotFoundError, PreconditionFailedError } from '../errors.js';

export class TopLevelService<T> {
  constructor(
    private readonly noun: string,
    private readonly store: NamedRecordStore<T>,
    private readonly children: { noun: string; exist: (name: string) => Promise<boolean> },
  ) {}

  async create(name: string, data: T): Promise<StoredRecord<T>> {
    try {
      return await this.store.create({}, name, data);
    } catch (error) {
      if (error instanceof DuplicateNameError) throw new ConflictError(`${this.noun} ${name} already exists`);
      throw error;
    }
  }

  async get(name: string): Promise<StoredRecord<T>> {
    const record = await this.store.get({}, name);
    if (!record) throw new NotFoundError(`${this.noun} ${name} not found`);
    return record;
  }

  list(page: Page): Promise<PageOf<StoredRecord<T>>> {
    return this.store.list({}, page);
  }

  async update(name: string, data: T, expectedRevision?: number): Promise<StoredRecord<T>> {
    const outcome = await this.store.update({}, name, data, expectedRevision);
    if (outcome.kind === 'not-found') throw new NotFoundError(`${this.noun} ${name} not found`);
    if (outcome.kind === 'stale') {
      throw new PreconditionFailedError(
        `${this.noun} ${name} was changed since revision ${expectedRevision}; GET it again`,
      );
    }
    return outcome.record;
  }

  async delete(name: string): Promise<void> {
    const record = await this.get(name);
    const stillHasChildren = () =>
      new ConflictError(`${this.noun} ${name} still has ${this.children.noun}; delete them first`);
    if (await this.children.exist(name)) throw stillHasChildren();
    if (!(await this.store.delete({}, name))) throw new NotFoundError(`${this.noun} ${name} not found`);
    // A child created meanwhile found this record before it was deleted (and checks again after
    // its own write): put the record back. One of the two then gives up; often both do.
    if (await this.children.exist(name)) {
      await this.store.create({}, name, record.data, record.id).catch((error: unknown) => {
        if (!(error instanceof DuplicateNameError)) throw error;
      });
      throw stillHasChildren();
    }
  }
}
