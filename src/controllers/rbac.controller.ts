/**
 * RBAC controller: per user permission a Role + RoleBinding in the logical cloud's
 * namespace, or a ClusterRole + ClusterRoleBinding for a cluster-wide one; the subject is
 * the group of the tenant's current credential generation (`Group dcm:lc:<id>:<generation>`,
 * see domain/tenant-identity.ts), never a user name, so re-binding after a revocation moves
 * every binding away from earlier certificates. Rules are checked against the cluster's discovery first: a rule that
 * can grant nothing there becomes a warning in status.
 */
import { checkRulesAgainstDiscovery, omittedWarnings, type ServedResources } from '../kubernetes/discovery.js';
import { namespacedRulesFor } from '../validation/namespaced-rules.js';
import { LIMITS } from '../validation/limits.js';
import { messageOf, pruneObjects, reconcileObjects, type ClusterContext, type ManagedKind } from './cluster-context.js';
import { clusterObjectName, namespacedObjectName } from './object-names.js';
import type { Role, RoleBinding } from './objects.js';

const RBAC = 'rbac.authorization.k8s.io/v1';

export const RBAC_KINDS: ManagedKind[] = [
  { category: 'role', apiVersion: RBAC, kind: 'Role', namespaced: true },
  { category: 'role-binding', apiVersion: RBAC, kind: 'RoleBinding', namespaced: true },
  { category: 'role', apiVersion: RBAC, kind: 'ClusterRole', namespaced: false },
  { category: 'role-binding', apiVersion: RBAC, kind: 'ClusterRoleBinding', namespaced: false },
];

export class RbacController {
  async apply(ctx: ClusterContext): Promise<void> {
    const served = await this.checkRules(ctx);
    const subject = ctx.work.tenant?.subject;
    const desired: (Role | RoleBinding)[] = [];
    for (const permission of ctx.work.permissions) {
      const clusterWide = permission.data.namespace === '';
      const rule = {
        apiGroups: permission.data.apiGroups,
        resources: permission.data.resources,
        verbs: permission.data.verbs,
      };
      const name = clusterWide
        ? clusterObjectName(ctx.identity, permission.name)
        : namespacedObjectName('permission', permission.name);
      const metadata = {
        name,
        ...(clusterWide ? {} : { namespace: ctx.namespace }),
        labels: ctx.labels,
        annotations: { 'dcm.onap.org/permission': permission.name },
      };
      desired.push({
        apiVersion: RBAC,
        kind: clusterWide ? 'ClusterRole' : 'Role',
        metadata,
        // A namespaced rule never reaches the Namespace object itself (validation/namespaced-rules.ts).
        rules: clusterWide ? [rule] : namespacedRulesFor(rule, served),
      });
      if (subject) {
        desired.push({
          apiVersion: RBAC,
          kind: clusterWide ? 'ClusterRoleBinding' : 'RoleBinding',
          metadata,
          roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: clusterWide ? 'ClusterRole' : 'Role', name },
          subjects: [
            subject.kind === 'Group'
              ? { apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: subject.name }
              : { kind: 'ServiceAccount', name: subject.name, namespace: subject.namespace },
          ],
        });
      }
    }
    await reconcileObjects(ctx, RBAC_KINDS, desired);
  }

  async remove(ctx: ClusterContext): Promise<void> {
    // Bindings first: the user loses access before the roles go.
    const [role, roleBinding, clusterRole, clusterRoleBinding] = RBAC_KINDS as [
      ManagedKind,
      ManagedKind,
      ManagedKind,
      ManagedKind,
    ];
    await pruneObjects(ctx, [roleBinding, clusterRoleBinding, role, clusterRole]);
  }

  /** Warns of rules that grant nothing on the cluster; the cluster's served resources, or undefined when discovery failed. */
  private async checkRules(ctx: ClusterContext): Promise<ServedResources | undefined> {
    try {
      const served = await ctx.connection.servedResources();
      // The first warnings only, and a count of the rest: a status document stays small whatever the rules.
      const permissions = ctx.work.permissions.map((p) => ({ name: p.name, rule: p.data }));
      const { warnings, omitted } = checkRulesAgainstDiscovery(permissions, served, LIMITS.statusWarnings);
      ctx.warnings.push(...warnings);
      if (omitted > 0) ctx.warnings.push(omittedWarnings(omitted));
      return served;
    } catch (error) {
      ctx.warnings.push({
        permission: '*',
        resource: '*',
        group: '*',
        message: `permissions not checked: discovery failed: ${messageOf(error)}`,
      });
      return undefined;
    }
  }
}
