/**
 * Service-mesh controller: for a mesh-enabled logical cloud, an Istio control plane of its own
 * on each cluster, declared the way current Istio is installed by an operator: the Sail
 * Operator's `Istio` resource (sailoperator.io/v1, cluster-scoped), named after the logical
 * cloud's revision (with the in-place update strategy the revision is the name), installing
 * istiod into the logical cloud's control-plane namespace (next to the `cacerts` Secret the CA
 * controller put there): its own trust domain and mesh ID, the cluster's name and network in the
 * mesh, and discovery limited to the logical cloud's namespace (and the control plane's own).
 * The logical cloud's namespace carries `istio.io/rev=<revision>` (set by the namespace
 * controller), so its workloads get this control plane's sidecars.
 *
 * Which API a cluster serves is read from its discovery: a cluster that does not serve
 * sailoperator.io/v1 Istio fails with "install the Sail Operator" (Istio's in-cluster
 * IstioOperator controller was removed in 1.24: an IstioOperator is acted on by nothing, so the
 * DCM no longer declares one; removal still deletes one an earlier DCM declared).
 *
 * The control plane is only declared when the cluster's CA was delivered in this apply:
 * without `cacerts` istiod would start a self-signed CA of its own, whose workloads no other
 * cluster of the mesh trusts. Once declared, apply waits (up to readyTimeoutMs, by a watch) for
 * the resource's Ready condition, or the istiod Deployment of the revision being available:
 * `Ready`; past the wait the entry is `Pending`, saying the control plane is still not ready.
 */
import type { ClusterGateway, ServedResources } from '../kubernetes/cluster-gateway.js';
import { meshTarget } from './certificate-authority.controller.js';
import { messageOf, type ClusterContext, type ResourceStatus } from './cluster-context.js';
import {
  desiredIstio,
  INSTALL_SAIL,
  SAIL_GROUP,
  ISTIO_API_VERSION,
  ISTIO_KIND,
  ISTIO_OPERATOR_API_VERSION,
  ISTIO_OPERATOR_KIND,
  ISTIO_VERSION_CLUSTER_LABEL,
  type IstioResource,
} from './istio-resource.js';
import { controlPlaneNamespace, istiodDeploymentName, meshRevision } from './object-names.js';
import type { Condition, Deployment } from './objects.js';
import { watchUntil } from './watch-until.js';
/** The Ready condition of an Istio resource, if it has one. */
const readyCondition = (istio: IstioResource | undefined): Condition | undefined =>
  istio?.status?.conditions?.find((c) => c.type === 'Ready');
export const istioReady = (istio: IstioResource | undefined): boolean => readyCondition(istio)?.status === 'True';

function notReadyDetail(istio: IstioResource | undefined): string {
  const ready = readyCondition(istio);
  if (!ready)
    return istio?.status?.state
      ? `state ${istio.status.state}, no Ready condition yet`
      : 'no status yet: is the Sail Operator running?';
  return `Ready=${ready.status}${ready.reason ? ` (${ready.reason}${ready.message ? `: ${ready.message}` : ''})` : ''}`;
}

/** A cluster entry whose control plane was declared but is not ready (the cluster is then not Applied). */
export const meshNotReady = (resources: readonly Pick<ResourceStatus, 'category' | 'status'>[]): boolean =>
  resources.some((r) => r.category === 'mesh' && r.status === 'Pending');

export interface ServiceMeshOptions {
  /** Default Istio version (DCM_MESH_ISTIO_VERSION); a cluster label ISTIO_VERSION_CLUSTER_LABEL overrides it. */
  istioVersion: string;
  /** How long apply waits for a declared control plane to be ready (DCM_MESH_READY_TIMEOUT_MS); 0: not at all. */
  readyTimeoutMs: number;
  /** Which resources the cluster serves (default: the gateway's, from its discovery API). */
  discover?: (gateway: ClusterGateway) => Promise<ServedResources>;
}

export class ServiceMeshController {
  private readonly options: ServiceMeshOptions;

  constructor(options: Partial<ServiceMeshOptions> = {}) {
    this.options = { istioVersion: 'v1.28.4', readyTimeoutMs: 0, ...options };
  }

  async apply(ctx: ClusterContext): Promise<void> {
    const revision = meshRevision(ctx.identity);
    const entry = (status: ResourceStatus['status'], message: string) =>
      ctx.record({ category: 'mesh', kind: ISTIO_KIND, name: revision, status, message });
    const caFailed = ctx.resources.some((r) => r.category === 'ca' && r.status === 'Failed');
    if (caFailed) {
      entry(
        'Failed',
        "not applied: the cluster's CA (cacerts) could not be delivered, and istiod must not start with a CA of its own",
      );
      return;
    }
    let served: ServedResources;
    try {
      served = await (this.options.discover ?? ((gateway) => gateway.servedResources()))(ctx.connection);
    } catch (error) {
      entry('Failed', `the cluster's discovery API could not be read: ${messageOf(error)}`);
      return;
    }
    if (!served.get('istios')?.has(SAIL_GROUP)) {
      const legacy = served.get('istiooperators')?.has('install.istio.io');
      entry(
        'Failed',
        legacy
          ? `the cluster serves only ${ISTIO_OPERATOR_API_VERSION} ${ISTIO_OPERATOR_KIND}, which no current Istio ` +
              `acts on (its operator was removed in Istio 1.24): ${INSTALL_SAIL}`
          : `the cluster does not serve ${ISTIO_API_VERSION} ${ISTIO_KIND}: ${INSTALL_SAIL}`,
      );
      return;
    }
    const label = ctx.work.cluster.data.labels?.find((l) => l.key === ISTIO_VERSION_CLUSTER_LABEL)?.value;
    const version = label || this.options.istioVersion;
    const desired = desiredIstio({
      identity: ctx.identity,
      namespace: ctx.namespace,
      clusterName: meshTarget(ctx).clusterName,
      settings: ctx.work.logicalCloud.data.serviceMesh,
      labels: ctx.labels,
      version,
    });
    let applied: IstioResource;
    try {
      applied = await ctx.connection.apply(desired);
    } catch (error) {
      entry('Failed', messageOf(error));
      return;
    }
    const declared = `revision ${revision}, Istio ${version}, namespace ${desired.spec.namespace}`;
    const ready = await this.waitUntilReady(ctx, applied);
    if (ready.ready) entry('Ready', `${declared}: ${ready.how}`);
    else
      entry(
        'Pending',
        `${declared}: declared, but the control plane is still not ready after ${this.options.readyTimeoutMs} ms ` +
          `(${ready.detail}); a re-apply picks readiness up`,
      );
  }

  /** Ready at once, or once the Istio resource says so within readyTimeoutMs (watched); the istiod Deployment counts too. */
  private async waitUntilReady(
    ctx: ClusterContext,
    applied: IstioResource,
  ): Promise<{ ready: true; how: string } | { ready: false; detail: string }> {
    const revision = meshRevision(ctx.identity);
    const byResource = { ready: true as const, how: 'the Istio resource is Ready' };
    const byDeployment = { ready: true as const, how: `Deployment ${istiodDeploymentName(ctx.identity)} is available` };
    if (istioReady(applied)) return byResource;
    if (await this.istiodAvailable(ctx)) return byDeployment;
    let last: IstioResource | undefined = applied;
    if (this.options.readyTimeoutMs > 0) {
      try {
        const ready = await watchUntil<IstioResource>(
          ctx.connection,
          { apiVersion: ISTIO_API_VERSION, kind: ISTIO_KIND, name: revision, labelSelector: ctx.selector },
          (o) => {
            last = o;
            return istioReady(o);
          },
          this.options.readyTimeoutMs,
        );
        if (ready) return byResource;
      } catch (error) {
        return { ready: false, detail: `watching it failed: ${messageOf(error)}` };
      }
      if (await this.istiodAvailable(ctx)) return byDeployment;
    }
    return { ready: false, detail: notReadyDetail(last) };
  }

  private async istiodAvailable(ctx: ClusterContext): Promise<boolean> {
    try {
      const deployment = await ctx.connection.read<Deployment>({
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        name: istiodDeploymentName(ctx.identity),
        namespace: controlPlaneNamespace(ctx.identity),
      });
      return deployment?.status?.conditions?.some((c) => c.type === 'Available' && c.status === 'True') ?? false;
    } catch {
      return false; // not readable: not known to be available
    }
  }

  async remove(ctx: ClusterContext): Promise<void> {
    const revision = meshRevision(ctx.identity);
    try {
      // Gone already, or never there (no CRD): the cluster answers 404 and that is done too.
      await ctx.connection.delete({ apiVersion: ISTIO_API_VERSION, kind: ISTIO_KIND, name: revision });
      ctx.record({ category: 'mesh', kind: ISTIO_KIND, name: revision, status: 'Deleted' });
    } catch (error) {
      ctx.record({
        category: 'mesh',
        kind: ISTIO_KIND,
        name: revision,
        status: 'DeleteFailed',
        message: messageOf(error),
      });
    }
    // An IstioOperator an earlier DCM version declared; reported only when there was one (or it could not be deleted).
    const namespace = controlPlaneNamespace(ctx.identity);
    const name = `${namespace}/${revision}`;
    try {
      const existed = await ctx.connection.delete({
        apiVersion: ISTIO_OPERATOR_API_VERSION,
        kind: ISTIO_OPERATOR_KIND,
        name: revision,
        namespace,
      });
      if (existed) ctx.record({ category: 'mesh', kind: ISTIO_OPERATOR_KIND, name, status: 'Deleted' });
    } catch (error) {
      ctx.record({
        category: 'mesh',
        kind: ISTIO_OPERATOR_KIND,
        name,
        status: 'DeleteFailed',
        message: messageOf(error),
      });
    }
  }
}
