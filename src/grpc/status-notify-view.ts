/**
 * The status of a logical cloud in EMCO's StatusNotify values (proto/statusnotify.proto): what
 * EMCO's services expect of a logical cloud they watch, computed from the DCM's status view.
 *
 * - DEPLOYED: the logical cloud was instantiated and every cluster considered is Applied;
 *   NOT_DEPLOYED otherwise (never applied, applying, terminating, terminated).
 * - READY: DEPLOYED, and where the logical cloud has a service mesh, each considered cluster's
 *   control plane reports ready; NOT_READY otherwise.
 * - STATUS_ERROR: a considered cluster failed (apply or terminate), or the operation broke off
 *   without a cluster failing.
 *
 * `clusters` filters the clusters considered (`provider+cluster`, as EMCO's status queries name
 * them, or the cluster's name); `resources` filters the objects listed (by name). Only the
 * Kubernetes objects the DCM manages are listed; its own records (the tenant's certificate, a
 * mesh's intermediate CA, a cluster it could not reach) count for the values, never as objects.
 */
import type { statusView } from '../features/lifecycle/lifecycle.schema.js';

export type StatusValue = 'STATUS_ERROR' | 'NOT_READY' | 'READY' | 'NOT_DEPLOYED' | 'DEPLOYED';
export type StatusType = 'DEPLOYED' | 'READY';

export interface StatusQuery {
  statusType: StatusType;
  output: 'SUMMARY' | 'ALL';
  clusters: string[];
  resources: string[];
}

interface Gvk {
  group: string;
  version: string;
  kind: string;
}

export interface ResourceStatusMessage {
  name: string;
  gvk: Gvk;
  statusValue: StatusValue;
}

export interface ClusterStatusMessage {
  clusterProvider: string;
  cluster: string;
  statusValue: StatusValue;
  resources: ResourceStatusMessage[];
}

export interface StatusNotificationMessage {
  statusValue: StatusValue;
  details: { cluster: ClusterStatusMessage }[];
}

type StatusBody = ReturnType<typeof statusView>;
type ClusterBody = StatusBody['clusters'][number];
type ResourceLine = ClusterBody['resources'][number];

const RBAC = 'rbac.authorization.k8s.io';
const ADMISSION = 'admissionregistration.k8s.io';

/** The group and version of each kind of object the DCM puts on a cluster (src/controllers/). */
const GROUP_VERSION: Record<string, [string, string]> = {
  Namespace: ['', 'v1'],
  Secret: ['', 'v1'],
  ServiceAccount: ['', 'v1'],
  ResourceQuota: ['', 'v1'],
  LimitRange: ['', 'v1'],
  Role: [RBAC, 'v1'],
  RoleBinding: [RBAC, 'v1'],
  ClusterRole: [RBAC, 'v1'],
  ClusterRoleBinding: [RBAC, 'v1'],
  NetworkPolicy: ['networking.k8s.io', 'v1'],
  ValidatingAdmissionPolicy: [ADMISSION, 'v1'],
  ValidatingAdmissionPolicyBinding: [ADMISSION, 'v1'],
  Istio: ['sailoperator.io', 'v1'],
  IstioOperator: ['install.istio.io', 'v1alpha1'],
};

const failed = (line: Pick<ResourceLine, 'status'>) => line.status === 'Failed' || line.status === 'DeleteFailed';
const clusterFailed = (c: ClusterBody) =>
  c.state === 'Failed' || c.state === 'TerminateFailed' || c.resources.some(failed);
/** The mesh control plane (where there is one) reports ready; a removed one is no obstacle. */
const meshReady = (c: ClusterBody) => !['Pending', 'Created', 'Failed'].includes(c['mesh-status']);

function resourceValue(line: ResourceLine, type: StatusType): StatusValue {
  if (failed(line)) return 'STATUS_ERROR';
  if (type === 'DEPLOYED') return line.status === 'Deleted' ? 'NOT_DEPLOYED' : 'DEPLOYED';
  if (line.status === 'Ready') return 'READY';
  // An object other than the mesh's control plane is ready once it is created.
  return line.status === 'Created' && line.category !== 'mesh' ? 'READY' : 'NOT_READY';
}

function clusterValue(c: ClusterBody, type: StatusType): StatusValue {
  if (clusterFailed(c)) return 'STATUS_ERROR';
  if (type === 'DEPLOYED') return c.state === 'Applied' ? 'DEPLOYED' : 'NOT_DEPLOYED';
  return c.state === 'Applied' && meshReady(c) ? 'READY' : 'NOT_READY';
}

const matches = (filter: string[], c: ClusterBody) =>
  filter.length === 0 || filter.includes(c.cluster) || filter.includes(`${c['cluster-provider']}+${c.cluster}`);

/** The notification a registration gets for this status. */
export function statusNotification(body: StatusBody, query: StatusQuery): StatusNotificationMessage {
  const type = query.statusType;
  const considered = body.clusters.filter((c) => matches(query.clusters, c));
  const values = considered.map((c) => clusterValue(c, type));
  const brokeOff =
    (body.state === 'InstantiateFailed' || body.state === 'TerminateFailed') && !body.clusters.some(clusterFailed);
  const instantiated = body.state === 'Instantiated' || body.state === 'InstantiateFailed';
  let statusValue: StatusValue;
  if (values.includes('STATUS_ERROR') || brokeOff) statusValue = 'STATUS_ERROR';
  else if (instantiated && values.length > 0 && values.every((v) => v === type)) statusValue = type;
  else statusValue = type === 'DEPLOYED' ? 'NOT_DEPLOYED' : 'NOT_READY';

  if (query.output === 'SUMMARY') return { statusValue, details: [] };
  const details = considered.map((c, i) => ({
    cluster: {
      clusterProvider: c['cluster-provider'],
      cluster: c.cluster,
      statusValue: values[i]!,
      resources: c.resources
        .filter((r) => GROUP_VERSION[r.kind] && r.name !== '*')
        .filter((r) => query.resources.length === 0 || query.resources.includes(r.name))
        .map((r) => {
          const [group, version] = GROUP_VERSION[r.kind]!;
          return { name: r.name, gvk: { group, version, kind: r.kind }, statusValue: resourceValue(r, type) };
        }),
    },
  }));
  return { statusValue, details };
}
