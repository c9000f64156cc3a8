/** GET /v2/cluster-providers/{p}/clusters/{c}/status: the cluster's last known health (`?probe=true`: probe now). */
import type { Request, Router } from 'express';
import { z } from 'zod';
import { callerOf } from '../../http/caller.js';
import { API_PREFIX } from '../../http/crud-routes.js';
import { declareRoute, type OpenApiRegistry } from '../../http/openapi.js';
import { parseInput } from '../../http/validation.js';
import { ClusterStatusBody, StatusQuery } from './cluster-health.schema.js';
import type { ClusterHealthService } from './cluster-health.service.js';

export function declareClusterHealthRoutes(
  router: Router,
  registry: OpenApiRegistry,
  health: ClusterHealthService,
): void {
  declareRoute(
    router,
    registry,
    API_PREFIX,
    {
      method: 'get',
      path: '/cluster-providers/:provider/clusters/:cluster/status',
      tag: 'Cluster registry',
      summary:
        "The cluster's health: reachable (GET /version), ready (GET /readyz), server version, when checked; ?probe=true probes now",
      query: {
        probe: {
          description: 'true: probe the cluster now instead of answering the last probe',
          schema: z.enum(['true', 'false']),
        },
      },
      responses: {
        200: { description: 'Health (health is null until the first probe)', schema: ClusterStatusBody },
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
