/**
 * The parts of an RBAC rule: verbs, API groups and resources.
 * Pure: zod schemas and plain functions, no I/O. Checking these when a record is created means a
 * bad value is reported to the caller at once, naming the field, instead of failing later when the
 * logical cloud is instantiated on a cluster.
 */
import { z } from 'zod';
import { isDns1123Subdomain, LABEL_63, SUBDOMAIN } from './kubernetes-names.js';
import { boundedString, LIMITS } from './limits.js';

/** Verbs an RBAC rule may grant: the API verbs, the special RBAC/CSR verbs, and `*`. */
export const KUBERNETES_VERBS = [
  'get',
  'list',
  'watch',
  'create',
  'update',
  'patch',
  'delete',
  'deletecollection',
  'use',
  'bind',
  'escalate',
  'impersonate',
  'approve',
  'sign',
  '*',
] as const;

export type KubernetesVerb = (typeof KUBERNETES_VERBS)[number];

/** One verb of an RBAC rule. */
export const verb = z.enum(KUBERNETES_VERBS, {
  error: `verb must be one of ${KUBERNETES_VERBS.join(', ')}`,
});

/** An API group of an RBAC rule: `""` is the core group, `*` all groups. */
export const apiGroup = boundedString(LIMITS.apiGroupLength)
  .refine((s) => s === '' || s === '*' || isDns1123Subdomain(s), {
    error: 'API group must be "" (the core group), "*" or a DNS-1123 subdomain such as "apps" or "example.com"',
  })
  .meta({ pattern: `^(?:|\\*|${SUBDOMAIN})$`, maxLength: LIMITS.apiGroupLength });

/**
 * A resource of an RBAC rule: `*`, a lowercase plural resource (`pods`), or a resource
 * with a subresource (`pods/log`, or `*\/scale` for that subresource of any resource).
 * Dots are refused: the group goes in apiGroups, and `deployments.apps` would match nothing.
 */
const RBAC_RESOURCE = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?|\*)(\/[a-z0-9]([-a-z0-9]*[a-z0-9])?)?$/;

export const rbacResource = boundedString(LIMITS.resourceLength)
  .refine((s) => RBAC_RESOURCE.test(s) && s.split('/').every((part) => part.length <= 63), {
    error: 'resource must be "*", a lowercase resource such as "pods", or resource/subresource such as "pods/log"',
  })
  .meta({ pattern: `^(?:${LABEL_63}|\\*)(?:/${LABEL_63})?$`, maxLength: LIMITS.resourceLength });
