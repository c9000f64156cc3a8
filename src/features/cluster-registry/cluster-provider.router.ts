/** The REST routes of cluster providers, as data (a CrudSpec). */
import { checkNameMatches, crudSpec } from '../../http/crud-routes.js';
import { describedFrom } from '../metadata.js';
import {
  ClusterProviderCreateSchema,
  ClusterProviderUpdateSchema,
  ClusterProviderView,
  clusterProviderView,
} from './cluster-provider.schema.js';
import type { ClusterProviderService } from './cluster-provider.service.js';

export const clusterProviderCrud = (providers: ClusterProviderService) =>
  crudSpec({
    tag: 'Cluster registry',
    noun: 'cluster provider',
    collectionPath: '/cluster-providers',
    itemParam: 'provider',
    createSchema: ClusterProviderCreateSchema,
    updateSchema: ClusterProviderUpdateSchema,
    create: (_p, input) => providers.create(input.metadata.name, describedFrom(input.metadata)),
    get: (_p, name) => providers.get(name),
    list: (_p, page) => providers.list(page),
    update: (_p, name, input, revision) => {
      checkNameMatches(name, input.metadata.name);
      return providers.update(name, describedFrom(input.metadata), revision);
    },
    delete: (_p, name) => providers.delete(name),
    view: clusterProviderView,
    viewSchema: ClusterProviderView,
    examples: { create: { edge: { metadata: { name: 'edge', description: 'edge clusters' } } } },
  });
