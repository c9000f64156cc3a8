/**
 * CA controller (the design's "CA key distribution"): for a mesh-enabled logical cloud, the
 * cluster's intermediate CA (issued by the DCM's CA, stored sealed, reused while good) is
 * delivered as Istio's plug-in CA Secret `cacerts` (ca-cert.pem, ca-key.pem, root-cert.pem,
 * cert-chain.pem) in the logical cloud's control-plane namespace `istio-<revision>`, which
 * this controller creates and labels. That namespace is the DCM's, not the tenant's: the
 * tenant's RBAC reaches only its own namespace, so the intermediate's key is out of its reach.
 * Removal deletes the Secret, then the namespace (waiting until it is gone), then forgets the
 * stored intermediate.
 */
import { meshEnabled } from '../domain/logical-cloud.js';
import type { ClusterKey, DeliveredIntermediate, MeshTarget } from '../domain/mesh.js';
import { certainlyNotDone } from '../kubernetes/cluster-errors.js';
import { messageOf, type ClusterContext } from './cluster-context.js';
import { CACERTS_SECRET, LABEL_LOGICAL_CLOUD_ID, controlPlaneNamespace, labelValue } from './object-names.js';
import type { Namespace, Secret } from './objects.js';

/** What the CA controller needs of the service-mesh CA (the certificate-authority feature provides it). */
export interface MeshCa {
  /** The cluster's intermediate CA: the stored one while still good, a new one otherwise. */
  ensureIntermediate(target: MeshTarget): Promise<DeliveredIntermediate>;
  /** Whether an intermediate is stored for the logical cloud's cluster. */
  holds(logicalCloudId: string, key: ClusterKey): Promise<boolean>;
  /** Forgets the stored intermediate of the logical cloud's cluster. */
  forget(logicalCloudId: string, key: ClusterKey): Promise<void>;
}

/** What the CA and mesh controllers know of the cluster they work for a logical cloud. */
export function meshTarget(ctx: ClusterContext): MeshTarget {
  const { work } = ctx;
  return {
    logicalCloudId: work.logicalCloud.id,
    project: work.project,
    logicalCloud: work.logicalCloud.name,
    namespace: ctx.namespace,
    provider: work.cluster.scope.provider ?? work.reference.data.clusterProvider,
    cluster: work.cluster.name,
    reference: work.reference.name,
    // The reference name is unique within the logical cloud, i.e. within its mesh (cluster names are unique per provider only).
    clusterName: labelValue(work.reference.name),
    nameConstraints: work.logicalCloud.data.serviceMesh?.nameConstraints !== false,
  };
}

const base64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');

export class CaController {
  constructor(
    private readonly ca: MeshCa,
    /** How long to wait for the control-plane namespace to be gone on removal. */
    private readonly deleteTimeoutMs: number,
  ) {}

  /** Whether this cluster may hold CA or mesh objects of the logical cloud (mesh on, or an intermediate is stored). */
  async holds(ctx: ClusterContext): Promise<boolean> {
    if (meshEnabled(ctx.work.logicalCloud.data)) return true;
    const target = meshTarget(ctx);
    return this.ca.holds(target.logicalCloudId, target);
  }

  async apply(ctx: ClusterContext): Promise<void> {
    const target = meshTarget(ctx);
    let intermediate: DeliveredIntermediate;
    try {
      intermediate = await this.ca.ensureIntermediate(target);
      const message =
        `${intermediate.reused ? 'valid intermediate reused' : 'intermediate issued'}: serial ${intermediate.serialNumber}, ` +
        `valid until ${intermediate.notAfter.toISOString()}`;
      ctx.record({ category: 'ca', kind: 'IntermediateCA', name: target.reference, status: 'Created', message });
    } catch (error) {
      ctx.recordFailure({ category: 'ca', kind: 'IntermediateCA', name: target.reference }, error);
      return;
    }
    if (!(await this.applyNamespace(ctx))) return;
    const namespace = controlPlaneNamespace(ctx.identity);
    const secret: Secret = {
      apiVersion: 'v1',
      kind: 'Secret',
      type: 'Opaque',
      metadata: {
        name: CACERTS_SECRET,
        namespace,
        labels: ctx.labels,
        annotations: { 'dcm.onap.org/intermediate-serial': intermediate.serialNumber },
      },
      data: Object.fromEntries(Object.entries(intermediate.files).map(([file, pem]) => [file, base64(pem)])),
    };
    try {
      await ctx.connection.apply(secret);
      ctx.record({ category: 'ca', kind: 'Secret', name: `${namespace}/${CACERTS_SECRET}`, status: 'Created' });
    } catch (error) {
      ctx.recordFailure({ category: 'ca', kind: 'Secret', name: `${namespace}/${CACERTS_SECRET}` }, error);
    }
  }

  /** The control-plane namespace, labelled as the logical cloud's; one that is not this logical cloud's is never taken over. */
  private async applyNamespace(ctx: ClusterContext): Promise<boolean> {
    const name = controlPlaneNamespace(ctx.identity);
    const ref = { apiVersion: 'v1', kind: 'Namespace', name };
    try {
      const existing = await ctx.connection.read<Namespace>(ref);
      if (existing && existing.metadata?.labels?.[LABEL_LOGICAL_CLOUD_ID] !== ctx.identity.logicalCloudId) {
        const message = `namespace ${name} already exists and is not managed by this logical cloud; it is not taken over`;
        ctx.record({ category: 'ca', kind: 'Namespace', name, status: 'Failed', message });
        return false;
      }
      await ctx.connection.apply<Namespace>({
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: { name, labels: ctx.labels },
      });
      ctx.record({ category: 'ca', kind: 'Namespace', name, status: 'Created' });
      return true;
    } catch (error) {
      ctx.record({ category: 'ca', kind: 'Namespace', name, status: 'Failed', message: messageOf(error) });
      return false;
    }
  }

  async remove(ctx: ClusterContext): Promise<void> {
    const target = meshTarget(ctx);
    const name = controlPlaneNamespace(ctx.identity);
    const secretRef = { apiVersion: 'v1', kind: 'Secret', name: CACERTS_SECRET, namespace: name };
    // The key leaves the cluster first, even if the namespace were to hang in Terminating.
    try {
      await ctx.connection.delete(secretRef);
      ctx.record({ category: 'ca', kind: 'Secret', name: `${name}/${CACERTS_SECRET}`, status: 'Deleted' });
    } catch (error) {
      ctx.recordFailure({ category: 'ca', kind: 'Secret', name: `${name}/${CACERTS_SECRET}` }, error, 'DeleteFailed');
    }
    const namespaceRef = { apiVersion: 'v1', kind: 'Namespace', name };
    try {
      const existing = await ctx.connection.read<Namespace>(namespaceRef);
      if (existing && existing.metadata?.labels?.[LABEL_LOGICAL_CLOUD_ID] !== ctx.identity.logicalCloudId) {
        ctx.warnings.push({
          permission: '*',
          resource: 'namespaces',
          group: '',
          message: `namespace ${name} is not managed by this logical cloud; left in place`,
        });
      } else if (existing) {
        await ctx.connection.deleteAndWait(namespaceRef, this.deleteTimeoutMs);
      }
      ctx.record({ category: 'ca', kind: 'Namespace', name, status: 'Deleted' });
    } catch (error) {
      // A cluster that refused or never got the request still has whatever it had.
      const message = certainlyNotDone(error)
        ? messageOf(error)
        : `${messageOf(error)} (the namespace may still be there)`;
      ctx.record({ category: 'ca', kind: 'Namespace', name, status: 'DeleteFailed', message });
    }
    // The stored intermediate is forgotten only once nothing of it (or of the control plane) is left on the cluster.
    const leftBehind = ctx.resources.some(
      (r) => (r.category === 'ca' || r.category === 'mesh') && r.status === 'DeleteFailed',
    );
    if (leftBehind) return;
    try {
      await this.ca.forget(target.logicalCloudId, target);
    } catch (error) {
      ctx.recordFailure({ category: 'ca', kind: 'IntermediateCA', name: target.reference }, error, 'DeleteFailed');
    }
  }
}
