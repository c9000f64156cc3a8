/**
 * clm's view of a cluster's labels: names only. A clm label `edge` is the label `edge` with an
 * empty value, so both views are one set: a label given with a value in the JSON body shows up
 * here by its key. Each write is one conditional update of the cluster, tried again when another
 * write came first.
 */
import { pairsToMap, type NamedRecordStore, type Page, type PageOf } from '../../db/named-record-store.js';
import type { EventBus } from '../../jobs/event-bus.js';
import { ConflictError, InvalidInputError, NotFoundError } from '../../errors.js';
import { LIMITS } from '../../validation/limits.js';
import type { ClusterData, ClusterRecord, ClusterService } from './cluster.service.js';

const ATTEMPTS = 5;

export class ClusterLabelService {
  constructor(
    private readonly store: NamedRecordStore<ClusterData>,
    private readonly clusters: Pick<ClusterService, 'get' | 'list'>,
    /** Told of each relabel (logical clouds that select clusters by label follow it). */
    private readonly events?: Pick<EventBus, 'emit'>,
  ) {}

  async list(provider: string, cluster: string): Promise<string[]> {
    return (await this.clusters.get(provider, cluster)).data.labels.map(({ key }) => key);
  }

  async get(provider: string, cluster: string, label: string): Promise<string> {
    if (!(await this.list(provider, cluster)).includes(label))
      throw new NotFoundError(`Label ${label} not found on cluster ${cluster} of cluster provider ${provider}`);
    return label;
  }

  async add(provider: string, cluster: string, label: string): Promise<string> {
    await this.change(provider, cluster, (record) => {
      const { labels } = record.data;
      if (labels.some(({ key }) => key === label))
        throw new ConflictError(`Label ${label} already exists on cluster ${cluster} of cluster provider ${provider}`);
      if (labels.length >= LIMITS.labels)
        throw InvalidInputError.forFields([
          {
            field: 'label-name',
            message: `the cluster has ${LIMITS.labels} labels already (at most ${LIMITS.labels})`,
          },
        ]);
      return [...labels, { key: label, value: '' }];
    });
    return label;
  }

  async remove(provider: string, cluster: string, label: string): Promise<void> {
    await this.change(provider, cluster, (record) => {
      const { labels } = record.data;
      if (!labels.some(({ key }) => key === label))
        throw new NotFoundError(`Label ${label} not found on cluster ${cluster} of cluster provider ${provider}`);
      return labels.filter(({ key }) => key !== label);
    });
  }

  /** The clusters of a provider that carry `label` (with any value), by name, paged. */
  async clustersWith(provider: string, label: string, page: Page): Promise<PageOf<ClusterRecord>> {
    await this.clusters.list(provider, { limit: 1, offset: 0 }); // 404 for a provider that does not exist
    const all = await this.store.findWhere({ provider }, {});
    const carrying = all
      .filter((c) => c.data.labels.some(({ key }) => key === label))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    return { items: carrying.slice(page.offset, page.offset + page.limit), total: carrying.length };
  }

  private async change(
    provider: string,
    cluster: string,
    next: (record: ClusterRecord) => ClusterData['labels'],
  ): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const record = await this.clusters.get(provider, cluster);
      const labels = next(record);
      const outcome = await this.store.update({ provider }, cluster, { ...record.data, labels }, record.revision);
      if (outcome.kind === 'updated') {
        await this.events?.emit('clusterUpdated', {
          provider,
          cluster,
          before: pairsToMap(record.data.labels),
          after: pairsToMap(labels),
        });
        return;
      }
      if (outcome.kind === 'not-found')
        throw new NotFoundError(`Cluster ${cluster} not found in cluster provider ${provider}`);
      if (attempt >= ATTEMPTS)
        throw new ConflictError(`Cluster ${cluster} of cluster provider ${provider} kept changing; try again`);
    }
  }
}
