/**
 * Prometheus metrics of one DCM, in its own registry (several DCMs in one process do not
 * collide): HTTP requests per route pattern, method and status; gRPC calls per method and
 * code; apply/terminate per cluster and per operation; logical clouds per state (counted in
 * MongoDB, so every replica reports the same); default process metrics. What is read from the
 * database is read at most once per `refreshMs` (DCM_METRICS_REFRESH_MS), whatever the number of
 * scrapes: scraping cannot turn into load on the database.
 */
import { performance } from 'node:perf_hooks';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { LifecycleObserver } from '../features/lifecycle/lifecycle.service.js';
import type { Logger } from '../logger.js';
import type { OverallQuotaSample } from './logical-cloud-states.js';

const HTTP_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const LIFECYCLE_BUCKETS = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];

export interface MetricsOptions {
  logger: Logger;
  /** Logical clouds per lifecycle state (read at most once per refreshMs). */
  logicalCloudStates: () => Promise<Map<string, number>>;
  /** The nearest expiry of any tenant certificate (undefined: none stored; read at most once per refreshMs). */
  nearestCertificateExpiry?: () => Promise<Date | undefined>;
  /** hard and used of every key of every overall quota (read at most once per refreshMs). */
  overallQuotas?: () => Promise<OverallQuotaSample[]>;
  /**
   * How long a database read serves the scrapes that follow it (DCM_METRICS_REFRESH_MS, at
   * least 1000 in the configuration; default DEFAULT_METRICS_REFRESH_MS). 0 reads at every
   * scrape: only tests that look at a count right after changing it compose that.
   */
  refreshMs?: number;
  /** Milliseconds of a monotonic clock (tests pass their own). */
  now?: () => number;
}

export const DEFAULT_METRICS_REFRESH_MS = 15_000;

/**
 * A read shared by every scrape of one interval: it runs again only when the last one started
 * `refreshMs` ago or more, and never while one is under way. A failed read is logged once and
 * answers undefined (the gauge then has no series) until the next interval.
 */
export function readAtMostEvery<T>(
  read: () => Promise<T>,
  refreshMs: number,
  now: () => number,
  onError: (error: unknown) => void,
): () => Promise<T | undefined> {
  let last: { at: number; value: Promise<T | undefined> } | undefined;
  let reading = false;
  return () => {
    const at = now();
    if (last && (reading || at - last.at < refreshMs)) return last.value;
    reading = true;
    const value = read().then(
      (result) => {
        reading = false;
        return result;
      },
      (error: unknown) => {
        reading = false;
        onError(error);
        return undefined;
      },
    );
    last = { at, value };
    return value;
  };
}

const OVERALL_QUOTA_LABELS = ['project', 'logical_cloud', 'quota', 'key'] as const;

export class DcmMetrics {
  readonly registry = new Registry();
  private readonly httpRequests: Counter<'method' | 'route' | 'status'>;
  private readonly httpDuration: Histogram<'method' | 'route' | 'status'>;
  private readonly grpcCalls: Counter<'service' | 'method' | 'code'>;
  private readonly grpcDuration: Histogram<'service' | 'method' | 'code'>;
  private readonly clusterOperations: Counter<'operation' | 'provider' | 'cluster' | 'outcome'>;
  private readonly clusterDuration: Histogram<'operation' | 'provider' | 'cluster' | 'outcome'>;
  private readonly operations: Counter<'operation' | 'outcome'>;
  private readonly operationDuration: Histogram<'operation' | 'outcome'>;
  private readonly driftEvents: Counter<'kind' | 'change' | 'action'>;
  private readonly driftWatchRestarts: Counter<'provider' | 'cluster' | 'kind'>;

  constructor(options: MetricsOptions) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    this.httpRequests = new Counter({
      name: 'dcm_http_requests_total',
      help: 'HTTP requests by method, route pattern and status code',
      labelNames: ['method', 'route', 'status'],
      registers,
    });
    this.httpDuration = new Histogram({
      name: 'dcm_http_request_duration_seconds',
      help: 'HTTP request duration by method, route pattern and status code',
      labelNames: ['method', 'route', 'status'],
      buckets: HTTP_BUCKETS,
      registers,
    });
    this.grpcCalls = new Counter({
      name: 'dcm_grpc_requests_total',
      help: 'gRPC calls by service, method and status code',
      labelNames: ['service', 'method', 'code'],
      registers,
    });
    this.grpcDuration = new Histogram({
      name: 'dcm_grpc_request_duration_seconds',
      help: 'gRPC call duration by service, method and status code',
      labelNames: ['service', 'method', 'code'],
      buckets: HTTP_BUCKETS,
      registers,
    });
    this.driftEvents = new Counter({
      name: 'dcm_drift_events_total',
      help:
        'Objects found changed or deleted on a cluster (drift), by kind, change (deleted, changed, deleting, unexpected) ' +
        'and action (restored, reported, restore-failed)',
      labelNames: ['kind', 'change', 'action'],
      registers,
    });
    this.driftWatchRestarts = new Counter({
      name: 'dcm_drift_watch_restarts_total',
      help: 'Drift watches started again after they ended, by cluster and kind',
      labelNames: ['provider', 'cluster', 'kind'],
      registers,
    });
    this.clusterOperations = new Counter({
      name: 'dcm_lifecycle_cluster_operations_total',
      help: 'Apply and terminate of a logical cloud on one cluster, by outcome',
      labelNames: ['operation', 'provider', 'cluster', 'outcome'],
      registers,
    });
    this.clusterDuration = new Histogram({
      name: 'dcm_lifecycle_cluster_operation_duration_seconds',
      help: 'Duration of apply and terminate on one cluster',
      labelNames: ['operation', 'provider', 'cluster', 'outcome'],
      buckets: LIFECYCLE_BUCKETS,
      registers,
    });
    this.operations = new Counter({
      name: 'dcm_lifecycle_operations_total',
      help: 'Apply and terminate operations (all clusters of a logical cloud), by outcome',
      labelNames: ['operation', 'outcome'],
      registers,
    });
    this.operationDuration = new Histogram({
      name: 'dcm_lifecycle_operation_duration_seconds',
      help: 'Duration of apply and terminate operations (all clusters of a logical cloud)',
      labelNames: ['operation', 'outcome'],
      buckets: LIFECYCLE_BUCKETS,
      registers,
    });
    const log = options.logger;
    const refreshMs = options.refreshMs ?? DEFAULT_METRICS_REFRESH_MS;
    if (!Number.isInteger(refreshMs) || refreshMs < 0)
      throw new RangeError('refreshMs must be an integer of at least 0');
    const now = options.now ?? (() => performance.now());
    // The scrape still answers when a read fails; the missing series show that it failed.
    const states = readAtMostEvery(options.logicalCloudStates, refreshMs, now, (error) =>
      log.warn({ err: error }, 'cannot count logical clouds per state for /metrics'),
    );
    new Gauge({
      name: 'dcm_logical_clouds',
      help: 'Logical clouds by lifecycle state (counted in the database, at most every DCM_METRICS_REFRESH_MS)',
      labelNames: ['state'],
      registers,
      async collect() {
        const counts = await states();
        this.reset();
        for (const [state, count] of counts ?? []) this.set({ state }, count);
      },
    });
    if (options.nearestCertificateExpiry) {
      const nearest = readAtMostEvery(options.nearestCertificateExpiry, refreshMs, now, (error) =>
        log.warn({ err: error }, 'cannot read tenant certificate expiries for /metrics'),
      );
      new Gauge({
        name: 'dcm_tenant_certificate_nearest_expiry_timestamp_seconds',
        help:
          'When the tenant certificate that expires first expires (Unix time; read from the database at most every ' +
          'DCM_METRICS_REFRESH_MS; absent when none is stored)',
        registers,
        async collect() {
          const at = await nearest();
          this.reset();
          if (at) this.set(at.getTime() / 1000);
        },
      });
    }
    if (options.overallQuotas) this.overallQuotaGauges(options.overallQuotas, refreshMs, now, log);
  }

  /** dcm_overall_quota_hard / _used per logical cloud, overall quota and key (one read shared by both). */
  private overallQuotaGauges(
    source: () => Promise<OverallQuotaSample[]>,
    refreshMs: number,
    now: () => number,
    log: Logger,
  ): void {
    const samples = readAtMostEvery(source, refreshMs, now, (error) =>
      log.warn({ err: error }, 'cannot read overall quotas for /metrics'),
    );
    const gauge = (name: string, help: string, value: (s: OverallQuotaSample) => number) =>
      new Gauge({
        name,
        help,
        labelNames: OVERALL_QUOTA_LABELS,
        registers: [this.registry],
        async collect() {
          const all = await samples();
          this.reset();
          for (const s of all ?? [])
            this.set({ project: s.project, logical_cloud: s.logicalCloud, quota: s.quota, key: s.key }, value(s));
        },
      });
    gauge(
      'dcm_overall_quota_hard',
      'The budget of an overall quota per key (base units: CPUs, bytes, objects)',
      (s) => s.hard,
    );
    gauge('dcm_overall_quota_used', "An overall quota's use per key, summed over the clusters", (s) => s.used);
  }
  httpRequest(labels: { method: string; route: string; status: number }, seconds: number): void {
    const l = { method: labels.method, route: labels.route, status: String(labels.status) };
    this.httpRequests.inc(l);
    this.httpDuration.observe(l, seconds);
  }

  grpcCall(labels: { service: string; method: string; code: string }, seconds: number): void {
    this.grpcCalls.inc(labels);
    this.grpcDuration.observe(labels, seconds);
  }

  /** Passed to the drift checker and watcher. */
  readonly drift = {
    driftDetected: ({ kind, change, action }: { kind: string; change: string; action: string }) =>
      this.driftEvents.inc({ kind, change, action }),
    watchRestarted: (provider: string, cluster: string, kind: string) =>
      this.driftWatchRestarts.inc({ provider, cluster, kind }),
  };

  /** Passed to the lifecycle service (LifecycleOptions.observer). */
  readonly lifecycle: LifecycleObserver = {
    clusterFinished: ({ kind, provider, cluster, outcome, seconds }) => {
      const labels = { operation: kind, provider, cluster, outcome };
      this.clusterOperations.inc(labels);
      this.clusterDuration.observe(labels, seconds);
    },
    operationFinished: ({ kind, outcome, seconds }) => {
      const labels = { operation: kind, outcome };
      this.operations.inc(labels);
      this.operationDuration.observe(labels, seconds);
    },
  };

  /** The exposition text and its content type. */
  async scrape(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
