/**
 * The terms of a budget in milli-units (what the rebalancer splits), what a pass records of
 * each cluster, and the report of it in the logical cloud's status: per overall quota and key,
 * `hard`, `used` and `assigned` (sums) and per cluster `assigned` / `used` / reachable.
 */
import { pairsToMap, type KeyValue } from '../../db/named-record-store.js';
import type { LogicalCloudRecord } from '../../domain/logical-cloud.js';
import { normalizeQuotaKey } from '../../validation/quota-key.js';
import { fromMilli, stepOf, sumBig, toMilli } from './milli-quantity.js';
import type { AssignmentDocument, ClusterAssignment } from './overall-quota-assignment.store.js';
import { UNBOUNDED, type ClusterQuotaView } from './overall-quota-clusters.js';
import type { OverallQuotaData } from './overall-quota.schema.js';
import type { OverallQuotaStatus } from '../../domain/overall-quota.js';

export interface BudgetTerms {
  hard: Map<string, bigint>;
  reserve: Map<string, bigint>;
  steps: Map<string, bigint>;
  /** Static assignment: key → reference → share. */
  shares?: Map<string, Map<string, bigint>>;
}

const milliMap = (pairs: KeyValue[]): Map<string, bigint> =>
  new Map(pairs.map(({ key, value }) => [normalizeQuotaKey(key), toMilli(value) ?? 0n]));

export function budgetTerms(data: OverallQuotaData): BudgetTerms {
  const hard = milliMap(data.hard);
  const terms: BudgetTerms = {
    hard,
    reserve: milliMap(data.reserve),
    steps: new Map([...hard.keys()].map((k) => [k, stepOf(k)])),
  };
  if (data.assignment === 'static') {
    const shares = new Map([...hard.keys()].map((k) => [k, new Map<string, bigint>()]));
    for (const share of data.static)
      for (const [key, value] of milliMap(share.hard)) shares.get(key)?.set(share.reference, value);
    terms.shares = shares;
  }
  return terms;
}

const pairsOf = (views: Map<string, bigint | undefined>): KeyValue[] =>
  [...views]
    .filter(([, v]) => v !== undefined)
    .map(([key, v]) => ({ key, value: v! >= UNBOUNDED ? 'unbounded' : fromMilli(v!) }));

export function assignmentDocument(
  lc: LogicalCloudRecord,
  quota: string,
  terms: BudgetTerms,
  views: ClusterQuotaView[],
): Omit<AssignmentDocument, '_id' | 'updatedAt'> {
  const clusters: ClusterAssignment[] = views.map((v) => {
    const keys = [...v.keys];
    const entry: ClusterAssignment = {
      reference: v.member.reference,
      provider: v.member.provider,
      cluster: v.member.cluster,
      assigned: pairsOf(new Map(keys.map(([k, s]) => [k, s.spec]))),
      committed: pairsOf(new Map(keys.map(([k, s]) => [k, s.committed]))),
      used: pairsOf(new Map(keys.map(([k, s]) => [k, s.used]))),
      reachable: v.reachable,
      ...(v.message ? { message: v.message } : {}),
    };
    // An unreachable cluster keeps what was last written there as its assignment.
    if (!v.reachable) entry.assigned = entry.committed;
    return entry;
  });
  return {
    logicalCloudId: lc.id,
    quota,
    project: lc.scope.project!,
    logicalCloud: lc.name,
    hard: [...terms.hard].map(([key, v]) => ({ key, value: fromMilli(v) })),
    clusters,
  };
}

export function overallQuotaStatus(doc: AssignmentDocument): OverallQuotaStatus {
  const total = (pick: (c: ClusterAssignment) => KeyValue[], key: string) =>
    sumBig(doc.clusters.map((c) => toMilli(pairsToMap(pick(c))[key] ?? '0') ?? 0n));
  return {
    name: doc.quota,
    keys: doc.hard.map(({ key, value }) => {
      const used = total((c) => c.used, key);
      const hard = toMilli(value) ?? 0n;
      return {
        key,
        hard: value,
        used: fromMilli(used),
        assigned: fromMilli(total((c) => c.assigned, key)),
        ...(used > hard ? { overUsed: true } : {}),
      };
    }),
    clusters: doc.clusters.map((c) => ({
      reference: c.reference,
      reachable: c.reachable,
      assigned: pairsToMap(c.assigned),
      used: pairsToMap(c.used),
      ...(c.message ? { message: c.message } : {}),
    })),
  };
}
