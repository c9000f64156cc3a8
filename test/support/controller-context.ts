/** A ClusterContext of one logical cloud on one FakeCluster, for the controllers' unit tests. */
import { ClusterContext, type ClusterWork } from '../../src/controllers/cluster-context.js';
import { meshRevision } from '../../src/controllers/object-names.js';
import type { LogicalCloudData, PermissionData } from '../../src/domain/logical-cloud.js';
import type { TenantIdentity } from '../../src/domain/tenant-identity.js';
import type { FakeCluster } from './fake-cluster.js';

export const LC_ID = '7d1c2b3a-4e5f-4a6b-8c7d-9e0f1a2b3c4d';
export const NS = 'tenant-ns';
export const REVISION = meshRevision({ logicalCloudId: LC_ID });
export const OURS = { 'dcm.onap.org/logical-cloud-id': LC_ID, 'app.kubernetes.io/managed-by': 'dcm' };

const now = new Date();
export const record = <T>(name: string, scope: Record<string, string>, data: T, id = `${name}-id`) => ({
  id,
  scope,
  name,
  revision: 1,
  createdAt: now,
  updatedAt: now,
  data,
});

export function contextFor(
  cluster: FakeCluster,
  opts: {
    data?: Partial<LogicalCloudData>;
    permissions?: [string, PermissionData][];
    quotas?: [string, Record<string, string>][];
    tenant?: TenantIdentity;
    caData?: string;
    /** Another logical cloud's id than LC_ID (its mesh revision, labels and record ids follow it). */
    logicalCloudId?: string;
  } = {},
): ClusterContext {
  const lcId = opts.logicalCloudId ?? LC_ID;
  const data: LogicalCloudData = {
    description: '',
    userData1: '',
    userData2: '',
    namespace: NS,
    level: '1',
    labels: [{ key: 'team', value: 'blue' }],
    user: { name: 'u1', type: 'certificate' },
    ...opts.data,
  };
  const work: ClusterWork = {
    project: 'p1',
    logicalCloud: record('lc-1', { project: 'p1' }, data, lcId),
    reference: record(
      'edge-a',
      { logicalCloudId: lcId },
      {
        clusterProvider: 'prov',
        cluster: 'cluster-a',
        loadbalancerIp: '',
        description: '',
        userData1: '',
        userData2: '',
      },
    ),
    cluster: record(
      'cluster-a',
      { provider: 'prov' },
      {
        description: '',
        userData1: '',
        userData2: '',
        labels: [],
        server: 'https://127.0.0.1:1',
        ...(opts.caData ? { certificateAuthorityData: opts.caData } : {}),
      },
    ),
    clusterSecrets: { kubeconfig: '' },
    permissions: (opts.permissions ?? []).map(([name, p]) => record(name, { logicalCloudId: lcId }, p)),
    quotas: (opts.quotas ?? []).map(([name, hard]) =>
      record(
        name,
        { logicalCloudId: lcId },
        {
          description: '',
          userData1: '',
          userData2: '',
          spec: Object.entries(hard).map(([key, value]) => ({ key, value })),
        },
      ),
    ),
    ...(opts.tenant ? { tenant: opts.tenant } : {}),
  };
  return new ClusterContext(work, cluster);
}
