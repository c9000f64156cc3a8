/**
 * User permissions of a logical cloud: RBAC rules in its namespace (or cluster-wide), never
 * granting the Namespace object itself, and bounded by the project's policy.
 */
import type { PermissionData } from '../../domain/logical-cloud.js';
import { LogicalCloudChildService, type LogicalCloudResolver } from '../logical-clouds/logical-cloud-child.service.js';
import type { LifecycleGuard } from '../logical-clouds/logical-cloud.service.js';
import type { ProjectPolicyService } from '../project-policies/project-policy.service.js';
import { checkNamespacedRule, checkPermissionNamespace, permissionNamespace } from './permission-rules.js';
import type { PermissionInput } from './user-permission.schema.js';
import type { UserPermissionStore } from './user-permission.store.js';

export type PermissionService = LogicalCloudChildService<PermissionInput, PermissionData>;

export function createPermissionService(
  store: UserPermissionStore,
  logicalClouds: LogicalCloudResolver,
  guard: () => LifecycleGuard,
  policies: Pick<ProjectPolicyService, 'enforce'>,
): PermissionService {
  return new LogicalCloudChildService('User permission', store, logicalClouds, {
    prepare: async (lc, input, name, caller) => {
      checkPermissionNamespace(lc.data.namespace, input.namespace, input.namespaceField);
      const data = {
        namespace: permissionNamespace(lc.data.namespace, input.namespace),
        apiGroups: input.apiGroups,
        resources: input.resources,
        verbs: input.verbs,
      };
      checkNamespacedRule(data.namespace, data, input.namespaceField.replace(/namespace$/, 'resources'));
      await policies.enforce(caller, lc.scope.project!, { permissions: [{ ...data, name }] });
      return data;
    },
    checkMutable: (lc) => guard().checkMutable(lc, 'update'),
  });
}
