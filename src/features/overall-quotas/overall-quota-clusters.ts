/**
 * The clusters an overall quota is split over, as one rebalancing pass sees them: derived each
 * pass from the logical cloud's lifecycle status (so references added or removed by anyone count
 * from the next pass on), each with what its budget quota says now or, when it cannot be read,
 * what was last known.
 */
import { readBudgetQuota, type BudgetQuotaState } from '../../controllers/budget-quota.controller.js';
import { messageOf } from '../../controllers/cluster-context.js';
import { pairsToMap } from '../../db/named-record-store.js';
import type { ClusterGateway } from '../../kubernetes/cluster-gateway.js';
import type { LifecycleDocument } from '../lifecycle/lifecycle-status.store.js';
import { maxBig, toMilli } from './milli-quantity.js';
import type { ClusterAssignment } from './overall-quota-assignment.store.js';

/** A cluster of the logical cloud during one pass. */
export interface MemberCluster {
  reference: string;
  provider: string;
  cluster: string;
  /** Applied there: its budget quotas may be written. */
  applied: boolean;
  gateway?: ClusterGateway;
  /** Why the cluster could not be reached. */
  error?: string;
}

/** What may be admitted without a limit: counted as more than any budget. */
export const UNBOUNDED = 2n ** 126n;

/** The members of a pass: every placement of the logical cloud (a removed cluster counts until its namespace is gone). */
export async function memberClusters(
  doc: LifecycleDocument,
  connect: (provider: string, cluster: string) => Promise<ClusterGateway>,
): Promise<MemberCluster[]> {
  return Promise.all(
    doc.placements.map(async (p) => {
      const state = doc.clusters.find((c) => c.reference === p.reference)?.state;
      const member: MemberCluster = { ...p, applied: state === 'Applied' };
      try {
        member.gateway = await connect(p.provider, p.cluster);
      } catch (error) {
        member.error = messageOf(error);
      }
      return member;
    }),
  );
}

/** One cluster's view of one overall quota, per normalized key (milli-units). */
export interface KeyView {
  /** As written now (undefined: no limit on that key there). */
  spec?: bigint;
  committed: bigint;
  used: bigint;
}

export interface ClusterQuotaView {
  member: MemberCluster;
  reachable: boolean;
  /** The quota as read (undefined: not there, or not reachable). */
  read?: BudgetQuotaState;
  keys: Map<string, KeyView>;
  message?: string;
}

const milliOf = (map: Record<string, string>, key: string): bigint | undefined =>
  map[key] === undefined ? undefined : map[key] === 'unbounded' ? UNBOUNDED : toMilli(map[key]!);

/** What a cluster may admit of each key, from its quota as read now (the stored `last` only adds to it). */
export function viewFromRead(
  member: MemberCluster,
  read: BudgetQuotaState | undefined,
  keys: string[],
  last: ClusterAssignment | undefined,
): ClusterQuotaView {
  const lastAssigned = pairsToMap(last?.assigned);
  const view: ClusterQuotaView = { member, reachable: true, ...(read ? { read } : {}), keys: new Map() };
  for (const key of keys) {
    const spec = read ? milliOf(read.spec, key) : undefined;
    const status = read ? milliOf(read.statusHard, key) : undefined;
    const used = (read ? milliOf(read.used, key) : undefined) ?? 0n;
    // No limit written for the key (or none confirmed): the cluster may admit anything.
    const bound = spec === undefined || status === undefined ? UNBOUNDED : maxBig(spec, status);
    const stored = milliOf(lastAssigned, key) ?? 0n;
    view.keys.set(key, {
      ...(spec !== undefined ? { spec } : {}),
      committed: maxBig(maxBig(bound, used), stored),
      used,
    });
  }
  return view;
}

/** An unreachable cluster: what it was last known to admit and use (nothing written there: nothing counted). */
export function viewFromLast(
  member: MemberCluster,
  keys: string[],
  last: ClusterAssignment | undefined,
  message: string,
): ClusterQuotaView {
  const committed = pairsToMap(last?.committed);
  const used = pairsToMap(last?.used);
  const view: ClusterQuotaView = { member, reachable: false, keys: new Map(), message };
  for (const key of keys) {
    view.keys.set(key, { committed: milliOf(committed, key) ?? 0n, used: milliOf(used, key) ?? 0n });
  }
  return view;
}

/** Reads one cluster's budget quota; an unreachable cluster is viewed from what was last known. */
export async function viewCluster(
  member: MemberCluster,
  namespace: string,
  quota: string,
  keys: string[],
  last: ClusterAssignment | undefined,
): Promise<ClusterQuotaView> {
  if (!member.gateway) return viewFromLast(member, keys, last, member.error ?? 'not reachable');
  try {
    const read = await readBudgetQuota(member.gateway, namespace, quota);
    // Not applied there and no budget quota: the tenant has nothing there, or an earlier pass left what `last` says.
    if (!read && !member.applied) return { ...viewFromLast(member, keys, last, 'not applied'), reachable: true };
    return viewFromRead(member, read, keys, last);
  } catch (error) {
    return viewFromLast(member, keys, last, messageOf(error));
  }
}
