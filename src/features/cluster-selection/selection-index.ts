/**
 * Which logical clouds' selectors could match a cluster, kept in memory so that a relabel
 * re-evaluates only those (not every logical cloud). Each selector is filed under one anchor
 * that a cluster it matches must carry: its first matchLabels pair, else the values of an `In`
 * expression, else the key of an `Exists` expression; a selector without any (only NotIn /
 * DoesNotExist, or empty) may match any cluster and is always a candidate. Pure.
 */
import type { ClusterSelector } from '../../domain/logical-cloud.js';

const pairKey = (key: string, value: string) => `${key}\u0000${value}`;

export class SelectionIndex {
  private readonly byPair = new Map<string, Set<string>>();
  private readonly byKey = new Map<string, Set<string>>();
  private readonly anywhere = new Set<string>();
  /** Where each logical cloud is filed, to take it out again. */
  private readonly filed = new Map<string, { map: Map<string, Set<string>> | undefined; keys: string[] }>();

  get size(): number {
    return this.filed.size;
  }

  /** Files (or files again) a logical cloud's selector; undefined removes it. */
  set(logicalCloudId: string, selector: ClusterSelector | undefined): void {
    this.remove(logicalCloudId);
    if (!selector) return;
    const [first] = selector.matchLabels ?? [];
    const inExpression = selector.matchExpressions?.find((e) => e.operator === 'In');
    const exists = selector.matchExpressions?.find((e) => e.operator === 'Exists');
    let filing: { map: Map<string, Set<string>> | undefined; keys: string[] };
    if (first) filing = { map: this.byPair, keys: [pairKey(first.key, first.value)] };
    else if (inExpression)
      filing = { map: this.byPair, keys: (inExpression.values ?? []).map((v) => pairKey(inExpression.key, v)) };
    else if (exists) filing = { map: this.byKey, keys: [exists.key] };
    else filing = { map: undefined, keys: [] };
    if (filing.map) for (const key of filing.keys) add(filing.map, key, logicalCloudId);
    else this.anywhere.add(logicalCloudId);
    this.filed.set(logicalCloudId, filing);
  }

  remove(logicalCloudId: string): void {
    const filing = this.filed.get(logicalCloudId);
    if (!filing) return;
    this.filed.delete(logicalCloudId);
    if (!filing.map) {
      this.anywhere.delete(logicalCloudId);
      return;
    }
    for (const key of filing.keys) {
      const set = filing.map.get(key);
      set?.delete(logicalCloudId);
      if (set?.size === 0) filing.map.delete(key);
    }
  }

  /** The logical clouds whose selectors could match a cluster with any of these label sets (e.g. before and after a relabel). */
  candidates(...labelSets: Record<string, string>[]): Set<string> {
    const found = new Set(this.anywhere);
    for (const labels of labelSets) {
      for (const [key, value] of Object.entries(labels)) {
        for (const id of this.byPair.get(pairKey(key, value)) ?? []) found.add(id);
        for (const id of this.byKey.get(key) ?? []) found.add(id);
      }
    }
    return found;
  }
}

function add(map: Map<string, Set<string>>, key: string, id: string): void {
  const set = map.get(key) ?? new Set<string>();
  set.add(id);
  map.set(key, set);
}
