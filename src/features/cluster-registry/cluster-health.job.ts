/**
 * Probes every registered cluster on an interval: reachability and server version (GET
 * /version), readiness (GET /readyz). The result is stored (cluster status, logical cloud
 * status) and an apply to a cluster known unreachable fails at once with the reason.
 */
import type { ClusterGateway } from '../../kubernetes/cluster-gateway.js';
import { PeriodicJob } from '../../jobs/periodic.js';
import type { Logger } from '../../logger.js';
import type { ClusterHealth, ClusterHealthStore } from './cluster-health.store.js';
import type { ClusterRecord, ClusterSecrets, ClusterService } from './cluster.service.js';

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

export class ClusterHealthProber {
  private readonly periodic: PeriodicJob;

  constructor(
    private readonly clusters: Pick<ClusterService, 'all' | 'get' | 'secretsOf'>,
    private readonly store: Pick<ClusterHealthStore, 'record'>,
    private readonly connect: (secrets: ClusterSecrets) => ClusterGateway,
    private readonly logger: Logger,
    private readonly concurrency = 4,
  ) {
    this.periodic = new PeriodicJob('probing clusters', () => this.probeAll(), logger);
  }

  /** Probes one cluster now and records the result. */
  async probe(cluster: ClusterRecord): Promise<ClusterHealth> {
    const base = { provider: cluster.scope.provider!, cluster: cluster.name, checkedAt: new Date() };
    let connection: ClusterGateway | undefined;
    let result: Omit<ClusterHealth, 'since'>;
    try {
      connection = this.connect(this.clusters.secretsOf(cluster));
      const version = (await connection.getJson<{ gitVersion?: string }>('/version')).gitVersion;
      try {
        await connection.getText('/readyz');
        result = { ...base, reachable: true, ready: true, ...(version ? { version } : {}) };
      } catch (error) {
        result = { ...base, reachable: true, ready: false, ...(version ? { version } : {}), message: `not ready: ${messageOf(error)}` };
      }
    } catch (error) {
      result = { ...base, reachable: false, ready: false, message: messageOf(error) };
    } finally {
      connection?.close();
    }
    return this.store.record(result);
  }

  /** Probes the cluster of that name now (GET …/status?probe=true). */
  async probeNamed(provider: string, name: string): Promise<ClusterHealth> {
    return this.probe(await this.clusters.get(provider, name));
  }

  async probeAll(): Promise<void> {
    const queue = await this.clusters.all();
    await Promise.all(
      Array.from({ length: Math.min(this.concurrency, queue.length) }, async () => {
        for (let c = queue.shift(); c; c = queue.shift()) {
          const health = await this.probe(c);
          if (!health.reachable) this.logger.warn({ provider: health.provider, cluster: health.cluster, reason: health.message }, 'cluster unreachable');
        }
      }),
    );
  }

  start(intervalMs: number): void {
    this.periodic.start(intervalMs);
  }

  stop(): Promise<void> {
    return this.periodic.stop();
  }
}
