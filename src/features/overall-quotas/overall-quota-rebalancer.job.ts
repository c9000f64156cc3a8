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
import { managedLabels } from '../../controllers/object-names.js';
import type { LogicalCloudRecord } from '../../domain/logical-cloud.js';
import { ConflictError } from '../../errors.js';
import type { ClusterGateway } from '../../kubernetes/cluster-gateway.js';
import { PeriodicJob } from '../../jobs/periodic.js';
import type { Logger } from '../../logger.js';
import type { LifecycleDocument } from '../lifecycle/lifecycle-status.store.js';
import { splitKey } from './overall-quota.assignment.js';
import { lowerFirst, quantities, raiseWithin, sameQuantity, specOf, type Writer } from './overall-quota-phases.js';
import type { AssignmentDocument, OverallQuotaAssignmentStore } from './overall-quota-assignment.store.js';
import { memberClusters, viewCluster, type ClusterQuotaView, type MemberCluster } from './overall-quota-clusters.js';
import { assignmentDocument, budgetTerms, type BudgetTerms } from './overall-quota-report.js';
import type { OverallQuotaRecord } from './overall-quota.schema.js';
import type { OverallQuotaStore } from './overall-quota.store.js';

/** Logical clouds one pass works at once. */
const PASS_CONCURRENCY = 8;

/** The registered clusters as one pass looked them up. */
type ClusterLookups = Map<string, Promise<{ version: string; connect(): ClusterGateway }>>;

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
  /** A registered cluster: its record's version (a new one after its kubeconfig changed) and how to connect. */
  cluster(provider: string, cluster: string): Promise<{ version: string; connect(): ClusterGateway }>;
  audit(change: Reassignment): void;
  logger: Logger;
  /** How long a lowered quota may take to be enforced before its old limit is kept counted. */
  confirmTimeoutMs: number;
}

/** A stored record as a pass would write it (without its id and time). */
const withoutMeta = ({ _id, updatedAt, ...rest }: AssignmentDocument) => (void _id, void updatedAt, rest);

export class OverallQuotaRebalancer {
  /** Connections kept from pass to pass (a TLS handshake per cluster and pass would cost more than the pass). */
  private readonly connections = new Map<string, { version: string; gateway: ClusterGateway }>();
  private job: PeriodicJob | undefined;

  constructor(private readonly deps: RebalancerDependencies) {}

  /** Runs a pass every `intervalMs` until stopped. */
  start(intervalMs: number): void {
    this.job ??= new PeriodicJob('rebalancing overall quotas', () => this.runOnce(), this.deps.logger);
    this.job.start(intervalMs);
  }

  /** Stops the passes (waiting for the one under way) and closes the connections. */
  async stop(): Promise<void> {
    await this.job?.stop();
    for (const c of this.connections.values()) c.gateway.close();
    this.connections.clear();
  }

  /** The connection to a cluster, opened again when its registration changed. */
  private async connect(provider: string, name: string, clusters: ClusterLookups): Promise<ClusterGateway> {
    const key = `${provider}/${name}`;
    // A cluster's registration is read once per pass, however many logical clouds it serves.
    if (!clusters.has(key)) clusters.set(key, this.deps.cluster(provider, name));
    const cluster = await clusters.get(key)!;
    const kept = this.connections.get(key);
    if (kept?.version === cluster.version) return kept.gateway;
    kept?.gateway.close();
    const gateway = cluster.connect();
    this.connections.set(key, { version: cluster.version, gateway });
    return gateway;
  }

  /** One pass over every logical cloud with an overall quota (or with budget quotas left to remove). */
  async runOnce(): Promise<void> {
    const [records, stored] = await Promise.all([this.deps.quotas.findWhere({}, {}), this.deps.assignments.all()]);
    const ids = new Set([...records.map((r) => r.scope.logicalCloudId!), ...stored.map((d) => d.logicalCloudId)]);
    const clusters: ClusterLookups = new Map();
    const queue = [...ids];
    // A few logical clouds at a time: a pass over many must still end within the interval.
    const worker = async () => {
      for (let id = queue.shift(); id !== undefined; id = queue.shift()) {
        try {
          // What this pass read serves its look without the lease; under the lease all is read again.
          const read = {
            records: records.filter((r) => r.scope.logicalCloudId === id),
            stored: stored.filter((d) => d.logicalCloudId === id),
          };
          await this.rebalance(id, clusters, read);
        } catch (error) {
          if (error instanceof ConflictError) continue; // an operation runs, or another replica has it: next pass
          this.deps.logger.warn({ err: error, logicalCloudId: id }, 'rebalancing an overall quota failed');
        }
      }
    };
    await Promise.all(Array.from({ length: PASS_CONCURRENCY }, worker));
  }

  /**
   * One logical cloud: its clusters read and the split computed without the lease; only when
   * something is to be written (a share, or what status reports) is the lease taken, and
   * everything read and decided again under it.
   */
  async rebalance(
    logicalCloudId: string,
    clusters: ClusterLookups = new Map(),
    read?: { records: OverallQuotaRecord[]; stored: AssignmentDocument[] },
  ): Promise<void> {
    const lc = await this.deps.logicalClouds.getById(logicalCloudId);
    if (!lc) return this.deps.assignments.deleteAll(logicalCloudId);
    const doc = await this.deps.statuses.get(logicalCloudId);
    if (!doc || doc.operation.inProgress || lc.data.level !== '1') return;
    const pass = async (write: boolean): Promise<boolean> => {
      const [records, stored] =
        read && !write
          ? [read.records, read.stored]
          : await Promise.all([
              this.deps.quotas.list({ logicalCloudId }).then((page) => page.items),
              this.deps.assignments.forLogicalCloud(logicalCloudId),
            ]);
      const members = await memberClusters(doc, (provider, cluster) => this.connect(provider, cluster, clusters));
      let changes = false;
      for (const record of records) {
        const last = stored.find((d) => d.quota === record.name);
        changes = (await this.rebalanceQuota(lc, record, members, last, write)) || changes;
      }
      for (const orphan of stored.filter((d) => !records.some((r) => r.name === d.quota))) {
        changes = true;
        if (write) await this.removeQuota(lc, orphan.quota, members);
      }
      return changes;
    };
    if (await pass(false)) await this.deps.exclusive(lc, () => pass(true));
  }

  /** Splits one overall quota again; `write: false` only tells whether anything would be written. */
  private async rebalanceQuota(
    lc: LogicalCloudRecord,
    record: OverallQuotaRecord,
    members: MemberCluster[],
    stored: AssignmentDocument | undefined,
    write: boolean,
  ): Promise<boolean> {
    const terms = budgetTerms(record.data);
    const keys = [...terms.hard.keys()];
    const last = stored?.clusters ?? [];
    const views = await Promise.all(
      members.map((m) =>
        viewCluster(
          m,
          lc.data.namespace,
          record.name,
          keys,
          last.find((c) => c.reference === m.reference),
        ),
      ),
    );
    const targets = this.targets(terms, views);
    const writer = write ? this.writer(lc, record.name, keys) : undefined;
    const lowered = await lowerFirst(views, targets, keys, terms, writer);
    const raised = await raiseWithin(views, targets, keys, terms, writer);
    const report = assignmentDocument(lc, record.name, terms, views);
    const reportChanged = !stored || JSON.stringify(withoutMeta(stored)) !== JSON.stringify(report);
    if (write && (lowered || raised || reportChanged)) {
      await this.deps.assignments.put(report);
      this.deps.statuses.changed(lc.id);
    }
    return lowered || raised || reportChanged;
  }

  /** Writes one cluster's budget quota (audited); the quota as then enforced, undefined when not confirmed in time. */
  private writer(lc: LogicalCloudRecord, quota: string, keys: string[]): Writer {
    const labels = managedLabels({ project: lc.scope.project!, logicalCloud: lc.name, logicalCloudId: lc.id });
    return async (view, next, why) => {
      const hard = quantities(next);
      this.deps.audit({
        project: lc.scope.project!,
        logicalCloud: lc.name,
        quota,
        reference: view.member.reference,
        from: quantities(specOf(view, keys)),
        to: hard,
        why,
      });
      const object = budgetQuotaObject(lc.data.namespace, labels, { quota, hard });
      return writeBudgetQuota(view.member.gateway!, object, sameQuantity, this.deps.confirmTimeoutMs);
    };
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
