/**
 * Whether a registered cluster matches a logical cloud's clusterSelector: Kubernetes
 * label-selector semantics (matchLabels, and In / NotIn / Exists / DoesNotExist expressions, all
 * of which must hold) plus an optional list of cluster providers. Pure.
 */
import type { ClusterSelector } from '../../domain/logical-cloud.js';

/** A registered cluster as the selector sees it. */
export interface SelectableCluster {
  provider: string;
  name: string;
  labels: Record<string, string>;
}

/** Why a selector does not select a cluster, in words; undefined: it matches. */
export function selectorMismatch(selector: ClusterSelector, cluster: SelectableCluster): string | undefined {
  const { providers, matchLabels = [], matchExpressions = [] } = selector;
  if (providers && providers.length > 0 && !providers.includes(cluster.provider))
    return `provider: ${cluster.provider} is not among ${providers.join(', ')}`;
  for (const { key, value } of matchLabels) {
    if (cluster.labels[key] !== value) return `labels: ${key}=${value} is not set`;
  }
  for (const { key, operator, values = [] } of matchExpressions) {
    const has = Object.hasOwn(cluster.labels, key);
    const value = cluster.labels[key];
    switch (operator) {
      case 'In':
        if (!has || !values.includes(value!)) return `labels: ${key} is not in (${values.join(', ')})`;
        break;
      case 'NotIn':
        if (has && values.includes(value!)) return `labels: ${key}=${value} is excluded (NotIn)`;
        break;
      case 'Exists':
        if (!has) return `labels: ${key} is not set`;
        break;
      case 'DoesNotExist':
        if (has) return `labels: ${key} is set`;
        break;
    }
  }
  return undefined;
}

export const selectorMatches = (selector: ClusterSelector, cluster: SelectableCluster): boolean =>
  selectorMismatch(selector, cluster) === undefined;
