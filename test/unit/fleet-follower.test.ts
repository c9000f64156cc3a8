/**
 * The fleet follower's reads, on in-memory stores that count their calls: a periodic turn reads
 * the logical clouds that select clusters (and those followed before), never every logical cloud
 * nor every cluster reference; a relabel finds a selector however it was written.
 */
import { describe, expect, it } from '@jest/globals';
import pino from 'pino';
import type {
  ClusterReferenceData,
  ClusterReferenceRecord,
  LogicalCloudRecord,
} from '../../src/domain/logical-cloud.js';
import { FleetFollower } from '../../src/features/cluster-selection/cluster-selection.job.js';
import type { Fleet } from '../../src/features/cluster-selection/cluster-selection.service.js';
import type { SelectionState } from '../../src/features/cluster-selection/cluster-selection.store.js';
import { ClusterSelectorSchema, selectorData } from '../../src/features/cluster-selection/cluster-selector.schema.js';
import { evaluateSelection } from '../../src/features/cluster-selection/selection-plan.js';
import { LOGICAL_CLOUD_DERIVED } from '../../src/features/logical-clouds/logical-cloud.store.js';

const record = <T>(id: string, scope: Record<string, string>, name: string, data: T) => ({
  id,
  scope,
  name,
  revision: 1,
  createdAt: new Date(0),
  updatedAt: new Date(0),
  data,
});
const logicalCloud = (id: string, selector?: unknown) =>
  record(id, { project: 'p' }, id, {
    namespace: `ns-${id}`,
    ...(selector ? { clusterSelector: selectorData(ClusterSelectorSchema.parse(selector)) } : {}),
  }) as unknown as LogicalCloudRecord;
const CLUSTERS = [
  { provider: 'edge', name: 'c1', labels: { tier: 'edge' } },
  { provider: 'edge', name: 'c2', labels: {} },
];

function setUp(count: number) {
  const calls: string[] = [];
  const lcs = new Map<string, LogicalCloudRecord>();
  for (let i = 0; i < count; i++) lcs.set(`lc-${i}`, logicalCloud(`lc-${i}`));
  const refs: ClusterReferenceRecord[] = [];
  const states = new Map<string, SelectionState>();
  const idsOf = (filter: Record<string, unknown>) => {
    const lc = filter.logicalCloudId as string | { $in: string[] } | undefined;
    return typeof lc === 'string' ? [lc] : lc?.$in;
  };
  const follower = new FleetFollower({
    selection: {
      fleet: async () => {
        calls.push('fleet');
        return { clusters: CLUSTERS, unreachable: () => undefined, policies: new Map() } as Fleet;
      },
      evaluate: async (lc, fleet) =>
        evaluateSelection({ selector: lc.data.clusterSelector, clusters: fleet.clusters, admitted: () => true }),
    },
    logicalClouds: {
      // As the store asks the database: `{ selects: true }`, derived from the data at every write.
      selecting: async () => {
        calls.push('logicalClouds.selecting');
        return [...lcs.values()].filter((lc) => LOGICAL_CLOUD_DERIVED.selects(lc.data));
      },
      getById: async (id) => {
        calls.push(`logicalClouds.getById ${id}`);
        return lcs.get(id);
      },
    },
    references: {
      findWhere: async (_scope, filter) => {
        const ids = idsOf(filter);
        calls.push(`references.findWhere ${ids ? ids.join(',') : JSON.stringify(filter)}`);
        return refs.filter((r) => !ids || ids.includes(r.scope.logicalCloudId!));
      },
      create: async (scope, name, data) => {
        const created = record(`${scope.logicalCloudId}/${name}`, scope, name, data as ClusterReferenceData);
        refs.push(created);
        return created;
      },
      delete: async (scope, name) => {
        const at = refs.findIndex((r) => r.scope.logicalCloudId === scope.logicalCloudId && r.name === name);
        if (at >= 0) refs.splice(at, 1);
        return at >= 0;
      },
      update: async () => ({ kind: 'not-found' }),
      count: async ({ logicalCloudId }) => refs.filter((r) => r.scope.logicalCloudId === logicalCloudId).length,
    },
    state: {
      get: async (id) => {
        calls.push(`state.get ${id}`);
        return states.get(id) ?? null;
      },
      all: async () => {
        calls.push('state.all');
        return [...states.values()];
      },
      put: async (s) => void states.set(s._id, s),
      settle: async (id) => void (states.get(id)!.applyOwed = false),
      owed: async () => [...states.values()].filter((s) => s.applyOwed).map((s) => s._id),
      forget: async (id) => void states.delete(id),
      forgetUnchanged: async ({ _id, changedAt }) => {
        const s = states.get(_id);
        if (s && s.changedAt === changedAt && !s.applyOwed) states.delete(_id);
      },
    },
    lifecycle: { apply: async () => undefined as never, terminate: async () => undefined as never },
    status: { get: async () => null },
    lease: { store: { acquire: async () => true }, id: 'job:following the fleet', holder: 'r', ttlMs: 10_000 },
    logger: pino({ level: 'silent' }),
  });
  const take = () => calls.splice(0);
  const referenced = (lc: string) => refs.filter((r) => r.scope.logicalCloudId === lc).map((r) => r.name);
  return { follower, lcs, refs, states, take, referenced };
}

describe('the periodic turn reads what selects, not every logical cloud', () => {
  it('with 10,000 logical clouds of which none selects: two small reads, no scan, no fleet', async () => {
    const { follower, take } = setUp(10_000);
    await follower.sweep();
    expect(take().sort()).toEqual(['logicalClouds.selecting', 'state.all']);
  });

  it('with some that select: reads those alone, and one whose selector was removed until it is followed', async () => {
    const t = setUp(1000);
    t.lcs.set('lc-7', logicalCloud('lc-7', { matchLabels: { tier: 'edge' } }));
    t.lcs.set('lc-8', logicalCloud('lc-8', { providers: ['core'] }));
    await t.follower.logicalCloudChanged('lc-7', 'created');
    expect(t.referenced('lc-7')).toEqual(['c1']);
    // Its selector removed through a replica that died before following: the selected reference stays until a turn.
    t.lcs.set('lc-7', logicalCloud('lc-7'));
    t.take();
    await t.follower.sweep();
    expect(t.take().sort()).toEqual([
      'fleet',
      'logicalClouds.getById lc-7',
      'logicalClouds.selecting',
      'references.findWhere lc-8,lc-7',
      'state.all',
    ]);
    expect(t.referenced('lc-7')).toEqual([]);
    // Nothing left to follow there: it leaves the followed ones, and the next turns read lc-8 alone.
    await t.follower.sweep();
    expect(t.states.has('lc-7')).toBe(false);
    t.take();
    await t.follower.sweep();
    expect(t.take().sort()).toEqual(['fleet', 'logicalClouds.selecting', 'references.findWhere lc-8', 'state.all']);
  });
});

describe('a relabel', () => {
  it('finds the selectors as stored now (also one written through another replica), and reads only the candidates', async () => {
    const t = setUp(100);
    t.lcs.set('lc-edge', logicalCloud('lc-edge', { matchLabels: { tier: 'edge' } }));
    t.lcs.set('lc-gpu', logicalCloud('lc-gpu', { matchExpressions: [{ key: 'gpu', operator: 'Exists' }] }));
    await t.follower.clusterChanged({}, { tier: 'edge' }, 'cluster edge/c1 relabelled');
    expect(t.referenced('lc-edge')).toEqual(['c1']);
    expect(t.take().filter((c) => c.startsWith('references') || c.startsWith('logicalClouds'))).toEqual([
      'logicalClouds.selecting',
      'references.findWhere lc-edge',
    ]);
  });
});
