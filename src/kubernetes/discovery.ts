/**
 * Which API groups serve which resources on a cluster, from its discovery API: aggregated
 * discovery (one request each for /api and /apis) where the server has it, the classic
 * per-group-version requests otherwise.
 */
import type { ClusterConnection } from './cluster-connection.js';

/** resource (plural, with `/subresource` entries too) → the API groups that serve it ("" = core). */
export type ServedResources = Map<string, Set<string>>;

const AGGREGATED = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json';

interface AggregatedList {
  kind?: string;
  items?: { metadata?: { name?: string }; versions?: { resources?: { resource: string; subresources?: { subresource: string }[] }[] }[] }[];
}

interface ResourceList {
  resources?: { name: string }[];
}

interface GroupList {
  kind?: string;
  groups?: { name: string; preferredVersion?: { groupVersion: string } }[];
}

function add(served: ServedResources, resource: string, group: string): void {
  let groups = served.get(resource);
  if (!groups) served.set(resource, (groups = new Set()));
  groups.add(group);
}

export async function discoverServedResources(cluster: ClusterConnection): Promise<ServedResources> {
  const served: ServedResources = new Map();
  const [core, groups] = await Promise.all([
    cluster.getJson<AggregatedList & ResourceList>('/api', AGGREGATED),
    cluster.getJson<AggregatedList & GroupList>('/apis', AGGREGATED),
  ]);
  if (core.kind === 'APIGroupDiscoveryList' && groups.kind === 'APIGroupDiscoveryList') {
    for (const item of [...(core.items ?? []), ...(groups.items ?? [])]) {
      const group = item.metadata?.name ?? '';
      for (const version of item.versions ?? []) {
        for (const r of version.resources ?? []) {
          add(served, r.resource, group);
          for (const sub of r.subresources ?? []) add(served, `${r.resource}/${sub.subresource}`, group);
        }
      }
    }
    return served;
  }
  const coreResources = await cluster.getJson<ResourceList>('/api/v1');
  for (const r of coreResources.resources ?? []) add(served, r.name, '');
  const legacyGroups = await cluster.getJson<GroupList>('/apis');
  await Promise.all(
    (legacyGroups.groups ?? []).map(async (g) => {
      if (!g.preferredVersion) return;
      const list = await cluster.getJson<ResourceList>(`/apis/${g.preferredVersion.groupVersion}`);
      for (const r of list.resources ?? []) add(served, r.name, g.name);
    }),
  );
  return served;
}

export interface RuleWarning {
  permission: string;
  resource: string;
  group: string;
  message: string;
}

/**
 * A rule naming a resource in a group that does not serve it grants nothing there (the
 * design's own example: `jobs` in the core group instead of `batch`). Wildcards always match.
 */
export function checkRuleAgainstDiscovery(
  permission: string,
  rule: { apiGroups: string[]; resources: string[] },
  served: ServedResources,
): RuleWarning[] {
  const warnings: RuleWarning[] = [];
  for (const resource of rule.resources) {
    if (resource === '*' || resource.startsWith('*/')) continue;
    const servingGroups = served.get(resource);
    for (const group of rule.apiGroups) {
      if (group === '*' || servingGroups?.has(group)) continue;
      if (rule.apiGroups.some((g) => g === '*' || servingGroups?.has(g))) continue;
      const where = servingGroups?.size
        ? `it is served by group ${[...servingGroups].map((g) => (g === '' ? '"" (core)' : g)).join(', ')}`
        : 'no API group on this cluster serves it';
      warnings.push({
        permission,
        resource,
        group,
        message: `permission ${permission}: resource ${resource} is not served by group ${group === '' ? '"" (core)' : group}; ${where}`,
      });
    }
  }
  return warnings;
}
