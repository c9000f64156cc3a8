/**
 * Budget quota controller: on each cluster, a ResourceQuota per overall quota of the logical
 * cloud whose `hard` is that cluster's assignment of the budget. The apply pipeline writes the
 * assignment last recorded for the cluster (zero for every key on a cluster that has none yet,
 * so a new cluster admits nothing of the budget until the rebalancer gives it a share); the
 * rebalancer reads and writes the same objects through the functions below.
 */
import type { ClusterGateway } from '../kubernetes/cluster-gateway.js';
import { isNotFound, messageOf, type ClusterContext, type ManagedKind } from './cluster-context.js';
import { labelValue, slug } from './object-names.js';
import type { ResourceQuota } from './objects.js';
import { watchUntil } from './watch-until.js';

export const LABEL_OVERALL_QUOTA = 'dcm.onap.org/overall-quota';
export const ANNOTATION_OVERALL_QUOTA = 'dcm.onap.org/overall-quota';

const BUDGET_KIND: ManagedKind = { category: 'quota', apiVersion: 'v1', kind: 'ResourceQuota', namespaced: true };

/** The per-cluster object of an overall quota. */
export const budgetQuotaName = (overallQuota: string): string => `dcm-budget-${slug(overallQuota, 240)}`;

/** Whether an object is a budget quota (the quota controller leaves those alone). */
export const isBudgetQuota = (o: { metadata?: { labels?: Record<string, string> } }): boolean =>
  o.metadata?.labels?.[LABEL_OVERALL_QUOTA] !== undefined;

/** One overall quota's share on one cluster: key → quantity. */
export interface BudgetShare {
  quota: string;
  hard: Record<string, string>;
}

/** Where the pipeline finds each cluster's last recorded assignment (the overall-quotas feature). */
export interface BudgetAssignments {
  forCluster(logicalCloudId: string, reference: string): Promise<BudgetShare[]>;
}

/** A cluster's budget quota as read: what it may admit (spec and status `hard`) and what it uses. */
export interface BudgetQuotaState {
  spec: Record<string, string>;
  statusHard: Record<string, string>;
  used: Record<string, string>;
}

export const budgetQuotaObject = (
  namespace: string,
  labels: Record<string, string>,
  share: BudgetShare,
): ResourceQuota => ({
  apiVersion: 'v1',
  kind: 'ResourceQuota',
  metadata: {
    name: budgetQuotaName(share.quota),
    namespace,
    labels: { ...labels, [LABEL_OVERALL_QUOTA]: labelValue(share.quota) },
    annotations: { [ANNOTATION_OVERALL_QUOTA]: share.quota },
  },
  spec: { hard: share.hard },
});

/** Reads a budget quota; undefined when it is not there. */
export async function readBudgetQuota(
  gateway: ClusterGateway,
  namespace: string,
  quota: string,
): Promise<BudgetQuotaState | undefined> {
  const object = await gateway.read<QuotaWithStatus>({
    apiVersion: 'v1',
    kind: 'ResourceQuota',
    name: budgetQuotaName(quota),
    namespace,
  });
  return object ? stateOf(object) : undefined;
}

type QuotaWithStatus = ResourceQuota & { status?: { hard?: Record<string, string>; used?: Record<string, string> } };

const stateOf = (object: QuotaWithStatus): BudgetQuotaState => ({
  spec: object.spec?.hard ?? {},
  statusHard: object.status?.hard ?? {},
  used: object.status?.used ?? {},
});

/**
 * Writes a budget quota and waits until the cluster enforces it: its quota controller has copied
 * the new `hard` into `status.hard`, which is what admission checks. Returns the quota as then
 * read (its `used` counts everything admitted under the old limit), or undefined when that did not
 * happen within timeoutMs (the old limit must then still be counted).
 */
export async function writeBudgetQuota(
  gateway: ClusterGateway,
  object: ResourceQuota,
  sameQuantity: (a: string | undefined, b: string | undefined) => boolean,
  timeoutMs: number,
): Promise<BudgetQuotaState | undefined> {
  await gateway.apply(object);
  let confirmed: BudgetQuotaState | undefined;
  const enforced = await watchUntil<QuotaWithStatus>(
    gateway,
    {
      apiVersion: 'v1',
      kind: 'ResourceQuota',
      name: object.metadata.name,
      namespace: object.metadata.namespace!,
      labelSelector: `${LABEL_OVERALL_QUOTA}=${object.metadata.labels![LABEL_OVERALL_QUOTA]}`,
    },
    (current) => {
      const state = stateOf(current);
      const keys = Object.keys(object.spec.hard);
      const done =
        keys.every(
          (k) =>
            sameQuantity(state.spec[k], object.spec.hard[k]) && sameQuantity(state.statusHard[k], object.spec.hard[k]),
        ) && Object.keys(state.statusHard).every((k) => keys.includes(k));
      if (done) confirmed = state;
      return done;
    },
    timeoutMs,
  );
  return enforced ? confirmed : undefined;
}

/** Deletes a budget quota; false when it was gone already. */
export async function deleteBudgetQuota(gateway: ClusterGateway, namespace: string, quota: string): Promise<boolean> {
  try {
    return await gateway.delete({ apiVersion: 'v1', kind: 'ResourceQuota', name: budgetQuotaName(quota), namespace });
  } catch (error) {
    if (isNotFound(error)) return false;
    throw error;
  }
}

/** `count/<resource>[.<group>]` → the resource and group it counts (undefined for any other key). */
export function countedResource(key: string): { resource: string; group: string } | undefined {
  if (!key.startsWith('count/')) return undefined;
  const name = key.slice('count/'.length);
  const dot = name.indexOf('.');
  return dot < 0 ? { resource: name, group: '' } : { resource: name.slice(0, dot), group: name.slice(dot + 1) };
}

/**
 * A `count/` key of a kind the cluster does not serve counts nothing there: a warning on that
 * cluster (the quota is still written, as Kubernetes accepts it), never a failure.
 */
async function warnOfUnservedCounts(ctx: ClusterContext, shares: BudgetShare[]): Promise<void> {
  const counted = shares.flatMap((share) =>
    Object.keys(share.hard).flatMap((key) => {
      const target = countedResource(key);
      return target ? [{ quota: share.quota, key, ...target }] : [];
    }),
  );
  if (counted.length === 0) return;
  let served;
  try {
    served = await ctx.connection.servedResources();
  } catch {
    return; // discovery failed: the RBAC controller already says so in the warnings
  }
  for (const c of counted)
    if (!served.get(c.resource)?.has(c.group))
      ctx.warnings.push({
        permission: `overall-quota ${c.quota}`,
        resource: c.resource,
        group: c.group,
        message: `${c.key}: the cluster does not serve ${c.group ? `${c.resource}.${c.group}` : c.resource}, so its share counts nothing here`,
      });
}

export class BudgetQuotaController {
  constructor(private readonly assignments: BudgetAssignments) {}

  async apply(ctx: ClusterContext): Promise<void> {
    let shares: BudgetShare[];
    try {
      shares = await this.assignments.forCluster(ctx.work.logicalCloud.id, ctx.work.reference.name);
    } catch (error) {
      ctx.recordFailure({ category: 'quota', kind: 'ResourceQuota', name: 'dcm-budget-*' }, error);
      return;
    }
    await warnOfUnservedCounts(ctx, shares);
    const wanted = new Set<string>();
    for (const share of shares) {
      const object = budgetQuotaObject(ctx.namespace, ctx.labels, share);
      wanted.add(object.metadata.name);
      try {
        await ctx.connection.apply(object);
        ctx.record({ category: 'quota', kind: 'ResourceQuota', name: object.metadata.name, status: 'Created' });
      } catch (error) {
        ctx.record({
          category: 'quota',
          kind: 'ResourceQuota',
          name: object.metadata.name,
          status: 'Failed',
          message: messageOf(error),
        });
      }
    }
    let existing: ResourceQuota[] = [];
    try {
      existing = await ctx.connection.list<ResourceQuota>(BUDGET_KIND.apiVersion, BUDGET_KIND.kind, {
        namespace: ctx.namespace,
        labelSelector: `${ctx.selector},${LABEL_OVERALL_QUOTA}`,
      });
    } catch (error) {
      ctx.recordFailure({ category: 'quota', kind: 'ResourceQuota', name: 'dcm-budget-*' }, error, 'DeleteFailed');
    }
    for (const object of existing) {
      const name = object.metadata?.name;
      if (!name || wanted.has(name)) continue;
      try {
        await ctx.connection.delete({ apiVersion: 'v1', kind: 'ResourceQuota', name, namespace: ctx.namespace });
        ctx.record({ category: 'quota', kind: 'ResourceQuota', name, status: 'Deleted' });
      } catch (error) {
        ctx.recordFailure({ category: 'quota', kind: 'ResourceQuota', name }, error, 'DeleteFailed');
      }
    }
  }
}
