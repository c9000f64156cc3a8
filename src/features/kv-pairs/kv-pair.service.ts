/** Key-value pairs stored with a logical cloud for other services to read; the lifecycle never uses them. */
import type { KvPairData, KvValue } from '../../domain/logical-cloud.js';
import { LogicalCloudChildService, type LogicalCloudResolver } from '../logical-clouds/logical-cloud-child.service.js';
import { describedFrom } from '../metadata.js';
import type { KvPairInput } from './kv-pair.schema.js';
import type { KvPairStore } from './kv-pair.store.js';

export type KvPairService = LogicalCloudChildService<KvPairInput, KvPairData>;

export function createKvPairService(store: KvPairStore, logicalClouds: LogicalCloudResolver): KvPairService {
  return new LogicalCloudChildService('KV pair', store, logicalClouds, {
    prepare: (_lc, input) => ({
      ...describedFrom(input.metadata),
      kv: input.spec.kv.flatMap((entry) =>
        Object.entries(entry).map(([key, value]) => ({ key, value: value as KvValue })),
      ),
    }),
  });
}
