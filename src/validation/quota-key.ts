/**
 * ResourceQuota keys: which keys Kubernetes accepts, whether each limits an amount or an object
 * count, and the short forms (`cpu` is `requests.cpu`).
 * Pure: zod schemas and plain functions, no I/O. Checking these when a record is created means a
 * bad value is reported to the caller at once, naming the field, instead of failing later when the
 * logical cloud is instantiated on a cluster.
 */
import { z } from 'zod';
import { isDns1123Subdomain } from './kubernetes-names.js';
import { parseQuantity } from './quantity.js';

/** Short keys that Kubernetes reads as requests (`cpu` is `requests.cpu`). */
const SHORT_QUOTA_KEYS: Record<string, string> = {
  cpu: 'requests.cpu',
  memory: 'requests.memory',
  'ephemeral-storage': 'requests.ephemeral-storage',
};

/** Keys counting objects: their limits must be whole numbers. */
const STANDARD_COUNT_KEYS = new Set([
  'pods',
  'services',
  'services.loadbalancers',
  'services.nodeports',
  'secrets',
  'configmaps',
  'persistentvolumeclaims',
  'replicationcontrollers',
  'resourcequotas',
]);

const STANDARD_AMOUNT_KEYS = new Set([
  'requests.cpu',
  'requests.memory',
  'limits.cpu',
  'limits.memory',
  'requests.storage',
  'requests.ephemeral-storage',
  'limits.ephemeral-storage',
]);

const STORAGE_CLASS_SUFFIX = '.storageclass.storage.k8s.io/';
const STORAGE_CLASS_AMOUNT = 'requests.storage';
const STORAGE_CLASS_COUNT = 'persistentvolumeclaims';

/** Name part of a qualified name (as in `nvidia.com/gpu`). */
const QUALIFIED_NAME_PART = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;

/**
 * Maps the short keys `cpu`, `memory` and `ephemeral-storage` to their `requests.` form,
 * as Kubernetes does; every other key is returned unchanged (valid or not).
 */
export function normalizeQuotaKey(key: string): string {
  return Object.hasOwn(SHORT_QUOTA_KEYS, key) ? SHORT_QUOTA_KEYS[key]! : key;
}

export type QuotaKeyKind = 'amount' | 'count';

/** Whether a (normalized) key is an amount or an object count; undefined if not a quota key. */
export function quotaKeyKind(key: string): QuotaKeyKind | undefined {
  if (STANDARD_AMOUNT_KEYS.has(key)) return 'amount';
  if (STANDARD_COUNT_KEYS.has(key)) return 'count';
  if (key.startsWith('count/')) {
    // count/<resource> (core group) or count/<resource>.<group>: both read as a subdomain, and
    // the API server checks the key as a qualified name, whose name part has at most 63 characters.
    const resource = key.slice('count/'.length);
    return resource.length <= 63 && isDns1123Subdomain(resource) ? 'count' : undefined;
  }
  const storageClassAt = key.indexOf(STORAGE_CLASS_SUFFIX);
  if (storageClassAt > 0) {
    const storageClass = key.slice(0, storageClassAt);
    const resource = key.slice(storageClassAt + STORAGE_CLASS_SUFFIX.length);
    // The whole prefix `<class>.storageclass.storage.k8s.io` is the qualified name's prefix: a subdomain of at most 253.
    if (
      !isDns1123Subdomain(storageClass) ||
      !isDns1123Subdomain(key.slice(0, storageClassAt + STORAGE_CLASS_SUFFIX.length - 1))
    )
      return undefined;
    if (resource === STORAGE_CLASS_AMOUNT) return 'amount';
    if (resource === STORAGE_CLASS_COUNT) return 'count';
    return undefined;
  }
  const hugePages = /^(requests|limits)\.hugepages-(.+)$/.exec(key);
  if (hugePages) {
    const pageSize = parseQuantity(hugePages[2] ?? '');
    return pageSize !== undefined && pageSize > 0 && !/^[+-]/.test(hugePages[2] ?? '') ? 'amount' : undefined;
  }
  if (key.startsWith('requests.')) {
    return isExtendedResourceName(key.slice('requests.'.length)) ? 'amount' : undefined;
  }
  return undefined;
}

/**
 * A domain-prefixed resource name such as `nvidia.com/gpu`. Names in the kubernetes.io
 * domains are native resources, not extended ones, so they are refused here.
 */
function isExtendedResourceName(name: string): boolean {
  const slash = name.indexOf('/');
  if (slash < 0) return false;
  const domain = name.slice(0, slash);
  const resource = name.slice(slash + 1);
  if (domain === 'kubernetes.io' || domain.endsWith('.kubernetes.io')) return false;
  return isDns1123Subdomain(domain) && resource.length <= 63 && QUALIFIED_NAME_PART.test(resource);
}

/** Whether `key` is a ResourceQuota key (short keys like `cpu` included). */
export function isQuotaKey(key: string): boolean {
  return quotaKeyKind(normalizeQuotaKey(key)) !== undefined;
}

export const QUOTA_KEY_RULE =
  'is not a ResourceQuota key (examples: "cpu", "requests.memory", "limits.cpu", "pods", ' +
  '"requests.nvidia.com/gpu", "count/deployments.apps", "<class>.storageclass.storage.k8s.io/requests.storage")';

/** One ResourceQuota key; validates only, see normalizeQuotaKey for the canonical form. */
export const quotaKey = z.string().refine(isQuotaKey, {
  error: (issue) => `${JSON.stringify(issue.input)} ${QUOTA_KEY_RULE}`,
});
