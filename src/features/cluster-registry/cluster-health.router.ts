/** GET /v2/cluster-providers/{p}/clusters/{c}/status: the cluster's last known health (`?probe=true`: probe now). */
import type { Request, Router } from 'express';
import { z } from 'zod';
import type { Principal } from '../../auth/authorize.js';
import { PolicyDeniedError } from '../../errors.js';
import { callerOf } from '../../http/caller.js';
import { API_PREFIX } from '../../http/crud-routes.js';
import { declareRoute, type OpenApiRegistry } from '../../http/openapi.js';
import { parseInput } from '../../http/validation.js';
import type { ClusterHealthProber } from './cluster-health.job.js';
import type { ClusterHealth, ClusterHealthStore } from './cluster-health.store.js';
import type { ClusterService } from './cluster.service.js';

export const ClusterHealthSchema = z.strictObject({
  reachable: z.boolean(),
  ready: z.boolean(),
  version: z.string().nullable(),
  message: z.string().nullable(),
  checkedAt: z.iso.datetime(),
  since: z.iso.datetime(),
});

export const clusterHealthView = (h: ClusterHealth | undefined) =>
  h
    ? {
        reachable: h.reachable,
        ready: h.ready,
        version: h.version ?? null,
        message: h.message ?? null,
        checkedAt: h.checkedAt.toISOString(),
        since: h.since.toISOString(),
      }
    : null;

export interface ClusterHealthService {
  /** `probe`: probe now (admins only: it opens a connection to the cluster per request). */
  status(provider: string, cluster: string, probe: boolean, caller: Pick<Principal, 'admin'>): Promise<ReturnType<typeof clusterStatusBody>>;
}

const clusterStatusBody = (provider: string, cluster: string, health: ClusterHealth | undefined) => ({
  'cluster-provider': provider,
  cluster,
  // null until the first probe.
  health: clusterHealthView(health),
});

export function clusterHealthService(clusters: Pick<ClusterService, 'get'>, store: Pick<ClusterHealthStore, 'get'>, prober: Pick<ClusterHealthProber, 'probeNamed'>): ClusterHealthService {
  return {
    async status(provider, cluster, probe, caller) {
      if (probe && !caller.admin) throw new PolicyDeniedError('only admins may probe a cluster on demand; without probe=true the last probe is answered');
      await clusters.get(provider, cluster); // 404 naming the provider or the cluster
      const health = probe ? await prober.probeNamed(provider, cluster) : await store.get(provider, cluster);
      return clusterStatusBody(provider, cluster, health);
    },
  };
}

const StatusQuery = z.strictObject({ probe: z.enum(['true', 'false'], { message: 'probe is true or false' }).optional() });

export function declareClusterHealthRoutes(router: Router, registry: OpenApiRegistry, health: ClusterHealthService): void {
  declareRoute(
    router,
    registry,
    API_PREFIX,
    {
      method: 'get',
      path: '/cluster-providers/:provider/clusters/:cluster/status',
      tag: 'Cluster registry',
      summary: "The cluster's health: reachable (GET /version), ready (GET /readyz), server version, when checked; ?probe=true probes now",
      query: { probe: { description: 'true: probe the cluster now instead of answering the last probe', schema: z.enum(['true', 'false']) } },
      responses: {
        200: {
          description: 'Health (health is null until the first probe)',
          schema: z.strictObject({ 'cluster-provider': z.string(), cluster: z.string(), health: ClusterHealthSchema.nullable() }),
        },
        404: { description: 'No such provider or cluster' },
      },
    },
    async (req: Request, res) => {
      const { provider, cluster } = req.params as { provider: string; cluster: string };
      const query = parseInput(StatusQuery, req.query, 'query');
      res.json(await health.status(provider, cluster, query.probe === 'true', callerOf(res)));
    },
  );
}
