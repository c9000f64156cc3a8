/** Clusters chosen by labels over gRPC: a cluster's relabel (admins) and a logical cloud's selection preview. */
import type { UntypedServiceImplementation } from '@grpc/grpc-js';
import { parseSelectorQuery } from '../features/cluster-selection/cluster-selection.router.js';
import type { ClusterSelectionService } from '../features/cluster-selection/cluster-selection.service.js';
import { clusterCrud } from '../features/cluster-registry/cluster.router.js';
import type { ClusterService } from '../features/cluster-registry/cluster.service.js';
import { parseInput } from '../http/validation.js';
import { fromStruct, toStruct, type ProtoStruct } from './struct.js';
import { LOGICAL_CLOUD_FIELDS, requireFields, type Request, type Unary } from './unary.js';

export function clusterSelectionHandlers(
  unary: Unary,
  clusters: ClusterService,
  selection: ClusterSelectionService,
): UntypedServiceImplementation {
  const spec = clusterCrud(clusters);
  return {
    UpdateCluster: unary(
      'UpdateCluster',
      async (r: Request & { body: ProtoStruct | null; expected_revision: number }, caller) => {
        requireFields(r, ['cluster_provider', 'name']);
        const params = { provider: r.cluster_provider as string };
        const input = parseInput(spec.updateSchema, fromStruct(r.body), 'body');
        const revision = r.expected_revision > 0 ? r.expected_revision : undefined;
        const record = await spec.update(params, r.name as string, input, revision, caller);
        return { name: record.name, revision: record.revision, body: toStruct(spec.view(record, params)) };
      },
    ),
    GetClusterSelection: unary('GetClusterSelection', async (r: Request) => {
      requireFields(r, LOGICAL_CLOUD_FIELDS);
      const text = typeof r.selector === 'string' ? r.selector : '';
      const override = text === '' ? undefined : parseSelectorQuery(text);
      const body = await selection.preview(r.project as string, r.logical_cloud as string, override);
      return { body: toStruct(body) };
    }),
  };
}
