/**
 * The order in which controllers work one cluster. Apply: namespace (with its Pod Security
 * labels) → user certificate → RBAC → quota → isolation (LimitRange, NetworkPolicy, the
 * cluster's tenant guard) → CA → service mesh (the last two only for a mesh-enabled logical cloud; when
 * the mesh is off, whatever an earlier apply left of them is removed). Terminate runs the
 * reverse and ends with the namespace, waiting until it is gone.
 */
import { meshEnabled } from '../domain/logical-cloud.js';
import type { CaController } from './certificate-authority.controller.js';
import type { IsolationController } from './isolation.controller.js';
import { messageOf, type ClusterContext } from './cluster-context.js';
import type { NamespaceController } from './namespace.controller.js';
import type { QuotaController } from './quota.controller.js';
import type { BudgetQuotaController } from './budget-quota.controller.js';
import type { RbacController } from './rbac.controller.js';
import type { ServiceMeshController } from './service-mesh.controller.js';
import type { UserController } from './user.controller.js';

export interface Controllers {
  namespace: NamespaceController;
  user: UserController;
  rbac: RbacController;
  quota: QuotaController;
  /** The per-cluster shares of overall quotas (absent: none are written). */
  budget?: BudgetQuotaController;
  isolation: IsolationController;
  ca: CaController;
  mesh: ServiceMeshController;
}

/** Removes the control plane, then the CA, where the cluster may hold them (mesh on, or left by an earlier apply). */
async function removeMesh(controllers: Controllers, ctx: ClusterContext): Promise<void> {
  try {
    if (!(await controllers.ca.holds(ctx))) return;
  } catch (error) {
    ctx.record({
      category: 'ca',
      kind: 'IntermediateCA',
      name: ctx.work.reference.name,
      status: 'DeleteFailed',
      message: messageOf(error),
    });
    return;
  }
  await controllers.mesh.remove(ctx);
  await controllers.ca.remove(ctx);
}

export async function applyCluster(controllers: Controllers, ctx: ClusterContext): Promise<void> {
  if (ctx.work.logicalCloud.data.level === '0') return; // admin: the clusters' own access, nothing created
  const namespace = await controllers.namespace.apply(ctx);
  // The tenant's roles never stay where an intermediate CA key is.
  if (namespace === 'holds-ca-key') await controllers.rbac.remove(ctx);
  if (namespace !== 'ready') return;
  await controllers.user.apply(ctx);
  await controllers.rbac.apply(ctx);
  await controllers.quota.apply(ctx);
  await controllers.budget?.apply(ctx);
  await controllers.isolation.apply(ctx);
  if (meshEnabled(ctx.work.logicalCloud.data)) {
    await controllers.ca.apply(ctx);
    await controllers.isolation.applyControlPlane(ctx);
    await controllers.mesh.apply(ctx);
  } else await removeMesh(controllers, ctx);
}

export async function removeCluster(controllers: Controllers, ctx: ClusterContext): Promise<void> {
  if (ctx.work.logicalCloud.data.level === '0') return;
  await removeMesh(controllers, ctx);
  await controllers.rbac.remove(ctx);
  await controllers.quota.remove(ctx);
  await controllers.isolation.remove(ctx);
  await controllers.user.remove(ctx);
  await controllers.namespace.remove(ctx);
}
