/**
 * The DCM's background work, registered in one place (wiring only): started and stopped as a
 * whole by main.ts. The names are those its log lines use.
 */
import type { Config } from './config.js';
import type { LeaseStore } from './db/lease-store.js';
import type { ClusterHealthProber } from './features/cluster-registry/cluster-health.job.js';
import type { DriftWatcher } from './features/drift/drift-watcher.js';
import type { CredentialRenewalJob } from './features/lifecycle/credential-renewal.job.js';
import type { LifecycleService } from './features/lifecycle/lifecycle.service.js';
import type { OverallQuotaRebalancer } from './features/overall-quotas/overall-quota-rebalancer.job.js';
import { JobRegistry, type JobSpec } from './jobs/registry.js';
import type { Logger } from './logger.js';

export interface BackgroundJobParts {
  config: Pick<Config, 'DCM_CERT_RENEWAL_INTERVAL_MS' | 'DCM_CLUSTER_HEALTH_INTERVAL_MS' | 'DCM_DRIFT_ENABLED'>;
  logger: Logger;
  leases: Pick<LeaseStore, 'acquire'>;
  replicaId: string;
  lifecycle: Pick<LifecycleService, 'claimIntervalMs' | 'resumeInterrupted'>;
  certificateRenewal: Pick<CredentialRenewalJob, 'runOnce'>;
  clusterHealthProber: Pick<ClusterHealthProber, 'probeAll'>;
  clusterSelectionJob: JobSpec;
  overallQuotaRebalancer: { rebalancer: Pick<OverallQuotaRebalancer, 'start' | 'stop'>; passIntervalMs: number };
  driftWatcher: Pick<DriftWatcher, 'start' | 'stop'>;
}

export function registerBackgroundJobs(parts: BackgroundJobParts): JobRegistry {
  const { config, logger, lifecycle, overallQuotaRebalancer: budgets, driftWatcher } = parts;
  return new JobRegistry({ logger, leases: parts.leases, replicaId: parts.replicaId })
    .register({
      name: 'looking for interrupted operations',
      replicas: 'all',
      intervalMs: lifecycle.claimIntervalMs,
      runAtStart: true,
      run: async () => {
        const resumed = await lifecycle.resumeInterrupted();
        if (resumed > 0) logger.info({ resumed }, 'resumed interrupted operations');
      },
    })
    .register({
      name: 'looking for certificates to renew',
      replicas: 'all',
      intervalMs: config.DCM_CERT_RENEWAL_INTERVAL_MS,
      run: () => parts.certificateRenewal.runOnce(),
    })
    .register({
      name: 'probing clusters',
      replicas: 'all',
      intervalMs: config.DCM_CLUSTER_HEALTH_INTERVAL_MS,
      run: () => parts.clusterHealthProber.probeAll(),
    })
    .register(parts.clusterSelectionJob)
    .register({
      name: 'rebalancing overall quotas',
      replicas: 'all',
      start: async () => budgets.rebalancer.start(budgets.passIntervalMs),
      stop: () => budgets.rebalancer.stop(),
    })
    .register({
      name: 'drift watching',
      replicas: 'all',
      enabled: config.DCM_DRIFT_ENABLED,
      start: () => driftWatcher.start(),
      stop: () => driftWatcher.stop(),
    });
}
