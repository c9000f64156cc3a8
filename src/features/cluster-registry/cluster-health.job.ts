/**
 * Probes every registered cluster on an interval: reachability and server version (GET
 * /version), readiness (GET /readyz). The result is stored (cluster status, logical cloud
 * status) and an apply to a cluster known unreachable fails at once with the reason.
 */
import type { ClusterGateway, ClusterGatewayProvider } from '../../kubernetes/cluster-gateway.js';
import { workAll } from '../../jobs/work-queue.js';
import type { Logger } from '../../logger.js';
import type { ClusterHealth, ClusterHealthStore } from './cluster-health.store.js';
import type { ClusterRecord, ClusterService } from './cluster.service.js';

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

/** Its interval and start/stop are the job registry's (src/jobs/registry.ts). */
export class ClusterHealthProber {
  constructor(
    private readonly clusters: Pick<ClusterService, 'all' | 'get' | 'secretsOf'>,
    private readonly store: Pick<ClusterHealthStore, 'record'>,
    private readonly gateways: ClusterGatewayProvider,
    private readonly logger: Logger,
    private readonly concurrency = 4,
  ) {}

  /** Probes one cluster now and records the result. */
  async probe(cluster: ClusterRecord): Promise<ClusterHealth> {
    const base = { provider: cluster.scope.provider!, cluster: cluster.name, checkedAt: new Date() };
    let connection: ClusterGateway | undefined;
    let result: Omit<ClusterHealth, 'since'>;
    try {
      connection = this.gateways.gatewayFor(cluster, this.clusters.secretsOf(cluster));
      const version = (await connection.getJson<{ gitVersion?: string }>('/version')).gitVersion;
      try {
        await connection.getText('/readyz');
        result = { ...base, reachable: true, ready: true, ...(version ? { version } : {}) };
      } catch (error) {
        result = {
          ...base,
          reachable: true,
          ready: false,
          ...(version ? { version } : {}),
          message: `not ready: ${messageOf(error)}`,
        };
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
    await workAll(await this.clusters.all(), this.concurrency, async (c) => {
      const health = await this.probe(c);
      if (!health.reachable)
        this.logger.warn(
          { provider: health.provider, cluster: health.cluster, reason: health.message },
          'cluster unreachable',
        );
    });
  }
}
