/**
 * The operation runner's bound on operations worked at once per replica
 * (DCM_OPERATIONS_CONCURRENCY): a burst of operations is worked a few at a time, in the order
 * they came, each keeping its lease while it waits; a failing one gives its turn on.
 */
import { describe, expect, it } from '@jest/globals';
import type { LeaseStore } from '../../src/db/lease-store.js';
import { OperationRunner } from '../../src/features/lifecycle/operation-runner.js';
import type { StopRequestStore } from '../../src/features/lifecycle/stop-requests.store.js';
import { pino } from 'pino';

const leases = {
  acquire: async () => true,
  renew: async () => true,
  release: async () => undefined,
} as unknown as LeaseStore;
const stops = {
  requested: async () => false,
  clear: async () => undefined,
  request: async () => undefined,
} as unknown as StopRequestStore;

/** An operation that runs until told to finish. */
function gate() {
  let open = () => undefined as void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { open, opened };
}

const turn = () => new Promise((resolve) => setImmediate(resolve));

describe('OperationRunner: operations at once per replica', () => {
  it('works at most maxRunning operations at once, the others in the order they came', async () => {
    const runner = new OperationRunner(
      leases,
      { replicaId: 'r1', leaseTtlMs: 60_000, stops, maxRunning: 2 },
      pino({ level: 'silent' }),
    );
    const gates = Array.from({ length: 5 }, gate);
    const started: number[] = [];
    gates.forEach((g, i) =>
      runner.start(
        `lc-${i}`,
        async () => {
          started.push(i);
          await g.opened;
        },
        async () => undefined,
      ),
    );
    await turn();
    expect(started).toEqual([0, 1]);
    expect(runner.queued).toBe(3);
    // Every operation, waiting or not, is this replica's: it holds the logical cloud.
    expect(gates.map((_, i) => runner.isRunning(`lc-${i}`) && runner.holds(`lc-${i}`))).toEqual([
      true,
      true,
      true,
      true,
      true,
    ]);

    gates[1]!.open();
    await turn();
    expect(started).toEqual([0, 1, 2]);
    gates[0]!.open();
    gates[2]!.open();
    await turn();
    await turn();
    expect(started).toEqual([0, 1, 2, 3, 4]);
    expect(runner.queued).toBe(0);
    gates[3]!.open();
    gates[4]!.open();
    await runner.idle();
  });

  it('an operation that fails gives its turn to the next one', async () => {
    const runner = new OperationRunner(
      leases,
      { replicaId: 'r1', leaseTtlMs: 60_000, stops, maxRunning: 1 },
      pino({ level: 'silent' }),
    );
    const failures: string[] = [];
    const ran: string[] = [];
    runner.start(
      'lc-fails',
      async () => {
        ran.push('lc-fails');
        throw new Error('boom');
      },
      async (error) => {
        failures.push((error as Error).message);
      },
    );
    runner.start(
      'lc-next',
      async () => {
        ran.push('lc-next');
      },
      async () => undefined,
    );
    await runner.idle();
    expect(ran).toEqual(['lc-fails', 'lc-next']);
    expect(failures).toEqual(['boom']);
    expect(runner.queued).toBe(0);
  });

  it('without a bound every operation starts at once', async () => {
    const runner = new OperationRunner(
      leases,
      { replicaId: 'r1', leaseTtlMs: 60_000, stops },
      pino({ level: 'silent' }),
    );
    const g = gate();
    const started: string[] = [];
    for (let i = 0; i < 20; i++) {
      runner.start(
        `lc-${i}`,
        async () => {
          started.push(`lc-${i}`);
          await g.opened;
        },
        async () => undefined,
      );
    }
    await turn();
    expect(started).toHaveLength(20);
    g.open();
    await runner.idle();
  });
});
