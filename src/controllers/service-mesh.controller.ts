/**
 * Service-mesh controller: for a mesh-enabled logical cloud, an Istio control plane of its own
 * on each cluster, declared as an IstioOperator (install.istio.io/v1alpha1) in the logical
 * cloud's control-plane namespace (next to the `cacerts` Secret the CA controller put there):
 * revision from the logical cloud's id, its own trust domain and mesh ID, the cluster's name
 * and network in the mesh, and discovery limited to the logical cloud's namespace (and the
 * control plane's own). The logical cloud's namespace carries `istio.io/rev=<revision>` (set
 * by the namespace controller), so its workloads get this control plane's sidecars.
 *
 * The control plane is only declared when the cluster's CA was delivered in this apply:
 * without `cacerts` istiod would start a self-signed CA of its own, whose workloads no other
 * cluster of the mesh trusts.
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import type { ServiceMeshSettings } from '../features/logical-clouds/logical-cloud.model.js';
import { ClusterError } from '../kubernetes/cluster-connection.js';
import { meshTarget } from './ca.controller.js';
import { messageOf, type ClusterContext } from './cluster-context.js';
import { controlPlaneNamespace, meshRevision, meshTrustDomain, type LogicalCloudIdentity } from './object-names.js';

export const ISTIO_OPERATOR_API_VERSION = 'install.istio.io/v1alpha1';
export const ISTIO_OPERATOR_KIND = 'IstioOperator';

export interface ControlPlaneInput {
  identity: LogicalCloudIdentity;
  /** The logical cloud's namespace. */
  namespace: string;
  /** The cluster's name in the mesh. */
  clusterName: string;
  settings: ServiceMeshSettings | undefined;
  labels: Record<string, string>;
}

/** The IstioOperator of a logical cloud's control plane on one cluster. */
export function desiredIstioOperator(input: ControlPlaneInput): KubernetesObject & { spec: Record<string, unknown> } {
  const revision = meshRevision(input.identity);
  const controlPlane = controlPlaneNamespace(input.identity);
  const byName = (namespace: string) => ({ matchLabels: { 'kubernetes.io/metadata.name': namespace } });
  return {
    apiVersion: ISTIO_OPERATOR_API_VERSION,
    kind: ISTIO_OPERATOR_KIND,
    metadata: { name: revision, namespace: controlPlane, labels: input.labels },
    spec: {
      profile: 'minimal',
      revision,
      namespace: controlPlane,
      meshConfig: {
        trustDomain: meshTrustDomain(input.identity),
        // Only the logical cloud's namespace (and istiod's own) exist for this control plane.
        discoverySelectors: [byName(input.namespace), byName(controlPlane)],
      },
      values: {
        global: {
          istioNamespace: controlPlane,
          meshID: revision,
          multiCluster: { clusterName: input.clusterName },
          network: input.settings?.network ?? input.clusterName,
        },
        // Scope configuration resources (not only endpoints) by the discovery selectors.
        pilot: { env: { ENABLE_ENHANCED_RESOURCE_SCOPING: 'true' } },
      },
    },
  };
}

export class ServiceMeshController {
  async apply(ctx: ClusterContext): Promise<void> {
    const revision = meshRevision(ctx.identity);
    const name = `${controlPlaneNamespace(ctx.identity)}/${revision}`;
    const caFailed = ctx.resources.some((r) => r.category === 'ca' && r.status === 'Failed');
    if (caFailed) {
      const message = "not applied: the cluster's CA (cacerts) could not be delivered, and istiod must not start with a CA of its own";
      ctx.record({ category: 'mesh', kind: ISTIO_OPERATOR_KIND, name, status: 'Failed', message });
      return;
    }
    const desired = desiredIstioOperator({
      identity: ctx.identity,
      namespace: ctx.namespace,
      clusterName: meshTarget(ctx).clusterName,
      settings: ctx.work.logicalCloud.data.serviceMesh,
      labels: ctx.labels,
    });
    try {
      await ctx.connection.apply(desired);
      ctx.record({ category: 'mesh', kind: ISTIO_OPERATOR_KIND, name, status: 'Created', message: `revision ${revision}` });
    } catch (error) {
      const message =
        error instanceof ClusterError && error.statusCode === 404
          ? `the cluster does not serve ${ISTIO_OPERATOR_API_VERSION} ${ISTIO_OPERATOR_KIND}: install Istio's IstioOperator CRD (${messageOf(error)})`
          : messageOf(error);
      ctx.record({ category: 'mesh', kind: ISTIO_OPERATOR_KIND, name, status: 'Failed', message });
    }
  }

  async remove(ctx: ClusterContext): Promise<void> {
    const revision = meshRevision(ctx.identity);
    const namespace = controlPlaneNamespace(ctx.identity);
    try {
      // Gone already, or never there (no namespace, no CRD): the cluster answers 404 and that is done too.
      await ctx.connection.delete({ apiVersion: ISTIO_OPERATOR_API_VERSION, kind: ISTIO_OPERATOR_KIND, name: revision, namespace });
      ctx.record({ category: 'mesh', kind: ISTIO_OPERATOR_KIND, name: `${namespace}/${revision}`, status: 'Deleted' });
    } catch (error) {
      ctx.record({ category: 'mesh', kind: ISTIO_OPERATOR_KIND, name: `${namespace}/${revision}`, status: 'DeleteFailed', message: messageOf(error) });
    }
  }
}
