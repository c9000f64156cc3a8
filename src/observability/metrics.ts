/**
 * Prometheus metrics of one DCM, in its own registry (several DCMs in one process do not
 * collide): HTTP requests per route pattern, method and status; gRPC calls per method and
 * code; apply/terminate per cluster and per operation; logical clouds per state (counted in
 * MongoDB at scrape time, so every replica reports the same); default process metrics.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { LifecycleObserver } from '../features/lifecycle/lifecycle.service.js';
import type { Logger } from '../logger.js';

const HTTP_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const LIFECYCLE_BUCKETS = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];

export interface MetricsOptions {
  logger: Logger;
  /** Logical clouds per lifecycle state, read at every scrape. */
  logicalCloudStates: () => Promise<Map<string, number>>;
  /** The nearest expiry of any tenant certificate, read at every scrape (undefined: none stored). */
  nearestCertificateExpiry?: () => Promise<Date | undefined>;
}

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
    this.httpRequests = new Counter({ name: 'dcm_http_requests_total', help: 'HTTP requests by method, route pattern and status code', labelNames: ['method', 'route', 'status'], registers });
    this.httpDuration = new Histogram({
      name: 'dcm_http_request_duration_seconds',
      help: 'HTTP request duration by method, route pattern and status code',
      labelNames: ['method', 'route', 'status'],
      buckets: HTTP_BUCKETS,
      registers,
    });
    this.grpcCalls = new Counter({ name: 'dcm_grpc_requests_total', help: 'gRPC calls by service, method and status code', labelNames: ['service', 'method', 'code'], registers });
    this.grpcDuration = new Histogram({
      name: 'dcm_grpc_request_duration_seconds',
      help: 'gRPC call duration by service, method and status code',
      labelNames: ['service', 'method', 'code'],
      buckets: HTTP_BUCKETS,
      registers,
    });
    this.driftEvents = new Counter({
      name: 'dcm_drift_events_total',
      help: 'Objects found changed or deleted on a cluster (drift), by kind, change (deleted, changed, deleting, unexpected) and action (restored, reported, restore-failed)',
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
    this.operations = new Counter({ name: 'dcm_lifecycle_operations_total', help: 'Apply and terminate operations (all clusters of a logical cloud), by outcome', labelNames: ['operation', 'outcome'], registers });
    this.operationDuration = new Histogram({
      name: 'dcm_lifecycle_operation_duration_seconds',
      help: 'Duration of apply and terminate operations (all clusters of a logical cloud)',
      labelNames: ['operation', 'outcome'],
      buckets: LIFECYCLE_BUCKETS,
      registers,
    });
    const log = options.logger;
    new Gauge({
      name: 'dcm_logical_clouds',
      help: 'Logical clouds by lifecycle state (counted in the database at scrape time)',
      labelNames: ['state'],
      registers,
      async collect() {
        this.reset();
        try {
          for (const [state, count] of await options.logicalCloudStates()) this.set({ state }, count);
        } catch (error) {
          // The scrape still answers; the missing series show that the count failed.
          log.warn({ err: error }, 'cannot count logical clouds per state for /metrics');
        }
      },
    });
    const nearest = options.nearestCertificateExpiry;
    if (nearest) {
      new Gauge({
        name: 'dcm_tenant_certificate_nearest_expiry_timestamp_seconds',
        help: 'When the tenant certificate that expires first expires (Unix time; read from the database at scrape time; absent when none is stored)',
        registers,
        async collect() {
          this.reset();
          try {
            const at = await nearest();
            if (at) this.set(at.getTime() / 1000);
          } catch (error) {
            log.warn({ err: error }, 'cannot read tenant certificate expiries for /metrics');
          }
        },
      });
    }
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
    driftDetected: ({ kind, change, action }: { kind: string; change: string; action: string }) => this.driftEvents.inc({ kind, change, action }),
    watchRestarted: (provider: string, cluster: string, kind: string) => this.driftWatchRestarts.inc({ provider, cluster, kind }),
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
