/**
 * Overall quotas of a logical cloud (one budget across all of its clusters), with their REST
 * routes, the rebalancer that splits each budget into per-cluster quotas, and the status report.
 */
import type { Router } from 'express';
import type { BudgetAssignments } from '../../controllers/budget-quota.controller.js';
import { pairsToMap } from '../../db/named-record-store.js';
import type { EventBus } from '../../jobs/event-bus.js';
import type { OpenApiRegistry } from '../../http/openapi.js';
import type { LogicalCloudResolver } from '../logical-clouds/logical-cloud-child.service.js';
import type { LifecycleGuard } from '../logical-clouds/logical-cloud.service.js';
import type { OverallQuotaAssignmentStore } from './overall-quota-assignment.store.js';
import {
  OverallQuotaRebalancer,
  type Reassignment,
  type RebalancerDependencies,
} from './overall-quota-rebalancer.job.js';
import type { Logger } from '../../logger.js';
import type { LifecycleStatusStore } from '../lifecycle/lifecycle-status.store.js';
import type { ProjectPolicyService } from '../project-policies/project-policy.service.js';
import type { OverallQuotaStatus } from '../../domain/overall-quota.js';
import { budgetTerms, overallQuotaStatus } from './overall-quota-report.js';
import { declareOverallQuotaRoutes, overallQuotaCrud } from './overall-quota.router.js';
import {
  createOverallQuotaService,
  overallQuotaPolicyRefusal,
  type OverallQuotaPorts,
} from './overall-quota.service.js';
import type { OverallQuotaStore } from './overall-quota.store.js';
import { fromMilli } from './milli-quantity.js';

export interface OverallQuotaDependencies {
  stores: {
    overallQuotas: OverallQuotaStore;
    overallQuotaAssignments: OverallQuotaAssignmentStore;
    clusterReferences: { count(scope: { logicalCloudId: string }): Promise<number> };
    lifecycle: Pick<LifecycleStatusStore, 'get' | 'events'>;
    logicalClouds: RebalancerDependencies['logicalClouds'];
  };
  logicalClouds: LogicalCloudResolver;
  guard: () => LifecycleGuard;
  events: EventBus;
  policies: Pick<ProjectPolicyService, 'get'>;
  cluster: RebalancerDependencies['cluster'];
  exclusive: RebalancerDependencies['exclusive'];
  logger: Logger;
  replicaId: string;
  /** DCM_BUDGET_REBALANCE_MS: a usage change is reflected within it (the clusters are read every half of it). */
  rebalanceMs: number;
}

export function createOverallQuotas(d: OverallQuotaDependencies) {
  const ports: OverallQuotaPorts = {
    countReferences: (lc) => d.stores.clusterReferences.count({ logicalCloudId: lc.id }),
    maxOverall: async (project) => {
      const max = (await d.policies.get(project)).policy.maxOverall;
      return max ? pairsToMap(max) : undefined;
    },
  };
  // Audit lines at info also when the service logs only warnings (as AuditLog writes them); silent stays silent.
  const auditLevel = d.logger.level === 'silent' || d.logger.levelVal <= 30 ? d.logger.level : 'info';
  const audit = d.logger.child({ name: 'audit', audit: true }, { level: auditLevel });
  const deps = {
    store: d.stores.overallQuotas,
    assignments: d.stores.overallQuotaAssignments,
    logicalClouds: d.logicalClouds,
    guard: d.guard,
    events: d.events,
    ports,
    rebalancer: {
      statuses: {
        get: (id: string) => d.stores.lifecycle.get(id),
        changed: (id: string) => d.stores.lifecycle.events.changed(id),
      },
      logicalClouds: d.stores.logicalClouds,
      exclusive: d.exclusive,
      cluster: d.cluster,
      audit: (change: Reassignment) =>
        audit.info(
          {
            event: 'overall-quota-reassignment',
            principal: { name: `dcm/${d.replicaId}`, source: 'rebalancer' },
            ...change,
          },
          `overall quota ${change.quota} on ${change.reference}: ${change.why}`,
        ),
      logger: d.logger,
      confirmTimeoutMs: Math.max(2000, d.rebalanceMs),
    },
  };
  const service = createOverallQuotaService(deps.store, deps.logicalClouds, deps.guard, deps.ports);
  deps.events.on('logicalCloudDeleted', async ({ logicalCloudId }) => {
    await deps.store.deleteAll({ logicalCloudId });
    await deps.assignments.deleteAll(logicalCloudId);
  });
  const rebalancer = new OverallQuotaRebalancer({
    ...deps.rebalancer,
    quotas: deps.store,
    assignments: deps.assignments,
  });
  /** What the apply pipeline writes on a cluster: the share last recorded for it, zero where there is none yet. */
  const budgets: BudgetAssignments = {
    forCluster: async (logicalCloudId, reference) => {
      const [records, docs] = await Promise.all([
        deps.store.list({ logicalCloudId }),
        deps.assignments.forLogicalCloud(logicalCloudId),
      ]);
      return records.items.map((record) => {
        const assigned = pairsToMap(
          docs.find((d) => d.quota === record.name)?.clusters.find((c) => c.reference === reference)?.assigned,
        );
        const hard: Record<string, string> = {};
        for (const key of budgetTerms(record.data).hard.keys())
          hard[key] = assigned[key] !== undefined && assigned[key] !== 'unbounded' ? assigned[key]! : fromMilli(0n);
        return { quota: record.name, hard };
      });
    },
  };
  /** The status report of a logical cloud's overall quotas. */
  const status = async (logicalCloudId: string): Promise<OverallQuotaStatus[]> => {
    const [records, docs] = await Promise.all([
      deps.store.list({ logicalCloudId }),
      deps.assignments.forLogicalCloud(logicalCloudId),
    ]);
    return records.items.map((record) => {
      const doc = docs.find((d) => d.quota === record.name);
      if (doc) return overallQuotaStatus(doc);
      return {
        name: record.name,
        keys: record.data.hard.map(({ key, value }) => ({ key, hard: value, used: '0', assigned: '0' })),
        clusters: [],
      };
    });
  };
  return {
    service,
    rebalancer,
    /** How often the clusters are read: half of DCM_BUDGET_REBALANCE_MS. */
    passIntervalMs: Math.max(100, Math.floor(d.rebalanceMs / 2)),
    budgets,
    status,
    /** At a project caller's apply: why its budgets exceed the policy's maxOverall as it is now, or undefined. */
    applyRefusal: (project: string, logicalCloudId: string) =>
      overallQuotaPolicyRefusal(deps.store, deps.ports, project, logicalCloudId),
    crud: overallQuotaCrud(service),
    routes: (router: Router, registry: OpenApiRegistry) => declareOverallQuotaRoutes(router, registry, service),
  };
}
