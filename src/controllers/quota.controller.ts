/** Quota controller: a ResourceQuota per cluster quota in the logical cloud's namespace. */
import { normalizeQuotaKey } from '../validation/quota-key.js';
import { isBudgetQuota } from './budget-quota.controller.js';
import { pruneObjects, reconcileObjects, type ClusterContext, type ManagedKind } from './cluster-context.js';
import { namespacedObjectName } from './object-names.js';
import type { ResourceQuota } from './objects.js';

export const QUOTA_KINDS: ManagedKind[] = [
  { category: 'quota', apiVersion: 'v1', kind: 'ResourceQuota', namespaced: true },
];

export class QuotaController {
  async apply(ctx: ClusterContext): Promise<void> {
    const desired: ResourceQuota[] = ctx.work.quotas.map((quota) => ({
      apiVersion: 'v1',
      kind: 'ResourceQuota',
      metadata: {
        name: namespacedObjectName('quota', quota.name),
        namespace: ctx.namespace,
        labels: ctx.labels,
        annotations: { 'dcm.onap.org/cluster-quota': quota.name },
      },
      spec: { hard: Object.fromEntries(quota.data.spec.map(({ key, value }) => [normalizeQuotaKey(key), value])) },
    }));
    // The budget quotas of overall quotas are the budget controller's (budget-quota.controller.ts).
    await reconcileObjects(ctx, QUOTA_KINDS, desired, isBudgetQuota);
  }

  async remove(ctx: ClusterContext): Promise<void> {
    await pruneObjects(ctx, QUOTA_KINDS);
  }
}
