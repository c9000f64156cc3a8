/**
 * The order in which controllers work one cluster. Apply: namespace → user certificate →
 * RBAC → quota (→ CA and service mesh, which join in their own issue, after quota).
 * Terminate runs the reverse and ends with the namespace, waiting until it is gone.
 */
import type { ClusterContext } from './cluster-context.js';
import type { NamespaceController } from './namespace.controller.js';
import type { QuotaController } from './quota.controller.js';
import type { RbacController } from './rbac.controller.js';
import type { UserController } from './user.controller.js';

export interface Controllers {
  namespace: NamespaceController;
  user: UserController;
  rbac: RbacController;
  quota: QuotaController;
}

export async function applyCluster(controllers: Controllers, ctx: ClusterContext): Promise<void> {
  if (ctx.work.logicalCloud.data.level === '0') return; // admin: the clusters' own access, nothing created
  if (!(await controllers.namespace.apply(ctx))) return;
  await controllers.user.apply(ctx);
  await controllers.rbac.apply(ctx);
  await controllers.quota.apply(ctx);
}

export async function removeCluster(controllers: Controllers, ctx: ClusterContext): Promise<void> {
  if (ctx.work.logicalCloud.data.level === '0') return;
  await controllers.rbac.remove(ctx);
  await controllers.quota.remove(ctx);
  await controllers.user.remove(ctx);
  await controllers.namespace.remove(ctx);
}
