/**
 * The design's inline user permissions of a logical cloud (`spec.user.user-permissions`):
 * checked like user permissions, stored as them, and replaced as a whole on update.
 */
import type { NamedRecordStore } from '../../db/named-record-store.js';
import type { LogicalCloudData, PermissionData, PermissionRule } from '../../domain/logical-cloud.js';
import { InvalidInputError } from '../../errors.js';
import {
  checkNamespacedRule,
  checkPermissionNamespace,
  permissionNamespace,
} from '../user-permissions/permission-rules.js';

export interface InlinePermission extends PermissionRule {
  name: string;
  /** undefined: the logical cloud's namespace; '': cluster-wide. */
  namespace?: string;
}

/** Each name once, each namespace the logical cloud's or "" (400 naming the field). */
export function checkInlinePermissions(lc: LogicalCloudData, permissions: InlinePermission[]): void {
  const seen = new Set<string>();
  permissions.forEach((p, i) => {
    const field = `spec.user.user-permissions.${i}`;
    if (seen.has(p.name)) {
      throw InvalidInputError.forFields([{ field: `${field}.permission-name`, message: `${p.name} appears twice` }]);
    }
    seen.add(p.name);
    checkPermissionNamespace(lc.namespace, p.namespace, `${field}.namespace`);
    checkNamespacedRule(permissionNamespace(lc.namespace, p.namespace), p, `${field}.resources`);
  });
}

export function permissionData(lc: LogicalCloudData, p: InlinePermission): PermissionData {
  return {
    namespace: permissionNamespace(lc.namespace, p.namespace),
    apiGroups: p.apiGroups,
    resources: p.resources,
    verbs: p.verbs,
  };
}

/**
 * The permissions a logical cloud has after an update: the given ones, or (none given) the
 * present ones, whose namespaced entries follow the logical cloud's namespace.
 */
export function wantedPermissions(
  before: LogicalCloudData,
  after: LogicalCloudData,
  given: InlinePermission[] | undefined,
  existing: { name: string; data: PermissionData }[],
): Map<string, PermissionData> {
  if (given) return new Map(given.map((p) => [p.name, permissionData(after, p)]));
  return new Map(
    existing.map((p) => [
      p.name,
      p.data.namespace === before.namespace ? { ...p.data, namespace: after.namespace } : p.data,
    ]),
  );
}

/** Deletes what is no longer wanted, then writes each wanted permission (update, or create when missing). */
export async function replacePermissions(
  store: NamedRecordStore<PermissionData>,
  scope: { logicalCloudId: string },
  present: string[],
  wanted: Map<string, PermissionData>,
): Promise<void> {
  for (const name of present) if (!wanted.has(name)) await store.delete(scope, name);
  for (const [permissionName, data] of wanted) {
    const result = await store.update(scope, permissionName, data);
    if (result.kind === 'not-found') await store.create(scope, permissionName, data);
  }
}
