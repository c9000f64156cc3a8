/**
 * Key-value pairs of a registered cluster (clm's `…/clusters/{c}/kv-pairs`), stored for other
 * services to read like a logical cloud's; the DCM never uses them. They leave with their cluster.
 */
import { DuplicateNameError, type Page, type PageOf } from '../../db/named-record-store.js';
import type { KvPairData, KvPairRecord, KvValue } from '../../domain/logical-cloud.js';
import { ConflictError, NotFoundError, PreconditionFailedError } from '../../errors.js';
import type { KvPairInput } from '../kv-pairs/kv-pair.schema.js';
import { describedFrom } from '../metadata.js';
import type { ClusterKvPairStore } from './cluster-kv-pair.store.js';
import type { ClusterService } from './cluster.service.js';

const toData = (input: KvPairInput): KvPairData => ({
  ...describedFrom(input.metadata),
  kv: input.spec.kv.flatMap((entry) => Object.entries(entry).map(([key, value]) => ({ key, value: value as KvValue }))),
});

export class ClusterKvPairService {
  constructor(
    private readonly store: ClusterKvPairStore,
    private readonly clusters: Pick<ClusterService, 'get'>,
  ) {}

  private notFound(provider: string, cluster: string, name: string) {
    return new NotFoundError(`KV pair ${name} not found on cluster ${cluster} of cluster provider ${provider}`);
  }

  async create(provider: string, cluster: string, name: string, input: KvPairInput): Promise<KvPairRecord> {
    await this.clusters.get(provider, cluster);
    let record: KvPairRecord;
    try {
      record = await this.store.create({ provider, cluster }, name, toData(input));
    } catch (error) {
      if (error instanceof DuplicateNameError)
        throw new ConflictError(`KV pair ${name} already exists on cluster ${cluster} of cluster provider ${provider}`);
      throw error;
    }
    // The cluster may have left the registry meanwhile (its pairs were removed before this one existed): undo.
    try {
      await this.clusters.get(provider, cluster);
    } catch (error) {
      await this.store.delete({ provider, cluster }, name);
      throw error;
    }
    return record;
  }

  async get(provider: string, cluster: string, name: string): Promise<KvPairRecord> {
    await this.clusters.get(provider, cluster);
    const record = await this.store.get({ provider, cluster }, name);
    if (!record) throw this.notFound(provider, cluster, name);
    return record;
  }

  async list(provider: string, cluster: string, page: Page): Promise<PageOf<KvPairRecord>> {
    await this.clusters.get(provider, cluster);
    return this.store.list({ provider, cluster }, page);
  }

  async update(
    provider: string,
    cluster: string,
    name: string,
    input: KvPairInput,
    expectedRevision?: number,
  ): Promise<KvPairRecord> {
    await this.clusters.get(provider, cluster);
    const outcome = await this.store.update({ provider, cluster }, name, toData(input), expectedRevision);
    if (outcome.kind === 'not-found') throw this.notFound(provider, cluster, name);
    if (outcome.kind === 'stale')
      throw new PreconditionFailedError(`KV pair ${name} was changed since revision ${expectedRevision}; GET it again`);
    return outcome.record;
  }

  async delete(provider: string, cluster: string, name: string): Promise<void> {
    await this.clusters.get(provider, cluster);
    if (!(await this.store.delete({ provider, cluster }, name))) throw this.notFound(provider, cluster, name);
  }

  /** A cluster left the registry: its pairs go with it. */
  async forget(provider: string, cluster: string): Promise<void> {
    await this.store.deleteAll({ provider, cluster });
  }
}
