import type { Router } from 'express';
import type { NamedRecordStore } from '../../db/named-record-store.js';
import { ConflictError, NotFoundError } from '../../errors.js';
import { checkNameMatches, crudSpec, declareCrudRoutes } from '../../http/crud-routes.js';
import type { OpenApiRegistry } from '../../http/openapi.js';
import type { ClusterService } from '../cluster-registry/cluster.service.js';
import { LogicalCloudChildService, type LogicalCloudResolver } from '../logical-clouds/logical-cloud-children.service.js';
import type { ClusterReferenceData, ClusterReferenceRecord } from '../logical-clouds/logical-cloud.model.js';
import type { LifecycleGuard } from '../logical-clouds/logical-cloud.service.js';
import type { ProjectPolicyService } from '../project-policies/project-policy.service.js';
import { pairsToMap } from '../../db/named-record-store.js';
import { z } from 'zod';
import { MetadataView, metadataView } from '../metadata.js';
import {
  ClusterReferenceCreateSchema,
  clusterReferenceInput,
  ClusterReferenceUpdateSchema,
  type ClusterReferenceInput,
} from './cluster-reference.schema.js';

export type ClusterReferenceService = LogicalCloudChildService<ClusterReferenceInput, ClusterReferenceData>;

export function createClusterReferenceService(
  store: NamedRecordStore<ClusterReferenceData>,
  logicalClouds: LogicalCloudResolver,
  clusters: ClusterService,
  guard: () => LifecycleGuard,
  policies: Pick<ProjectPolicyService, 'enforce'>,
): ClusterReferenceService {
  /** The registered cluster a reference names; without a provider the name must be unambiguous. */
  const resolveCluster = async (clusterName: string, provider: string | undefined) => {
    if (provider) return clusters.get(provider, clusterName);
    const found = await clusters.findByName(clusterName);
    if (found.length === 0) throw new NotFoundError(`Cluster ${clusterName} is not registered with any cluster provider`);
    if (found.length > 1) {
      const providers = found.map((c) => c.scope.provider).join(', ');
      throw new ConflictError(`Cluster ${clusterName} is registered by several cluster providers (${providers}); name the cluster-provider`);
    }
    return found[0]!;
  };

  return new LogicalCloudChildService('Cluster reference', store, logicalClouds, {
    prepare: async (lc, input, name, caller) => {
      const cluster = await resolveCluster(input.cluster ?? name, input.clusterProvider);
      const clusterProvider = cluster.scope.provider!;
      await policies.enforce(caller, lc.scope.project!, { clusters: [{ provider: clusterProvider, name: cluster.name, labels: pairsToMap(cluster.data.labels) }] });
      const others = await store.findWhere({ logicalCloudId: lc.id }, { 'data.clusterProvider': clusterProvider, 'data.cluster': cluster.name });
      const other = others.find((r) => r.name !== name);
      if (other) throw new ConflictError(`Cluster ${cluster.name} is already referenced by ${other.name} in Logical Cloud ${lc.name}`);
      return {
        description: input.description,
        userData1: input.userData1,
        userData2: input.userData2,
        clusterProvider,
        cluster: cluster.name,
        loadbalancerIp: input.loadbalancerIp,
      };
    },
    checkMutable: (lc) => guard().checkMutable(lc, 'update'),
  });
}

const ReferenceFields = { 'cluster-provider': z.string(), 'cluster-name': z.string(), 'loadbalancer-ip': z.string() };

/** A cluster reference's body: the design's flat fields and EMCO's metadata/spec. */
export const ClusterReferenceView = z.strictObject({ name: z.string(), ...ReferenceFields, metadata: MetadataView, spec: z.strictObject(ReferenceFields) });

export const clusterReferenceView = (r: ClusterReferenceRecord) => ({
  name: r.name,
  'cluster-provider': r.data.clusterProvider,
  'cluster-name': r.data.cluster,
  'loadbalancer-ip': r.data.loadbalancerIp,
  metadata: metadataView(r.name, r.data),
  spec: { 'cluster-provider': r.data.clusterProvider, 'cluster-name': r.data.cluster, 'loadbalancer-ip': r.data.loadbalancerIp },
});

/** The REST routes of the resource, as data: the gRPC API serves the same spec. */
export const clusterReferenceCrud = (references: ClusterReferenceService) =>
  crudSpec({
    tag: 'Cluster references',
    noun: 'cluster reference',
    collectionPath: '/projects/:project/logical-clouds/:logicalCloud/cluster-references',
    itemParam: 'reference',
    createSchema: ClusterReferenceCreateSchema,
    updateSchema: ClusterReferenceUpdateSchema,
    create: (p, body, caller) => {
      const input = clusterReferenceInput(body);
      return references.create(p.project!, p.logicalCloud!, input.name!, input, caller);
    },
    get: (p, name) => references.get(p.project!, p.logicalCloud!, name),
    list: (p, page) => references.list(p.project!, p.logicalCloud!, page),
    update: (p, name, body, revision, caller) => {
      const input = clusterReferenceInput(body);
      checkNameMatches(name, input.name, 'spec' in body ? 'metadata.name' : 'name');
      return references.update(p.project!, p.logicalCloud!, name, input, revision, caller);
    },
    delete: (p, name) => references.delete(p.project!, p.logicalCloud!, name),
    view: clusterReferenceView,
    viewSchema: ClusterReferenceView,
    examples: {
      create: { design: { name: 'cluster-1' }, onap: { 'cluster-provider': 'edge', 'cluster-name': 'cluster-1', name: 'cluster-1', 'loadbalancer-ip': '0.0.0.0' } },
      update: { design: { 'loadbalancer-ip': '10.0.0.1' } },
    },
  });

export function declareClusterReferenceRoutes(router: Router, registry: OpenApiRegistry, references: ClusterReferenceService): void {
  declareCrudRoutes(router, registry, clusterReferenceCrud(references));
}
