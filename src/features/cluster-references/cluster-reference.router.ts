/** The REST routes of cluster references, as data (a CrudSpec): the gRPC API serves the same spec. */
import type { Router } from 'express';
import { checkNameMatches, crudSpec, declareCrudRoutes } from '../../http/crud-routes.js';
import type { OpenApiRegistry } from '../../http/openapi.js';
import {
  ClusterReferenceCreateSchema,
  clusterReferenceInput,
  ClusterReferenceUpdateSchema,
  ClusterReferenceView,
  clusterReferenceView,
} from './cluster-reference.schema.js';
import type { ClusterReferenceService } from './cluster-reference.service.js';

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
      create: {
        design: { name: 'cluster-1' },
        onap: {
          'cluster-provider': 'edge',
          'cluster-name': 'cluster-1',
          name: 'cluster-1',
          'loadbalancer-ip': '0.0.0.0',
        },
      },
      update: { design: { 'loadbalancer-ip': '10.0.0.1' } },
    },
  });

export function declareClusterReferenceRoutes(
  router: Router,
  registry: OpenApiRegistry,
  references: ClusterReferenceService,
): void {
  declareCrudRoutes(router, registry, clusterReferenceCrud(references));
}
