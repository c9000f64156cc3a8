/**
 * Where a permission applies: the logical cloud's namespace (when none is given) or cluster-wide
 * (""), never another namespace; a namespaced one cannot grant the Namespace object itself.
 * Shared by user permissions and a logical cloud's inline permissions.
 */
import type { PermissionRule } from '../../domain/logical-cloud.js';
import { InvalidInputError } from '../../errors.js';
import { namespaceObjectRuleProblem } from '../../validation/namespaced-rules.js';

export const permissionNamespace = (lcNamespace: string, requested: string | undefined): string =>
  requested === undefined ? lcNamespace : requested;

/** A permission in the logical cloud's namespace cannot grant the Namespace object itself (400 naming the field). */
export function checkNamespacedRule(
  namespace: string,
  rule: Pick<PermissionRule, 'apiGroups' | 'resources'>,
  field: string,
): void {
  if (namespace === '') return;
  const problem = namespaceObjectRuleProblem(rule);
  if (problem) throw InvalidInputError.forFields([{ field, message: problem }]);
}

export function checkPermissionNamespace(lcNamespace: string, requested: string | undefined, field: string): void {
  if (requested === undefined || requested === '' || requested === lcNamespace) return;
  throw InvalidInputError.forFields([
    {
      field,
      message: `a permission applies in the logical cloud's namespace (${lcNamespace}) or cluster-wide (""), not in ${requested}`,
    },
  ]);
}
