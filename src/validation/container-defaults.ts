/**
 * The requests and limits a container without `resources:` gets in a logical cloud's namespace
 * (its LimitRange), held against the logical cloud's quotas: a default the logical cloud sets
 * may not exceed one of its quotas (400 naming both); the DCM's own defaults are capped by them,
 * so a plain pod always fits a quota that has room for it.
 */
import type { ContainerDefaults, ResourcePair } from '../domain/logical-cloud.js';
import { DEFAULT_CONTAINER_DEFAULTS } from '../domain/logical-cloud.js';
import { parseQuantity } from './quantity.js';
import { normalizeQuotaKey } from './quota-key.js';

type Side = 'requests' | 'limits';
type Resource = keyof ResourcePair;

/** A quota of the logical cloud: its name and `hard` map as stored (keys as the client wrote them). */
export interface NamedQuota {
  name: string;
  hard: Record<string, string>;
}

/** The quota key that bounds a default (`cpu` is normalized to `requests.cpu`). */
const quotaKeyOf = (side: Side, resource: Resource) => `${side}.${resource}`;

/** Each default and the quota value that bounds it (the smallest one), per (side, resource). */
function bounds(quotas: NamedQuota[]): Map<string, { quota: string; key: string; value: string; amount: number }> {
  const found = new Map<string, { quota: string; key: string; value: string; amount: number }>();
  for (const quota of quotas) {
    for (const [key, value] of Object.entries(quota.hard)) {
      const amount = parseQuantity(value);
      if (amount === undefined) continue;
      const normalized = normalizeQuotaKey(key);
      const current = found.get(normalized);
      if (!current || amount < current.amount) found.set(normalized, { quota: quota.name, key, value, amount });
    }
  }
  return found;
}

export interface DefaultsProblem {
  field: string;
  message: string;
}

/** The explicit defaults that exceed a quota of the same logical cloud: each named with the quota and key. */
export function defaultsExceedingQuotas(
  defaults: ContainerDefaults | undefined,
  quotas: NamedQuota[],
  fieldPrefix = 'spec.isolation.containerDefaults',
): DefaultsProblem[] {
  if (!defaults) return [];
  const limits = bounds(quotas);
  const problems: DefaultsProblem[] = [];
  for (const side of ['requests', 'limits'] as const) {
    for (const resource of ['cpu', 'memory'] as const) {
      const value = defaults[side]?.[resource];
      const bound = value === undefined ? undefined : limits.get(quotaKeyOf(side, resource));
      if (value === undefined || !bound || (parseQuantity(value) ?? 0) <= bound.amount) continue;
      problems.push({
        field: `${fieldPrefix}.${side}.${resource}`,
        message:
          `the default ${side === 'requests' ? 'request' : 'limit'} ${value} exceeds cluster quota ${bound.quota} ` +
          `(${bound.key}: ${bound.value}); no container with the default could start`,
      });
    }
  }
  return problems;
}

/**
 * The defaults in force: the logical cloud's own, else the DCM's capped by the quotas; a default
 * request never exceeds the default limit.
 */
export function effectiveContainerDefaults(
  defaults: ContainerDefaults | undefined,
  quotas: NamedQuota[],
): Required<{ requests: Required<ResourcePair>; limits: Required<ResourcePair> }> {
  const limits = bounds(quotas);
  const pick = (side: Side, resource: Resource): string => {
    const explicit = defaults?.[side]?.[resource];
    if (explicit !== undefined) return explicit;
    const fallback = DEFAULT_CONTAINER_DEFAULTS[side][resource];
    const bound = limits.get(quotaKeyOf(side, resource));
    return bound && bound.amount < (parseQuantity(fallback) ?? Infinity) ? bound.value : fallback;
  };
  const result = {
    requests: { cpu: pick('requests', 'cpu'), memory: pick('requests', 'memory') },
    limits: { cpu: pick('limits', 'cpu'), memory: pick('limits', 'memory') },
  };
  for (const resource of ['cpu', 'memory'] as const) {
    if ((parseQuantity(result.requests[resource]) ?? 0) <= (parseQuantity(result.limits[resource]) ?? Infinity))
      continue;
    // An explicit request above the DCM's default limit raises the limit; otherwise the (capped) limit bounds the request.
    if (defaults?.requests?.[resource] !== undefined && defaults.limits?.[resource] === undefined)
      result.limits[resource] = result.requests[resource];
    else result.requests[resource] = result.limits[resource];
  }
  return result;
}
