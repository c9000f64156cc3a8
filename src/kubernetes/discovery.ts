/**
 * Which API groups serve which resources on a cluster, from its discovery API: aggregated
 * discovery (one request each for /api and /apis) where the server has it, the classic
 * per-group-version requests otherwise.
 */
import { LIMITS } from '../validation/limits.js';

/** What discovery reads a cluster with: GETs of its API paths, parsed as JSON. */
export interface DiscoveryReader {
  getJson<T>(path: string, accept?: string): Promise<T>;
}

/** resource (plural, with `/subresource` entries too) → the API groups that serve it ("" = core). */
export type ServedResources = Map<string, Set<string>>;

const AGGREGATED = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json';

interface AggregatedList {
  kind?: string;
  items?: {
    metadata?: { name?: string };
    versions?: { resources?: { resource: string; subresources?: { subresource: string }[] }[] }[];
  }[];
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

export async function discoverServedResources(cluster: DiscoveryReader): Promise<ServedResources> {
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
  /** Set on an entry that stands for this many further warnings, not listed (see omittedWarnings). */
  omitted?: number;
}

/** What a check found: the first warnings, up to its limit, and how many more there were. */
export interface RuleCheck {
  warnings: RuleWarning[];
  omitted: number;
}

const groupName = (group: string): string => (group === '' ? '"" (core)' : group);

/** `it is served by group a, b, c and 7 more`: never more than LIMITS.warningServingGroups named. */
function whereServed(servingGroups: Set<string> | undefined): string {
  if (!servingGroups?.size) return 'no API group on this cluster serves it';
  const named: string[] = [];
  for (const group of servingGroups) {
    if (named.length === LIMITS.warningServingGroups) break;
    named.push(groupName(group));
  }
  const more = servingGroups.size - named.length;
  return `it is served by group ${named.join(', ')}${more > 0 ? ` and ${more} more` : ''}`;
}

/** Whether the two sets share an element: walks the smaller one, looks up in the larger one. */
function intersects(a: Set<string>, b: Set<string>): boolean {
  const [small, large] = a.size <= b.size ? [a, b] : [b, a];
  for (const element of small) if (large.has(element)) return true;
  return false;
}

/**
 * A rule naming a resource in a group that does not serve it grants nothing there (the
 * design's own example: `jobs` in the core group instead of `batch`). Wildcards always match.
 * A resource is granted when any group of the rule serves it; otherwise each group of the rule
 * (once, however often it is listed) is a warning.
 *
 * Linear: one pass over the groups into a set, one pass over the resources, each looked up
 * once, and per resource a walk over the smaller of its serving groups and the rule's groups.
 * Bounded: at most `limit` warnings are built (across all `permissions`); the rest are counted.
 */
export function checkRulesAgainstDiscovery(
  permissions: Iterable<{ name: string; rule: { apiGroups: readonly string[]; resources: readonly string[] } }>,
  served: ServedResources,
  limit: number = LIMITS.statusWarnings,
): RuleCheck {
  const warnings: RuleWarning[] = [];
  let omitted = 0;
  for (const { name: permission, rule } of permissions) {
    const groups = new Set(rule.apiGroups);
    if (groups.has('*')) continue; // any group: every resource is granted where it is served at all
    const checked = new Set<string>();
    for (const resource of rule.resources) {
      if (checked.has(resource)) continue;
      checked.add(resource);
      if (resource === '*' || resource.startsWith('*/')) continue;
      const servingGroups = served.get(resource);
      if (servingGroups && intersects(groups, servingGroups)) continue;
      // No group of the rule serves the resource: each of them is a warning.
      const room = Math.max(0, limit - warnings.length);
      omitted += Math.max(0, groups.size - room);
      if (room === 0) continue;
      const where = whereServed(servingGroups);
      for (const group of groups) {
        if (warnings.length >= limit) break;
        warnings.push({
          permission,
          resource,
          group,
          message: `permission ${permission}: resource ${resource} is not served by group ${groupName(group)}; ${where}`,
        });
      }
    }
  }
  return { warnings, omitted };
}

/** The check of one rule: its first `limit` warnings (see checkRulesAgainstDiscovery). */
export function checkRuleAgainstDiscovery(
  permission: string,
  rule: { apiGroups: readonly string[]; resources: readonly string[] },
  served: ServedResources,
  limit: number = LIMITS.statusWarnings,
): RuleWarning[] {
  return checkRulesAgainstDiscovery([{ name: permission, rule }], served, limit).warnings;
}

/** The entry that stands for `count` warnings not listed; the status store counts it in `warningsOmitted`. */
export function omittedWarnings(count: number): RuleWarning {
  return {
    permission: '*',
    resource: '*',
    group: '*',
    message: `${count} more warnings about permissions not listed`,
    omitted: count,
  };
}
