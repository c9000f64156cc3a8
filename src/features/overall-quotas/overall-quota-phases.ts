/**
 * The two phases of writing a new split, in the order that keeps the invariant: every lowering
 * first, each confirmed enforced by its cluster, then the raises, each only as far as what every
 * cluster may admit (read after the lowerings) leaves of `hard`. Without a writer they only tell
 * whether anything is to be written.
 */
import type { BudgetQuotaState } from '../../controllers/budget-quota.controller.js';
import { messageOf } from '../../controllers/cluster-context.js';
import { raiseAllowed } from './overall-quota.assignment.js';
import { viewFromRead, type ClusterQuotaView } from './overall-quota-clusters.js';
import type { BudgetTerms } from './overall-quota-report.js';
import { fromMilli, maxBig, minBig, sumBig, toMilli } from './milli-quantity.js';

export const sameQuantity = (a: string | undefined, b: string | undefined) =>
  a !== undefined && b !== undefined && toMilli(a) === toMilli(b);

export const specOf = (view: ClusterQuotaView, keys: string[]): Map<string, bigint | undefined> =>
  new Map(keys.map((k) => [k, view.keys.get(k)?.spec]));

export const writable = (v: ClusterQuotaView) => v.reachable && v.member.applied && v.member.gateway !== undefined;

export type Writer = (
  view: ClusterQuotaView,
  next: Map<string, bigint | undefined>,
  why: 'lower' | 'raise',
) => Promise<BudgetQuotaState | undefined>;

export const quantities = (map: Map<string, bigint | undefined>): Record<string, string> => {
  const out: Record<string, string> = {};
  for (const [k, v] of map) if (v !== undefined) out[k] = fromMilli(v);
  return out;
};

/** Phase 1: every lowering (or creation: from no limit at all), each confirmed enforced; `views` updated. */
export async function lowerFirst(
  views: ClusterQuotaView[],
  targets: Map<string, Map<string, bigint>>,
  keys: string[],
  terms: BudgetTerms,
  write: Writer | undefined,
): Promise<boolean> {
  let any = false;
  for (const [i, view] of views.entries()) {
    if (!writable(view)) continue;
    const target = targets.get(view.member.reference)!;
    const current = specOf(view, keys);
    const lowered = new Map(keys.map((k) => [k, minBig(current.get(k) ?? target.get(k)!, target.get(k)!)]));
    const extraKeys = Object.keys(view.read?.spec ?? {}).some((k) => !terms.hard.has(k));
    if (!extraKeys && keys.every((k) => lowered.get(k) === current.get(k))) continue;
    any = true;
    if (!write) continue;
    try {
      const confirmed = await write(view, lowered, 'lower');
      views[i] = confirmed
        ? viewFromRead(view.member, confirmed, keys, undefined)
        : { ...view, message: 'the lowered quota was not enforced in time: its earlier limit still counts' };
    } catch (error) {
      views[i] = { ...view, message: messageOf(error) };
    }
  }
  return any;
}

/** Phase 2: each raise only as far as the budget allows given what every cluster may admit now. */
export async function raiseWithin(
  views: ClusterQuotaView[],
  targets: Map<string, Map<string, bigint>>,
  keys: string[],
  terms: BudgetTerms,
  write: Writer | undefined,
): Promise<boolean> {
  let any = false;
  for (const [i, view] of views.entries()) {
    if (!writable(view)) continue;
    const target = targets.get(view.member.reference)!;
    const current = specOf(view, keys);
    const next = new Map(current);
    for (const key of keys) {
      const total = sumBig(views.map((v) => v.keys.get(key)!.committed));
      const allowed = raiseAllowed(terms.hard.get(key)!, total, view.keys.get(key)!, target.get(key)!);
      if (current.get(key) !== undefined && allowed > current.get(key)!) next.set(key, allowed);
    }
    if (keys.every((k) => next.get(k) === current.get(k))) continue;
    any = true;
    if (!write) continue;
    // Counted as raised from now on, whether or not the write gets through.
    const counted = new Map(view.keys);
    for (const key of keys) {
      const k = counted.get(key)!;
      const spec = next.get(key);
      counted.set(key, { ...k, ...(spec !== undefined ? { spec } : {}), committed: maxBig(k.committed, spec ?? 0n) });
    }
    views[i] = { ...view, keys: counted };
    try {
      await write(view, next, 'raise');
    } catch (error) {
      views[i] = { ...views[i]!, message: messageOf(error) };
    }
  }
  return any;
}
