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
import type { ServiceMeshSettings } from '../domain/logical-cloud.js';
import type { ClusterGateway, KubeObject, ServedResources } from '../kubernetes/cluster-gateway.js';
import { meshTarget } from './certificate-authority.controller.js';
import { messageOf, type ClusterContext, type ResourceStatus } from './cluster-context.js';
import { controlPlaneNamespace, istiodDeploymentName, meshRevision, meshTokenAudience, meshTrustDomain, type LogicalCloudIdentity } from './object-names.js';
import type { Condition, Deployment } from './objects.js';
import { watchUntil } from './watch-until.js';

export const SAIL_GROUP = 'sailoperator.io';
export const ISTIO_API_VERSION = `${SAIL_GROUP}/v1`;
export const ISTIO_KIND = 'Istio';
/** What earlier DCM versions declared; only ever deleted now. */
export const ISTIO_OPERATOR_API_VERSION = 'install.istio.io/v1alpha1';
export const ISTIO_OPERATOR_KIND = 'IstioOperator';
/** A cluster label (in the DCM's cluster registry) that overrides DCM_MESH_ISTIO_VERSION for that cluster. */
export const ISTIO_VERSION_CLUSTER_LABEL = 'dcm.onap.org/istio-version';

export const INSTALL_SAIL = `install the Sail Operator (${ISTIO_API_VERSION} ${ISTIO_KIND})`;

export interface ControlPlaneInput {
  identity: LogicalCloudIdentity;
  /** The logical cloud's namespace. */
  namespace: string;
  /** The cluster's name in the mesh. */
  clusterName: string;
  settings: ServiceMeshSettings | undefined;
  labels: Record<string, string>;
  /** Istio version for Sail (`spec.version`, e.g. v1.28.4). */
  version: string;
}

export interface IstioResource extends KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  spec: {
    version: string;
    namespace: string;
    updateStrategy: { type: 'InPlace' };
    values: {
      meshConfig: { trustDomain: string; discoverySelectors: { matchLabels: Record<string, string> }[] };
      global: { istioNamespace: string; meshID: string; multiCluster: { clusterName: string }; network: string; sds: { token: { aud: string } } };
      pilot: { env: Record<string, string> };
    };
  };
  status?: { conditions?: Condition[]; state?: string };
}

/** The Sail Operator's Istio resource of a logical cloud's control plane on one cluster. */
export function desiredIstio(input: ControlPlaneInput): IstioResource {
  const revision = meshRevision(input.identity);
  const controlPlane = controlPlaneNamespace(input.identity);
  const byName = (namespace: string) => ({ matchLabels: { 'kubernetes.io/metadata.name': namespace } });
  return {
    apiVersion: ISTIO_API_VERSION,
    kind: ISTIO_KIND,
    // Cluster-scoped; with InPlace the revision is the name (istiod-<revision>, istio.io/rev=<revision>).
    metadata: { name: revision, labels: input.labels },
    spec: {
      version: input.version,
      namespace: controlPlane,
      updateStrategy: { type: 'InPlace' },
      values: {
        meshConfig: {
          trustDomain: meshTrustDomain(input.identity),
          // Only the logical cloud's namespace (and istiod's own) exist for this control plane.
          discoverySelectors: [byName(input.namespace), byName(controlPlane)],
        },
        global: {
          // Sail requires it to equal spec.namespace.
          istioNamespace: controlPlane,
          meshID: revision,
          multiCluster: { clusterName: input.clusterName },
          network: input.settings?.network ?? input.clusterName,
          // The audience of the tokens injected workloads present to their istiod: this logical cloud's own.
          sds: { token: { aud: meshTokenAudience(input.identity) } },
        },
        pilot: {
          env: {
            // Scope configuration resources (not only endpoints) by the discovery selectors.
            ENABLE_ENHANCED_RESOURCE_SCOPING: 'true',
            // istiod's CA signs for any namespace whose token it accepts (discovery selectors do not
            // limit it): accepting only this logical cloud's audience keeps the tokens other logical
            // clouds' workloads carry (and the default istio-ca) out. See docs/security-model.md.
            TOKEN_AUDIENCES: meshTokenAudience(input.identity),
          },
        },
      },
    },
  };
}

/** The Ready condition of an Istio resource, if it has one. */
const readyCondition = (istio: IstioResource | undefined): Condition | undefined => istio?.status?.conditions?.find((c) => c.type === 'Ready');
export const istioReady = (istio: IstioResource | undefined): boolean => readyCondition(istio)?.status === 'True';

function notReadyDetail(istio: IstioResource | undefined): string {
  const ready = readyCondition(istio);
  if (!ready) return istio?.status?.state ? `state ${istio.status.state}, no Ready condition yet` : 'no status yet: is the Sail Operator running?';
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
    const entry = (status: ResourceStatus['status'], message: string) => ctx.record({ category: 'mesh', kind: ISTIO_KIND, name: revision, status, message });
    const caFailed = ctx.resources.some((r) => r.category === 'ca' && r.status === 'Failed');
    if (caFailed) {
      entry('Failed', "not applied: the cluster's CA (cacerts) could not be delivered, and istiod must not start with a CA of its own");
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
          ? `the cluster serves only ${ISTIO_OPERATOR_API_VERSION} ${ISTIO_OPERATOR_KIND}, which no current Istio acts on (its operator was removed in Istio 1.24): ${INSTALL_SAIL}`
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
    else entry('Pending', `${declared}: declared, but the control plane is still not ready after ${this.options.readyTimeoutMs} ms (${ready.detail}); a re-apply picks readiness up`);
  }

  /** Ready at once, or once the Istio resource says so within readyTimeoutMs (watched); the istiod Deployment counts too. */
  private async waitUntilReady(ctx: ClusterContext, applied: IstioResource): Promise<{ ready: true; how: string } | { ready: false; detail: string }> {
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
      ctx.record({ category: 'mesh', kind: ISTIO_KIND, name: revision, status: 'DeleteFailed', message: messageOf(error) });
    }
    // An IstioOperator an earlier DCM version declared; reported only when there was one (or it could not be deleted).
    const namespace = controlPlaneNamespace(ctx.identity);
    const name = `${namespace}/${revision}`;
    try {
      const existed = await ctx.connection.delete({ apiVersion: ISTIO_OPERATOR_API_VERSION, kind: ISTIO_OPERATOR_KIND, name: revision, namespace });
      if (existed) ctx.record({ category: 'mesh', kind: ISTIO_OPERATOR_KIND, name, status: 'Deleted' });
    } catch (error) {
      ctx.record({ category: 'mesh', kind: ISTIO_OPERATOR_KIND, name, status: 'DeleteFailed', message: messageOf(error) });
    }
  }
}
