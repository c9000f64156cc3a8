/** The drift checker's decisions, with the lifecycle faked: when it checks, what it records, and the overall state after a repair. */
import { describe, expect, it } from '@jest/globals';
import pino from 'pino';
import { ConflictError } from '../../src/errors.js';
import { DriftChecker, type DriftRepairTarget } from '../../src/features/drift/drift-checker.js';
import type { DriftEvent } from '../../src/features/drift/drift-events.store.js';
import type { ClusterStatus, LifecycleDocument } from '../../src/features/lifecycle/lifecycle-status.store.js';
import type { LogicalCloudRecord } from '../../src/domain/logical-cloud.js';

const lc = (reconcile?: 'paused') =>
  ({
    id: 'lc-1',
    name: 'lc',
    data: { level: '1', ...(reconcile ? { reconcile } : {}) },
  }) as unknown as LogicalCloudRecord;
const cluster = (state: ClusterStatus['state']): ClusterStatus => ({
  reference: 'r1',
  provider: 'p',
  cluster: 'c1',
  state,
  resources: [],
  warnings: [],
});
const doc = (state: LifecycleDocument['state'], clusterState: ClusterStatus['state'], inProgress = false) =>
  ({
    _id: 'lc-1',
    project: 'p',
    logicalCloud: 'lc',
    state,
    operation: { kind: 'apply', inProgress, requestedAt: new Date() },
    clusters: [cluster(clusterState)],
    placements: [],
  }) as LifecycleDocument;

/** A binding that is missing on the cluster: what a repair's apply of it notes. */
const missingBinding = {
  apiVersion: 'rbac.authorization.k8s.io/v1',
  kind: 'RoleBinding',
  metadata: { name: 'b', namespace: 'ns' },
};

function setUp(opts: { doc: LifecycleDocument; lc?: LogicalCloudRecord; busy?: boolean; repairFails?: boolean }) {
  let current = opts.doc;
  const recorded: Omit<DriftEvent, '_id'>[] = [];
  const states: string[] = [];
  let writes = 0;
  const target: DriftRepairTarget = {
    status: async () => current,
    logicalCloud: async () => opts.lc ?? lc(),
    exclusive: async (_lc, work) => {
      if (opts.busy) throw new ConflictError('busy');
      return work();
    },
    reconcileCluster: async (_id, _reference, { wrapConnection, writeStatus }) => {
      const connection = wrapConnection({
        apply: async (o: object) => {
          writes++;
          return o;
        },
        read: async () => undefined,
        delete: async () => false,
      });
      await connection.apply(missingBinding);
      const status = cluster(opts.repairFails ? 'Failed' : 'Applied');
      if (opts.repairFails)
        status.resources = [
          { category: 'role-binding', kind: 'RoleBinding', name: 'b', status: 'Failed', message: 'forbidden' },
        ];
      if (writeStatus) current = { ...current, clusters: [status] };
      return status;
    },
    statusChanged: () => undefined,
    setState: async (_id, state) => {
      states.push(state);
      current = { ...current, state };
    },
  };
  const events = {
    record: async (e: Omit<DriftEvent, '_id'>[]) => void recorded.push(...e),
    latest: async () => recorded.map((e, i) => ({ ...e, _id: String(i) })).reverse(),
  };
  return {
    checker: new DriftChecker(target, events, pino({ level: 'silent' })),
    recorded,
    states,
    writes: () => writes,
  };
}

describe('the drift checker', () => {
  it('checks only an applied logical cloud at rest, on a cluster it holds', async () => {
    expect(await setUp({ doc: doc('Instantiating', 'Applying', true) }).checker.check('lc-1', 'p', 'c1')).toBe(
      'skipped',
    );
    expect(await setUp({ doc: doc('Terminated', 'Terminated') }).checker.check('lc-1', 'p', 'c1')).toBe('skipped');
    expect(await setUp({ doc: doc('Instantiated', 'Applied') }).checker.check('lc-1', 'p', 'other')).toBe('skipped');
    expect(await setUp({ doc: doc('Instantiated', 'Applied'), busy: true }).checker.check('lc-1', 'p', 'c1')).toBe(
      'busy',
    );
  });

  it('repairs and records what it restored; the overall state follows the clusters', async () => {
    const { checker, recorded, states, writes } = setUp({ doc: doc('InstantiateFailed', 'Failed') });
    expect(await checker.check('lc-1', 'p', 'c1')).toBe('checked');
    expect(writes()).toBe(1);
    expect(recorded).toEqual([
      expect.objectContaining({
        kind: 'RoleBinding',
        name: 'b',
        namespace: 'ns',
        change: 'deleted',
        action: 'restored',
        reference: 'r1',
        cluster: 'c1',
      }),
    ]);
    expect(states).toEqual(['Instantiated']);
  });

  it('records a failed repair once, and says why', async () => {
    const { checker, recorded, states } = setUp({ doc: doc('Instantiated', 'Applied'), repairFails: true });
    await checker.check('lc-1', 'p', 'c1');
    await checker.check('lc-1', 'p', 'c1');
    expect(recorded).toEqual([expect.objectContaining({ action: 'restore-failed', message: 'forbidden' })]);
    expect(states).toEqual(['InstantiateFailed']);
  });

  it('only reports when paused: nothing written, the same drift reported once', async () => {
    const { checker, recorded, states, writes } = setUp({ doc: doc('Instantiated', 'Applied'), lc: lc('paused') });
    await checker.check('lc-1', 'p', 'c1');
    await checker.check('lc-1', 'p', 'c1');
    expect(writes()).toBe(0);
    expect(recorded).toEqual([expect.objectContaining({ change: 'deleted', action: 'reported' })]);
    expect(states).toEqual([]);
  });
});
