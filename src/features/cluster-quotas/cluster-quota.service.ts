/** Cluster quotas: a ResourceQuota `hard` map applied in the logical cloud's namespace on every cluster. */
import { mapToPairs } from '../../db/named-record-store.js';
import type { ClusterQuotaData } from '../../domain/logical-cloud.js';
import { InvalidInputError } from '../../errors.js';
import { defaultsExceedingQuotas } from '../../validation/container-defaults.js';
import { LogicalCloudChildService, type LogicalCloudResolver } from '../logical-clouds/logical-cloud-child.service.js';
import type { LifecycleGuard } from '../logical-clouds/logical-cloud.service.js';
import { describedFrom } from '../metadata.js';
import type { ClusterQuotaInput } from './cluster-quota.schema.js';
import type { ClusterQuotaStore } from './cluster-quota.store.js';

export type ClusterQuotaService = LogicalCloudChildService<ClusterQuotaInput, ClusterQuotaData>;

export function createClusterQuotaService(
  store: ClusterQuotaStore,
  logicalClouds: LogicalCloudResolver,
  guard: () => LifecycleGuard,
): ClusterQuotaService {
  return new LogicalCloudChildService('Cluster quota', store, logicalClouds, {
    prepare: (lc, input, name) => {
      // The logical cloud's own container defaults must fit in every one of its quotas (400 naming both).
      const problems = defaultsExceedingQuotas(lc.data.isolation?.containerDefaults, [{ name, hard: input.spec }]);
      if (problems.length > 0) {
        throw InvalidInputError.forFields(
          problems.map((p) => ({
            field: 'spec',
            message: `${p.message}: the logical cloud's ${p.field} is more than this quota allows`,
          })),
        );
      }
      return { ...describedFrom(input.metadata), spec: mapToPairs(input.spec) };
    },
    checkMutable: (lc) => guard().checkMutable(lc, 'update'),
  });
}
