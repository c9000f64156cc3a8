/**
 * What a logical cloud's selection is over the registered clusters, and what must change in its
 * stored cluster references to follow it: the clusters its selector matches and the project
 * policy admits, a reason for every other cluster, the references to make, remove or mark
 * orphaned. Pure: the follower (cluster-selection.job.ts) and the preview share it.
 */
import type { ClusterReferenceRecord, ClusterSelector, SelectionRemoval } from '../../domain/logical-cloud.js';
import { selectorMismatch, type SelectableCluster } from './cluster-selector.js';

export type ExclusionReason = 'provider' | 'labels' | 'project policy';

export interface SelectedCluster {
  provider: string;
  cluster: string;
  /** The reference that places the logical cloud there (absent in a preview of a selector not saved). */
  reference?: string;
  /** Set when the last health probe found the cluster unreachable: selected, applied once reachable. */
  pending?: string;
}

export interface ExcludedCluster {
  provider: string;
  cluster: string;
  reason: ExclusionReason;
  message: string;
}

export interface SelectionInputs {
  selector: ClusterSelector | undefined;
  clusters: SelectableCluster[];
  /** Whether the project policy admits the cluster. */
  admitted: (cluster: SelectableCluster) => boolean;
  /** Why a cluster is not reachable now (last probe), if it is not. */
  unreachable?: (cluster: SelectableCluster) => string | undefined;
}

export interface Selection {
  selected: SelectedCluster[];
  excluded: ExcludedCluster[];
}

const clusterKey = (provider: string, cluster: string) => `${provider}/${cluster}`;

/** The clusters a selector selects (matched and admitted) and why each other one is not. */
export function evaluateSelection({ selector, clusters, admitted, unreachable }: SelectionInputs): Selection {
  const selected: SelectedCluster[] = [];
  const excluded: ExcludedCluster[] = [];
  for (const c of clusters) {
    const base = { provider: c.provider, cluster: c.name };
    const mismatch = selector ? selectorMismatch(selector, c) : 'labels: the logical cloud has no clusterSelector';
    if (mismatch) {
      const reason: ExclusionReason = mismatch.startsWith('provider') ? 'provider' : 'labels';
      excluded.push({ ...base, reason, message: mismatch });
    } else if (!admitted(c)) {
      excluded.push({ ...base, reason: 'project policy', message: 'project policy: the policy does not admit it' });
    } else {
      const pending = unreachable?.(c);
      selected.push({ ...base, ...(pending ? { pending } : {}) });
    }
  }
  return { selected, excluded };
}

export interface ReferenceChanges {
  create: { name: string; provider: string; cluster: string }[];
  /** Selected references whose cluster left (removal Terminate). */
  remove: ClusterReferenceRecord[];
  /** Selected references whose cluster left (removal Keep), not yet marked. */
  orphan: ClusterReferenceRecord[];
  /** Orphaned references whose cluster is selected again. */
  adopt: ClusterReferenceRecord[];
}

export const noChanges = (c: ReferenceChanges): boolean =>
  c.create.length + c.remove.length + c.orphan.length + c.adopt.length === 0;

/**
 * The reference changes that make the stored references follow the selection. A cluster
 * already referenced (by hand or selected) gets no second reference; a selected reference's
 * name is the cluster's when no other registered cluster has that name and no reference of
 * the logical cloud is called so, else `<provider>-<cluster>`.
 */
export function referenceChanges(
  selection: Selection,
  references: ClusterReferenceRecord[],
  allClusters: SelectableCluster[],
  removal: SelectionRemoval,
): ReferenceChanges {
  const wanted = new Set(selection.selected.map((s) => clusterKey(s.provider, s.cluster)));
  const referenced = new Map(references.map((r) => [clusterKey(r.data.clusterProvider, r.data.cluster), r]));
  const names = new Set(references.map((r) => r.name));
  const registeredNames = new Map<string, number>();
  for (const c of allClusters) registeredNames.set(c.name, (registeredNames.get(c.name) ?? 0) + 1);
  const changes: ReferenceChanges = { create: [], remove: [], orphan: [], adopt: [] };
  for (const s of selection.selected) {
    const existing = referenced.get(clusterKey(s.provider, s.cluster));
    if (existing) {
      if (existing.data.selected && existing.data.orphaned) changes.adopt.push(existing);
      continue;
    }
    const name =
      (registeredNames.get(s.cluster) ?? 0) <= 1 && !names.has(s.cluster) ? s.cluster : `${s.provider}-${s.cluster}`;
    names.add(name);
    changes.create.push({ name, provider: s.provider, cluster: s.cluster });
  }
  for (const r of references) {
    if (!r.data.selected || wanted.has(clusterKey(r.data.clusterProvider, r.data.cluster))) continue;
    if (removal === 'Keep') {
      if (!r.data.orphaned) changes.orphan.push(r);
    } else changes.remove.push(r);
  }
  return changes;
}
