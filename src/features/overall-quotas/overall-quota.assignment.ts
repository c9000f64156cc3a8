/**
 * The budget split, pure: for one quota key, what each cluster of the logical cloud is assigned.
 * All amounts are milli-units (BigInt); a cluster's share is a whole number of `step`s.
 *
 * Dynamic: every writable cluster gets what it uses plus `reserve` (when the budget allows; else
 * the budget is split in proportion to that need, nothing above it). The free rest goes to the
 * clusters that are at their assignment and use something (they are the ones refusing work);
 * when none is, it is split equally. A cluster that cannot be written (unreachable, not applied)
 * keeps what it may admit counted against the budget: its last known assignment, never zero.
 * Static: each cluster gets its share as given (0 when not listed).
 */
import { maxBig, minBig, sumBig } from './milli-quantity.js';

export interface ClusterKeyState {
  reference: string;
  /** Reachable and applied: its quota may be written now. */
  writable: boolean;
  /** What the cluster may admit as far as known (its quota's spec, status, the last written value): counted against the budget. */
  committed: bigint;
  used: bigint;
}

export interface KeySplitInput {
  hard: bigint;
  step: bigint;
  reserve: bigint;
  clusters: ClusterKeyState[];
  /** Static assignment: reference → share (absent: dynamic). */
  shares?: Map<string, bigint>;
}

const ceilSteps = (v: bigint, step: bigint): bigint => (v <= 0n ? 0n : (v + step - 1n) / step);
const floorSteps = (v: bigint, step: bigint): bigint => (v <= 0n ? 0n : v / step);

/** The assignment of every writable cluster (milli-units); clusters that cannot be written are left out. */
export function splitKey(input: KeySplitInput): Map<string, bigint> {
  const { hard, step, reserve } = input;
  const writable = input.clusters.filter((c) => c.writable);
  const result = new Map<string, bigint>();
  if (input.shares) {
    for (const c of writable) result.set(c.reference, input.shares.get(c.reference) ?? 0n);
    return result;
  }
  if (writable.length === 0) return result;
  const fixed = sumBig(input.clusters.filter((c) => !c.writable).map((c) => c.committed));
  const available = floorSteps(hard - fixed, step);
  const base = new Map(writable.map((c) => [c.reference, ceilSteps(c.used + reserve, step)]));
  const needed = sumBig(base.values());
  if (needed > available) {
    for (const [reference, steps] of shortSplit(writable, available, step, reserve))
      result.set(reference, steps * step);
    return result;
  }
  let free = available - needed;
  const pressed = writable.filter((c) => c.used > 0n && c.committed <= c.used + reserve);
  const recipients = (pressed.length > 0 ? pressed : writable)
    .slice()
    // Remainder steps go to those holding most already (less movement), then by name.
    .sort((a, b) =>
      a.committed === b.committed ? a.reference.localeCompare(b.reference) : a.committed > b.committed ? -1 : 1,
    );
  const each = free / BigInt(recipients.length);
  const extra = new Map<string, bigint>();
  for (const c of recipients) extra.set(c.reference, each);
  free -= each * BigInt(recipients.length);
  for (const c of recipients) {
    if (free === 0n) break;
    extra.set(c.reference, extra.get(c.reference)! + 1n);
    free -= 1n;
  }
  for (const c of writable) result.set(c.reference, (base.get(c.reference)! + (extra.get(c.reference) ?? 0n)) * step);
  return result;
}

/**
 * How far a cluster's quota of one key may be raised now without the budget's sum of what the
 * clusters may admit going over `hard`: `total` is that sum as just read (this cluster included).
 */
export function raiseAllowed(
  hard: bigint,
  total: bigint,
  cluster: { committed: bigint; used: bigint },
  target: bigint,
): bigint {
  const others = total - cluster.committed;
  const room = hard - others;
  return maxBig(0n, minBig(target, room));
}

/**
 * Not enough for everyone's use and reserve: first what each uses (in proportion to use when
 * even that does not fit: the budget was lowered below it, or a lost cluster holds it), then the
 * rest as reserve, equally, the least used clusters first (an idle cluster keeps its headroom).
 */
function shortSplit(
  writable: ClusterKeyState[],
  available: bigint,
  step: bigint,
  reserve: bigint,
): Map<string, bigint> {
  const used = new Map(writable.map((c) => [c.reference, ceilSteps(c.used, step)]));
  const totalUsed = sumBig(used.values());
  const split = new Map<string, bigint>();
  if (totalUsed >= available) {
    for (const c of writable)
      split.set(c.reference, totalUsed === 0n ? 0n : (available * used.get(c.reference)!) / totalUsed);
    return split;
  }
  const reserveSteps = ceilSteps(reserve, step);
  let left = available - totalUsed;
  const each = minBig(reserveSteps, left / BigInt(writable.length));
  left -= each * BigInt(writable.length);
  const order = writable
    .slice()
    .sort((a, b) => (a.used === b.used ? a.reference.localeCompare(b.reference) : a.used < b.used ? -1 : 1));
  for (const c of order) {
    const extra = left > 0n && each < reserveSteps ? 1n : 0n;
    left -= extra;
    split.set(c.reference, used.get(c.reference)! + each + extra);
  }
  return split;
}
