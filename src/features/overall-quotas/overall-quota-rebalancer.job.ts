/**
 * The rebalancer: every pass, for each logical cloud with an overall quota, under the logical
 * cloud's lease (one replica at a time, never during an apply or terminate), it reads each
 * cluster's budget quota (`status.used`), splits the budget again (overall-quota.assignment.ts)
 * and writes the changes in the one order that keeps the invariant: every lowering first,
 * each confirmed enforced by its cluster (status.hard), then the raises, each only as far as
 * the sum of what every cluster may admit (read after the lowerings; an unreachable cluster
 * with what it was last known to admit) stays within `hard`. Nothing it needs lives in memory:
 * a restarted or other replica carries on from the clusters and the stored assignments.
 */
import { budgetQuotaObject, deleteBudgetQuota, writeBudgetQuota } from '../../controllers/budget-quota.controller.js';
import { messageOf } from '../../controllers/cluster-context.js';
import { managedLabels } from '../../controllers/object-names.js';
import type { LogicalCloudRecord } from '../../domain/logical-cloud.js';
import { ConflictError } from '../../errors.js';
import type { ClusterGateway } from '../../kubernetes/cluster-gateway.js';
import type { Logger } from '../../logger.js';
import type { LifecycleDocument } from '../lifecycle/lifecycle-status.store.js';
import { raiseAllowed, splitKey } from './overall-quota.assignment.js';
import type { ClusterAssignment, OverallQuotaAssignmentStore } from './overall-quota-assignment.store.js';
import {
  memberClusters,
  viewCluster,
  viewFromRead,
  type ClusterQuotaView,
  type MemberCluster,
} from './overall-quota-clusters.js';
import { assignmentDocument, budgetTerms, type BudgetTerms } from './overall-quota-report.js';
import type { OverallQuotaRecord } from './overall-quota.schema.js';
import type { OverallQuotaStore } from './overall-quota.store.js';
import { fromMilli, maxBig, minBig, sumBig, toMilli } from './milli-quantity.js';

/** One reassignment on one cluster, for the audit log. */
export interface Reassignment {
  project: string;
  logicalCloud: string;
  quota: string;
  reference: string;
  from: Record<string, string>;
  to: Record<string, string>;
  why: 'lower' | 'raise';
}

export interface RebalancerDependencies {
  quotas: Pick<OverallQuotaStore, 'list' | 'findWhere'>;
  assignments: OverallQuotaAssignmentStore;
  statuses: { get(logicalCloudId: string): Promise<LifecycleDocument | null>; changed(logicalCloudId: string): void };
  logicalClouds: { getById(id: string): Promise<LogicalCloudRecord | undefined> };
  /** Runs `work` holding the logical cloud's lease; ConflictError while an operation (or another replica) holds it. */
  exclusive<T>(lc: LogicalCloudRecord, work: () => Promise<T>): Promise<T>;
  connect(provider: string, cluster: string): Promise<ClusterGateway>;
  audit(change: Reassignment): void;
  logger: Logger;
  /** How long a lowered quota may take to be enforced before its old limit is kept counted. */
  confirmTimeoutMs: number;
}

const sameQuantity = (a: string | undefined, b: string | undefined) =>
  a !== undefined && b !== undefined && toMilli(a) === toMilli(b);

const specOf = (view: ClusterQuotaView, keys: string[]): Map<string, bigint | undefined> =>
  new Map(keys.map((k) => [k, view.keys.get(k)?.spec]));

const quantities = (map: Map<string, bigint | undefined>): Record<string, string> => {
  const out: Record<string, string> = {};
  for (const [k, v] of map) if (v !== undefined) out[k] = fromMilli(v);
  return out;
};

export class OverallQuotaRebalancer {
  constructor(private readonly deps: RebalancerDependencies) {}

  /** One pass over every logical cloud with an overall quota (or with budget quotas left to remove). */
  async runOnce(): Promise<void> {
    const [records, stored] = await Promise.all([this.deps.quotas.findWhere({}, {}), this.deps.assignments.all()]);
    const ids = new Set([...records.map((r) => r.scope.logicalCloudId!), ...stored.map((d) => d.logicalCloudId)]);
    for (const id of ids) {
      try {
        await this.rebalance(id);
      } catch (error) {
        if (error instanceof ConflictError) continue; // an operation runs, or another replica has it: next pass
        this.deps.logger.warn({ err: error, logicalCloudId: id }, 'rebalancing an overall quota failed');
      }
    }
  }

  async rebalance(logicalCloudId: string): Promise<void> {
    const lc = await this.deps.logicalClouds.getById(logicalCloudId);
    if (!lc) return this.deps.assignments.deleteAll(logicalCloudId);
    const doc = await this.deps.statuses.get(logicalCloudId);
    if (!doc || doc.operation.inProgress || lc.data.level !== '1') return;
    await this.deps.exclusive(lc, async () => {
      const [records, stored] = await Promise.all([
        this.deps.quotas.list({ logicalCloudId }),
        this.deps.assignments.forLogicalCloud(logicalCloudId),
      ]);
      const members = await memberClusters(doc, this.deps.connect);
      try {
        for (const record of records.items) {
          const last = stored.find((d) => d.quota === record.name);
          await this.rebalanceQuota(lc, record, members, last?.clusters ?? []);
        }
        for (const orphan of stored.filter((d) => !records.items.some((r) => r.name === d.quota)))
          await this.removeQuota(lc, orphan.quota, members);
      } finally {
        for (const m of members) m.gateway?.close();
      }
    });
  }

  private async rebalanceQuota(
    lc: LogicalCloudRecord,
    record: OverallQuotaRecord,
    members: MemberCluster[],
    last: ClusterAssignment[],
  ): Promise<void> {
    const terms = budgetTerms(record.data);
    const keys = [...terms.hard.keys()];
    const namespace = lc.data.namespace;
    const lastOf = (reference: string) => last.find((c) => c.reference === reference);
    const views = await Promise.all(
      members.map((m) => viewCluster(m, namespace, record.name, keys, lastOf(m.reference))),
    );
    const targets = this.targets(terms, views);
    const labels = managedLabels({ project: lc.scope.project!, logicalCloud: lc.name, logicalCloudId: lc.id });
    const write = async (view: ClusterQuotaView, next: Map<string, bigint | undefined>, why: Reassignment['why']) => {
      const before = quantities(specOf(view, keys));
      const hard = quantities(next);
      this.deps.audit({
        project: lc.scope.project!,
        logicalCloud: lc.name,
        quota: record.name,
        reference: view.member.reference,
        from: before,
        to: hard,
        why,
      });
      const object = budgetQuotaObject(namespace, labels, { quota: record.name, hard });
      return writeBudgetQuota(view.member.gateway!, object, sameQuantity, this.deps.confirmTimeoutMs);
    };
    const writable = (v: ClusterQuotaView) => v.reachable && v.member.applied && v.member.gateway !== undefined;
    let changed = false;
    // 1. Lower (or create: from no limit at all) first, each confirmed enforced before anything is raised.
    for (const [i, view] of views.entries()) {
      if (!writable(view)) continue;
      const target = targets.get(view.member.reference)!;
      const current = specOf(view, keys);
      const lowered = new Map(keys.map((k) => [k, minBig(current.get(k) ?? target.get(k)!, target.get(k)!)]));
      const extraKeys = Object.keys(view.read?.spec ?? {}).some((k) => !terms.hard.has(k));
      if (!extraKeys && keys.every((k) => lowered.get(k) === current.get(k))) continue;
      changed = true;
      try {
        const confirmed = await write(view, lowered, 'lower');
        if (confirmed) views[i] = viewFromRead(view.member, confirmed, keys, undefined);
        else
          views[i] = { ...view, message: 'the lowered quota was not enforced in time: its earlier limit still counts' };
      } catch (error) {
        views[i] = { ...view, message: messageOf(error) };
      }
    }
    // 2. Raise, each only as far as the budget allows given what every cluster may admit now.
    for (const [i, view] of views.entries()) {
      if (!writable(view)) continue;
      const target = targets.get(view.member.reference)!;
      const current = specOf(view, keys);
      const next = new Map(current);
      for (const key of keys) {
        const k = view.keys.get(key)!;
        const total = sumBig(views.map((v) => v.keys.get(key)!.committed));
        const allowed = raiseAllowed(terms.hard.get(key)!, total, k, target.get(key)!);
        if (current.get(key) !== undefined && allowed > current.get(key)!) next.set(key, allowed);
      }
      if (keys.every((k) => next.get(k) === current.get(k))) continue;
      changed = true;
      // Counted as raised from now on, whether or not the write gets through.
      const keysView = new Map(view.keys);
      for (const key of keys) {
        const k = keysView.get(key)!;
        const spec = next.get(key);
        keysView.set(key, {
          ...k,
          ...(spec !== undefined ? { spec } : {}),
          committed: maxBig(k.committed, spec ?? 0n),
        });
      }
      views[i] = { ...view, keys: keysView };
      try {
        await write(view, next, 'raise');
      } catch (error) {
        views[i] = { ...views[i]!, message: messageOf(error) };
      }
    }
    await this.deps.assignments.put(assignmentDocument(lc, record.name, terms, views));
    if (changed) this.deps.statuses.changed(lc.id);
  }

  /** Each writable cluster's target of each key. */
  private targets(terms: BudgetTerms, views: ClusterQuotaView[]): Map<string, Map<string, bigint>> {
    const targets = new Map(views.map((v) => [v.member.reference, new Map<string, bigint>()]));
    for (const [key, hard] of terms.hard) {
      const split = splitKey({
        hard,
        step: terms.steps.get(key)!,
        reserve: terms.reserve.get(key) ?? 0n,
        clusters: views.map((v) => ({
          reference: v.member.reference,
          writable: v.reachable && v.member.applied,
          committed: v.keys.get(key)!.committed,
          used: v.keys.get(key)!.used,
        })),
        ...(terms.shares ? { shares: terms.shares.get(key) ?? new Map<string, bigint>() } : {}),
      });
      for (const [reference, value] of split) targets.get(reference)!.set(key, value);
    }
    return targets;
  }

  /** An overall quota deleted: its budget quotas go from every cluster; its record once none is left. */
  private async removeQuota(lc: LogicalCloudRecord, quota: string, members: MemberCluster[]): Promise<void> {
    let left = false;
    for (const m of members) {
      if (!m.gateway) {
        left = true;
        continue;
      }
      try {
        await deleteBudgetQuota(m.gateway, lc.data.namespace, quota);
      } catch {
        left = true;
      }
    }
    if (!left) await this.deps.assignments.delete(lc.id, quota);
    this.deps.statuses.changed(lc.id);
  }
}
