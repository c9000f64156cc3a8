/**
 * A user permission, in every shape clients send it: the design's inline form
 * (`permission-name`), the design's endpoint 7 form (`name`), and EMCO's
 * `{metadata: {name}, spec: {namespace, apiGroups, resources, verbs}}`.
 */
import { z } from 'zod';
import type { PermissionRecord } from '../../domain/logical-cloud.js';
import { apiGroup, rbacResource, verb } from '../../validation/rbac-rules.js';
import { resourceName } from '../../validation/record-metadata.js';
import { atMost, LIMITS } from '../../validation/limits.js';
import { MetadataSchema, UpdateMetadataSchema } from '../metadata.js';

/** One RBAC rule; every list bounded (LIMITS), its length checked before its entries. */
export const RuleFields = {
  apiGroups: z
    .array(apiGroup)
    .min(1, 'at least one API group ("" is the core group)')
    .max(LIMITS.apiGroups, atMost(LIMITS.apiGroups, 'API groups')),
  resources: z
    .array(rbacResource)
    .min(1, 'at least one resource')
    .max(LIMITS.resources, atMost(LIMITS.resources, 'resources')),
  verbs: z.array(verb).min(1, 'at least one verb').max(LIMITS.verbs, atMost(LIMITS.verbs, 'verbs')),
};

/** "" means cluster-wide; left out means the logical cloud's namespace. */
const PermissionNamespace = z.string().max(63, atMost(63, 'characters'));

export const InlinePermissionSchema = z.strictObject({
  'permission-name': resourceName,
  namespace: PermissionNamespace.optional(),
  ...RuleFields,
});

const FlatPermission = z.strictObject({ name: resourceName, namespace: PermissionNamespace.optional(), ...RuleFields });
const FlatPermissionUpdate = FlatPermission.extend({ name: resourceName.optional() });
const EmcoSpec = z.strictObject({ namespace: PermissionNamespace.optional(), ...RuleFields });

export const PermissionCreateSchema = z.union([
  FlatPermission,
  z.strictObject({ metadata: MetadataSchema, spec: EmcoSpec }),
]);
export const PermissionUpdateSchema = z.union([
  FlatPermissionUpdate,
  z.strictObject({ metadata: UpdateMetadataSchema.optional(), spec: EmcoSpec }),
]);

export interface PermissionInput {
  name?: string;
  namespace?: string;
  apiGroups: string[];
  resources: string[];
  verbs: string[];
  /** Where the namespace was in the body, to name it in an error. */
  namespaceField: string;
}

export function permissionInput(body: z.infer<typeof PermissionUpdateSchema>): PermissionInput {
  if ('spec' in body) return { name: body.metadata?.name, ...body.spec, namespaceField: 'spec.namespace' };
  return { ...body, namespaceField: 'namespace' };
}

/** A rule as the views show it. */
export const RuleView = {
  namespace: z.string(),
  apiGroups: z.array(z.string()),
  resources: z.array(z.string()),
  verbs: z.array(z.string()),
};

/** A user permission's body. */
export const PermissionView = z.strictObject({
  name: z.string(),
  ...RuleView,
  metadata: z.strictObject({ name: z.string() }),
  spec: z.strictObject(RuleView),
});

/** The design's flat shape plus EMCO's metadata/spec, so that both kinds of client read it. */
export const permissionView = (p: PermissionRecord) => ({
  name: p.name,
  namespace: p.data.namespace,
  apiGroups: p.data.apiGroups,
  resources: p.data.resources,
  verbs: p.data.verbs,
  metadata: { name: p.name },
  spec: { namespace: p.data.namespace, apiGroups: p.data.apiGroups, resources: p.data.resources, verbs: p.data.verbs },
});
