/** The budget split (pure): exact quantities, the dynamic and static split, and how far a raise may go. */
import { describe, expect, it } from '@jest/globals';
import { fromMilli, stepOf, toMilli } from '../../src/features/overall-quotas/milli-quantity.js';
import { overallQuotaStatus } from '../../src/features/overall-quotas/overall-quota-report.js';
import {
  raiseAllowed,
  splitKey,
  type ClusterKeyState,
} from '../../src/features/overall-quotas/overall-quota.assignment.js';

const c = (reference: string, used: number, committed: number, writable = true): ClusterKeyState => ({
  reference,
  used: BigInt(used) * 1000n,
  committed: BigInt(committed) * 1000n,
  writable,
});
/** A split of whole units (pods), as plain numbers. */
const pods = (clusters: ClusterKeyState[], hard: number, reserve = 0) =>
  Object.fromEntries(
    [...splitKey({ hard: BigInt(hard) * 1000n, step: 1000n, reserve: BigInt(reserve) * 1000n, clusters })].map(
      ([r, v]) => [r, Number(v / 1000n)],
    ),
  );

describe('quantities in milli-units', () => {
  it('parses units exactly, never through a float', () => {
    expect(toMilli('500m')).toBe(500n);
    expect(toMilli('1.5Gi')).toBe(1610612736000n);
    expect(toMilli('0.1')).toBe(100n);
    expect(toMilli('1e3')).toBe(1000000n);
    expect(toMilli('1.1k')).toBe(1100000n);
    expect(toMilli('1n')).toBe(1n); // below a milli-unit: rounded up, as Kubernetes does
    expect(toMilli('123456789012345678901')).toBe(123456789012345678901000n);
    expect(toMilli('lots')).toBeUndefined();
  });

  it('writes milli-units back as quantities', () => {
    expect(fromMilli(4000n)).toBe('4');
    expect(fromMilli(1500n)).toBe('1500m');
    expect(fromMilli(1610612736000n)).toBe('1610612736');
  });

  it('splits CPU in milli-CPUs and everything else in whole units', () => {
    expect(stepOf('requests.cpu')).toBe(1n);
    expect(stepOf('limits.cpu')).toBe(1n);
    expect(stepOf('pods')).toBe(1000n);
    expect(stepOf('requests.memory')).toBe(1000n);
  });
});

describe('the dynamic split', () => {
  it('splits an idle budget equally, the odd unit to the cluster holding most', () => {
    expect(pods([c('a', 0, 0), c('b', 0, 0)], 4)).toEqual({ a: 2, b: 2 });
    expect(pods([c('a', 0, 1), c('b', 0, 3)], 5)).toEqual({ a: 2, b: 3 });
  });

  it('gives the free headroom to the cluster at its assignment: one busy cluster may use the whole budget', () => {
    expect(pods([c('a', 2, 2), c('b', 0, 2)], 4)).toEqual({ a: 4, b: 0 });
    expect(pods([c('a', 4, 4), c('b', 0, 0)], 4)).toEqual({ a: 4, b: 0 });
  });

  it('moves freed headroom to the other cluster once nobody presses', () => {
    expect(pods([c('a', 2, 4), c('b', 0, 0)], 4)).toEqual({ a: 3, b: 1 });
    expect(pods([c('a', 2, 3), c('b', 1, 1)], 4)).toEqual({ a: 2, b: 2 });
  });

  it('keeps the reserve on an idle cluster, even when the busy one presses', () => {
    expect(pods([c('a', 2, 2), c('b', 0, 2)], 4, 1)).toEqual({ a: 3, b: 1 });
    expect(pods([c('a', 3, 3), c('b', 0, 1)], 4, 1)).toEqual({ a: 3, b: 1 });
  });

  it('counts an unreachable cluster with what it may admit, never as zero', () => {
    expect(pods([c('a', 2, 2), c('b', 0, 2, false)], 4)).toEqual({ a: 2 });
    expect(pods([c('a', 0, 0), c('b', 1, 3, false)], 4)).toEqual({ a: 1 });
  });

  it('never assigns more than hard, also when use is above it (hard lowered): nothing is evicted', () => {
    const split = pods([c('a', 6, 6), c('b', 2, 2)], 4);
    expect(split.a! + split.b!).toBeLessThanOrEqual(4);
    expect(split).toEqual({ a: 3, b: 1 });
  });

  it('splits milli-CPUs exactly', () => {
    const split = splitKey({
      hard: 1500n,
      step: 1n,
      reserve: 0n,
      clusters: [
        { reference: 'a', used: 0n, committed: 0n, writable: true },
        { reference: 'b', used: 0n, committed: 0n, writable: true },
        { reference: 'c', used: 0n, committed: 0n, writable: true },
      ],
    });
    expect([...split.values()]).toEqual([500n, 500n, 500n]);
  });
});

describe('the static split and raises', () => {
  it('writes the shares as given, 0 for a cluster without one', () => {
    const shares = new Map([['a', 3000n]]);
    const split = splitKey({ hard: 5000n, step: 1000n, reserve: 0n, clusters: [c('a', 0, 0), c('b', 0, 0)], shares });
    expect(Object.fromEntries(split)).toEqual({ a: 3000n, b: 0n });
  });

  it('raises only as far as what the other clusters may admit leaves of hard', () => {
    // b may still admit 3 (its lower is not confirmed): a gets 1, not the 2 it should have.
    expect(raiseAllowed(4000n, 4000n, { committed: 1000n, used: 1000n }, 2000n)).toBe(1000n);
    expect(raiseAllowed(4000n, 2000n, { committed: 1000n, used: 1000n }, 3000n)).toBe(3000n);
    expect(raiseAllowed(4000n, 6000n, { committed: 1000n, used: 1000n }, 3000n)).toBe(0n);
  });
});

describe('the status report', () => {
  it('sums used and assigned over the clusters and says when use is above a lowered hard', () => {
    const report = overallQuotaStatus({
      _id: 'x/total',
      logicalCloudId: 'x',
      quota: 'total',
      project: 'p',
      logicalCloud: 'lc',
      hard: [
        { key: 'pods', value: '4' },
        { key: 'requests.cpu', value: '1' },
      ],
      updatedAt: new Date(),
      clusters: [
        {
          reference: 'a',
          provider: 'p',
          cluster: 'a',
          reachable: true,
          assigned: [
            { key: 'pods', value: '3' },
            { key: 'requests.cpu', value: '500m' },
          ],
          committed: [],
          used: [
            { key: 'pods', value: '5' },
            { key: 'requests.cpu', value: '250m' },
          ],
        },
        {
          reference: 'b',
          provider: 'p',
          cluster: 'b',
          reachable: false,
          assigned: [
            { key: 'pods', value: '1' },
            { key: 'requests.cpu', value: '500m' },
          ],
          committed: [],
          used: [],
        },
      ],
    });
    expect(report.keys).toEqual([
      { key: 'pods', hard: '4', used: '5', assigned: '4', overUsed: true },
      { key: 'requests.cpu', hard: '1', used: '250m', assigned: '1' },
    ]);
    expect(report.clusters.map((c) => [c.reference, c.reachable])).toEqual([
      ['a', true],
      ['b', false],
    ]);
  });
});
