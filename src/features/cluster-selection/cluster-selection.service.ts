/**
 * A logical cloud's cluster selection read from the records: the registered clusters (with
 * their last health), the project policy's admission, the stored references; the preview
 * (GET …/cluster-selection, also of a selector not saved yet). The follower
 * (cluster-selection.job.ts) uses the same reading to change the references.
 */
import { pairsToMap, type NamedRecordStore } from '../../db/named-record-store.js';
import { clusterAdmitted, type ProjectPolicy } from '../../auth/tenant-policy.js';
import type {
  ClusterReferenceData,
  ClusterSelector,
  LogicalCloudData,
  LogicalCloudRecord,
} from '../../domain/logical-cloud.js';
import type { ClusterHealth } from '../cluster-registry/cluster-health.store.js';
import type { ClusterService } from '../cluster-registry/cluster.service.js';
import type { LogicalCloudResolver } from '../logical-clouds/logical-cloud-child.service.js';
import type { ProjectPolicyService } from '../project-policies/project-policy.service.js';
import type { SelectableCluster } from './cluster-selector.js';
import type { SelectionState, ClusterSelectionStore } from './cluster-selection.store.js';
import { selectorView, removalOf, type ClusterSelectorBody } from './cluster-selector.schema.js';
import { evaluateSelection, type ExcludedCluster, type Selection, type SelectedCluster } from './selection-plan.js';

export interface SelectionDependencies {
  logicalClouds: LogicalCloudResolver;
  logicalCloudStore: NamedRecordStore<LogicalCloudData>;
  references: NamedRecordStore<ClusterReferenceData>;
  clusters: Pick<ClusterService, 'all'>;
  policies: Pick<ProjectPolicyService, 'get'>;
  health: { all(): Promise<ClusterHealth[]>; freshMs: number };
  state: ClusterSelectionStore;
}

/** The registered clusters as the selector sees them, with why each unreachable one is (last fresh probe). */
export interface Fleet {
  clusters: SelectableCluster[];
  unreachable: (c: SelectableCluster) => string | undefined;
  /** The project policies read so far for this fleet's evaluations (one read per project). */
  policies: Map<string, Promise<ProjectPolicy>>;
}

export interface SelectionPreview {
  logicalCloud: string;
  /** The selector evaluated: the saved one, or the one given as `?selector=`. */
  selector: ClusterSelectorBody | null;
  saved: boolean;
  removal: 'Terminate' | 'Keep';
  selected: SelectedCluster[];
  notSelected: ExcludedCluster[];
  /** When the saved selection last changed and why (absent before the first change). */
  lastChange?: { at: string; cause: string };
}

export class ClusterSelectionService {
  constructor(private readonly deps: SelectionDependencies) {}

  /** Every registered cluster, with the health probes' verdicts. */
  async fleet(): Promise<Fleet> {
    const [records, probes] = await Promise.all([this.deps.clusters.all(), this.deps.health.all()]);
    const down = new Map<string, string>();
    for (const p of probes) {
      if (!p.reachable && Date.now() - p.checkedAt.getTime() <= this.deps.health.freshMs)
        down.set(
          `${p.provider}/${p.cluster}`,
          `unreachable: ${p.message ?? 'no answer'} (probed ${p.checkedAt.toISOString()})`,
        );
    }
    return {
      clusters: records.map((c) => ({ provider: c.scope.provider!, name: c.name, labels: pairsToMap(c.data.labels) })),
      unreachable: (c) => down.get(`${c.provider}/${c.name}`),
      policies: new Map(),
    };
  }

  /** The selection of a logical cloud's selector (or `selector`) over the fleet, under its project's policy. */
  async evaluate(lc: LogicalCloudRecord, fleet: Fleet, selector = lc.data.clusterSelector): Promise<Selection> {
    const project = lc.scope.project!;
    const read = fleet.policies.get(project) ?? this.deps.policies.get(project).then((view) => view.policy);
    fleet.policies.set(project, read);
    const policy = await read;
    return evaluateSelection({
      selector,
      clusters: fleet.clusters,
      admitted: (c) => clusterAdmitted(policy.clusters, c),
      unreachable: fleet.unreachable,
    });
  }

  /** GET …/cluster-selection: what the saved selector (or `override`, not saved) selects, and why not the rest. */
  async preview(project: string, name: string, override?: ClusterSelector): Promise<SelectionPreview> {
    const lc = await this.deps.logicalClouds.resolve(project, name);
    const selector = override ?? lc.data.clusterSelector;
    const [selection, references, state] = await Promise.all([
      this.evaluate(lc, await this.fleet(), selector),
      this.deps.references.findWhere({ logicalCloudId: lc.id }, {}),
      this.deps.state.get(lc.id),
    ]);
    const referenceOf = new Map(references.map((r) => [`${r.data.clusterProvider}/${r.data.cluster}`, r.name]));
    return {
      logicalCloud: lc.name,
      selector: selector ? selectorView(selector) : null,
      saved: override === undefined,
      removal: removalOf(lc.data),
      selected: selection.selected.map((s) => {
        const reference = override === undefined ? referenceOf.get(`${s.provider}/${s.cluster}`) : undefined;
        return { ...s, ...(reference ? { reference } : {}) };
      }),
      notSelected: selection.excluded,
      ...(state ? { lastChange: lastChangeOf(state) } : {}),
    };
  }
}

const lastChangeOf = (state: SelectionState) => ({ at: state.changedAt.toISOString(), cause: state.cause });
