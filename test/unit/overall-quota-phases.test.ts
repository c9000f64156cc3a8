/**
 * The order of writes that keeps the budget's invariant: lowerings first and confirmed, raises
 * only within what every cluster may admit; an unconfirmed or failed lowering keeps the old share counted.
 */
import { describe, expect, it } from '@jest/globals';
import type { BudgetQuotaState } from '../../src/controllers/budget-quota.controller.js';
import type { ClusterGateway } from '../../src/kubernetes/cluster-gateway.js';
import type { ClusterQuotaView } from '../../src/features/overall-quotas/overall-quota-clusters.js';
import { lowerFirst, raiseWithin, type Writer } from '../../src/features/overall-quotas/overall-quota-phases.js';
import { budgetTerms } from '../../src/features/overall-quotas/overall-quota-report.js';

const terms = budgetTerms({
  description: '',
  userData1: '',
  userData2: '',
  hard: [{ key: 'pods', value: '4' }],
  assignment: 'dynamic',
  static: [],
  reserve: [],
});

/** A reachable, applied cluster whose budget quota says `spec` and uses `used` pods. */
function view(reference: string, spec: number, used: number): ClusterQuotaView {
  const s = String(spec);
  return {
    member: { reference, provider: 'p', cluster: reference, applied: true, gateway: {} as ClusterGateway },
    reachable: true,
    read: { spec: { pods: s }, statusHard: { pods: s }, used: { pods: String(used) } },
    keys: new Map([
      [
        'pods',
        { spec: BigInt(spec) * 1000n, committed: BigInt(Math.max(spec, used)) * 1000n, used: BigInt(used) * 1000n },
      ],
    ]),
  };
}

const targets = (a: number, b: number) =>
  new Map([
    ['a', new Map([['pods', BigInt(a) * 1000n]])],
    ['b', new Map([['pods', BigInt(b) * 1000n]])],
  ]);

/** A writer that records every write, confirming lowerings as `confirm` says. */
function recorder(confirm: (hard: Record<string, string>) => BudgetQuotaState | undefined | Error) {
  const writes: string[] = [];
  const write: Writer = async (v, next, why) => {
    const hard = { pods: String(Number(next.get('pods')! / 1000n)) };
    writes.push(`${why} ${v.member.reference} ${hard.pods}`);
    const outcome = confirm(hard);
    if (outcome instanceof Error) throw outcome;
    return outcome;
  };
  return { writes, write };
}

describe('writing a new split', () => {
  it('lowers the giver, confirmed, before it raises the receiver', async () => {
    const views = [view('a', 4, 2), view('b', 0, 0)];
    const { writes, write } = recorder((hard) => ({ spec: hard, statusHard: hard, used: { pods: '2' } }));
    expect(await lowerFirst(views, targets(2, 2), ['pods'], terms, write)).toBe(true);
    expect(await raiseWithin(views, targets(2, 2), ['pods'], terms, write)).toBe(true);
    expect(writes).toEqual(['lower a 2', 'raise b 2']);
  });

  it('a lowering not confirmed in time keeps the old share counted: nothing is raised', async () => {
    const views = [view('a', 4, 2), view('b', 0, 0)];
    const { writes, write } = recorder(() => undefined);
    await lowerFirst(views, targets(2, 2), ['pods'], terms, write);
    await raiseWithin(views, targets(2, 2), ['pods'], terms, write);
    expect(writes).toEqual(['lower a 2']);
  });

  it('a pod admitted under the old limit before the lowering took hold is counted: the raise is smaller', async () => {
    const views = [view('a', 4, 2), view('b', 0, 0)];
    // Confirmed, but by then a had admitted a third pod.
    const { writes, write } = recorder((hard) => ({ spec: hard, statusHard: hard, used: { pods: '3' } }));
    await lowerFirst(views, targets(2, 2), ['pods'], terms, write);
    await raiseWithin(views, targets(2, 2), ['pods'], terms, write);
    expect(writes).toEqual(['lower a 2', 'raise b 1']);
  });

  it('a failed lowering raises nothing, and without a writer nothing is written but the need is told', async () => {
    const views = [view('a', 4, 2), view('b', 0, 0)];
    const failing = recorder(() => new Error('unreachable'));
    await lowerFirst(views, targets(2, 2), ['pods'], terms, failing.write);
    await raiseWithin(views, targets(2, 2), ['pods'], terms, failing.write);
    expect(failing.writes).toEqual(['lower a 2']);
    const fresh = [view('a', 4, 2), view('b', 0, 0)];
    expect(await lowerFirst(fresh, targets(2, 2), ['pods'], terms, undefined)).toBe(true);
    expect(await lowerFirst([view('a', 2, 2), view('b', 2, 0)], targets(2, 2), ['pods'], terms, undefined)).toBe(false);
  });
});
