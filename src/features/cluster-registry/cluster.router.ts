/** The REST routes of registered clusters (and, with them, of cluster providers). */
import type { Router } from 'express';
import { checkNameMatches, crudSpec, declareCrudRoutes } from '../../http/crud-routes.js';
import type { OpenApiRegistry } from '../../http/openapi.js';
import { declareClusterClmHandlers, declareClusterClmRoutes } from './cluster-clm.router.js';
import type { ClusterKvPairService } from './cluster-kv-pair.service.js';
import type { ClusterLabelService } from './cluster-label.service.js';
import { clusterProviderCrud } from './cluster-provider.router.js';
import type { ClusterProviderService } from './cluster-provider.service.js';
import {
  ClusterCreateSchema,
  clusterInput,
  clusterInputOf,
  ClusterUpdateSchema,
  ClusterView,
  clusterView,
} from './cluster.schema.js';
import type { ClusterService } from './cluster.service.js';

export const clusterCrud = (clusters: ClusterService) =>
  crudSpec({
    tag: 'Cluster registry',
    noun: 'cluster',
    collectionPath: '/cluster-providers/:provider/clusters',
    itemParam: 'cluster',
    createSchema: ClusterCreateSchema,
    updateSchema: ClusterUpdateSchema,
    create: (p, input) => clusters.create(p.provider!, input.metadata.name, clusterInput(input)),
    get: (p, name) => clusters.get(p.provider!, name),
    list: (p, page) => clusters.list(p.provider!, page),
    update: (p, name, input, revision) => {
      checkNameMatches(name, input.metadata.name);
      return clusters.relabel(p.provider!, name, clusterInputOf(input), input.spec.kubeconfig, revision);
    },
    delete: (p, name) => clusters.delete(p.provider!, name),
    view: clusterView,
    viewSchema: ClusterView,
    rules: {
      create:
        'Beyond the schema (400): `kubeconfig` must be a kubeconfig (YAML or JSON, or base64 of it) naming a cluster ' +
        'and a user; `ca-key` one unencrypted PEM private key.',
      update:
        'Admin only. Labels, description and user data replace the stored ones (a relabel re-evaluates every logical ' +
        'cloud whose spec.clusterSelector could match the cluster); `kubeconfig` and `ca-key` are replaced only when ' +
        'given, and then checked as at registration (400).',
    },
    examples: {
      create: {
        'cluster-1': {
          metadata: { name: 'cluster-1' },
          spec: { kubeconfig: '<the admin kubeconfig, YAML or base64>', labels: { zone: 'east' } },
        },
      },
      update: {
        relabel: { metadata: { name: 'cluster-1' }, spec: { labels: { zone: 'east', tier: 'edge' } } },
      },
    },
  });

/** clm's dialect of the registry (cluster-clm.router.ts): its labels and kv-pairs. */
export interface ClusterClmServices {
  labels: ClusterLabelService;
  kvPairs: ClusterKvPairService;
}

export function declareClusterRegistryRoutes(
  router: Router,
  registry: OpenApiRegistry,
  providers: ClusterProviderService,
  clusters: ClusterService,
  clm: ClusterClmServices,
): void {
  declareCrudRoutes(router, registry, clusterProviderCrud(providers));
  // Before the JSON routes of the same paths: multipart bodies, Accept and ?label= are answered there.
  declareClusterClmHandlers(router, registry, clusters, clm.labels);
  declareCrudRoutes(router, registry, clusterCrud(clusters));
  declareClusterClmRoutes(router, registry, clm.labels, clm.kvPairs);
}
