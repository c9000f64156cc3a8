/** The cluster selector (Kubernetes semantics), its schema, the index of candidates and the reference plan: pure. */
import { describe, expect, it } from '@jest/globals';
import type { ClusterReferenceRecord, ClusterSelector } from '../../src/domain/logical-cloud.js';
import { selectorMismatch, type SelectableCluster } from '../../src/features/cluster-selection/cluster-selector.js';
import { ClusterSelectorSchema, selectorData } from '../../src/features/cluster-selection/cluster-selector.schema.js';
import { SelectionIndex } from '../../src/features/cluster-selection/selection-index.js';
import { evaluateSelection, referenceChanges } from '../../src/features/cluster-selection/selection-plan.js';
import { fieldProblems } from '../../src/http/validation.js';

const cluster = (provider: string, name: string, labels: Record<string, string> = {}): SelectableCluster => ({
  provider,
  name,
  labels,
});
const selector = (body: unknown): ClusterSelector => selectorData(ClusterSelectorSchema.parse(body));

describe('selectorMismatch: Kubernetes label-selector semantics', () => {
  const edgeEast = cluster('edge', 'c1', { tier: 'edge', zone: 'east' });
  const bare = cluster('core', 'c2');

  it('matchLabels: every pair must be set', () => {
    expect(selectorMismatch(selector({ matchLabels: { tier: 'edge' } }), edgeEast)).toBeUndefined();
    expect(selectorMismatch(selector({ matchLabels: { tier: 'edge', zone: 'west' } }), edgeEast)).toMatch(
      /^labels: zone=west/,
    );
  });

  it('In, NotIn, Exists, DoesNotExist', () => {
    const is = (expr: unknown, c: SelectableCluster) =>
      selectorMismatch(selector({ matchExpressions: [expr] }), c) === undefined;
    expect(is({ key: 'zone', operator: 'In', values: ['east', 'west'] }, edgeEast)).toBe(true);
    expect(is({ key: 'zone', operator: 'In', values: ['west'] }, edgeEast)).toBe(false);
    expect(is({ key: 'zone', operator: 'In', values: ['east'] }, bare)).toBe(false);
    expect(is({ key: 'zone', operator: 'NotIn', values: ['east'] }, edgeEast)).toBe(false);
    // NotIn also selects a cluster without the label, as in Kubernetes.
    expect(is({ key: 'zone', operator: 'NotIn', values: ['east'] }, bare)).toBe(true);
    expect(is({ key: 'tier', operator: 'Exists' }, edgeEast)).toBe(true);
    expect(is({ key: 'tier', operator: 'Exists' }, bare)).toBe(false);
    expect(is({ key: 'tier', operator: 'DoesNotExist' }, bare)).toBe(true);
    expect(is({ key: 'tier', operator: 'DoesNotExist' }, edgeEast)).toBe(false);
  });

  it('providers limit the clusters; an empty selector selects every cluster', () => {
    expect(selectorMismatch(selector({ providers: ['edge'] }), bare)).toMatch(/^provider: core/);
    expect(selectorMismatch(selector({}), bare)).toBeUndefined();
  });
});

describe('ClusterSelectorSchema: a clear 400 naming the field', () => {
  const fields = (body: unknown) => {
    const result = ClusterSelectorSchema.safeParse(body);
    return result.success ? [] : fieldProblems(result.error, 'spec.clusterSelector').map((p) => p.field);
  };

  it('names the field of each mistake', () => {
    expect(fields({ matchExpressions: [{ key: 'zone', operator: 'In' }] })).toEqual([
      'spec.clusterSelector.matchExpressions.0.values',
    ]);
    expect(fields({ matchExpressions: [{ key: 'zone', operator: 'Exists', values: ['a'] }] })).toEqual([
      'spec.clusterSelector.matchExpressions.0.values',
    ]);
    expect(fields({ matchExpressions: [{ key: 'zone', operator: 'Near' }] })).toEqual([
      'spec.clusterSelector.matchExpressions.0.operator',
    ]);
    expect(fields({ matchExpressions: [{ key: '', operator: 'Exists' }] })).toEqual([
      'spec.clusterSelector.matchExpressions.0.key',
    ]);
    expect(fields({ matchLabels: { tier: 'x'.repeat(64) } })).toEqual(['spec.clusterSelector.matchLabels.tier']);
    expect(fields({ providers: ['Not A Name'] })).toEqual(['spec.clusterSelector.providers.0']);
    expect(fields({ labels: {} })).toEqual(['spec.clusterSelector.labels']);
  });

  it('stores label keys with dots as pairs', () => {
    expect(selector({ matchLabels: { 'topology.kubernetes.io/zone': 'east' } }).matchLabels).toEqual([
      { key: 'topology.kubernetes.io/zone', value: 'east' },
    ]);
  });
});

describe('SelectionIndex: only the logical clouds whose selectors could match a cluster', () => {
  it('files each selector under one anchor, and the rest everywhere', () => {
    const index = new SelectionIndex();
    index.set(
      'by-label',
      selector({ matchLabels: { tier: 'edge' }, matchExpressions: [{ key: 'x', operator: 'Exists' }] }),
    );
    index.set('by-in', selector({ matchExpressions: [{ key: 'zone', operator: 'In', values: ['east', 'west'] }] }));
    index.set('by-key', selector({ matchExpressions: [{ key: 'gpu', operator: 'Exists' }] }));
    index.set('anywhere', selector({ matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['core'] }] }));
    expect([...index.candidates({ tier: 'edge' })].sort()).toEqual(['anywhere', 'by-label']);
    expect([...index.candidates({ zone: 'west' })].sort()).toEqual(['anywhere', 'by-in']);
    expect([...index.candidates({ gpu: 'a100' }, { tier: 'edge' })].sort()).toEqual(['anywhere', 'by-key', 'by-label']);
    expect([...index.candidates({})]).toEqual(['anywhere']);
    index.set('by-label', selector({ matchLabels: { tier: 'core' } }));
    expect(index.candidates({ tier: 'edge' }).has('by-label')).toBe(false);
    index.remove('by-in');
    expect(index.candidates({ zone: 'east' }).has('by-in')).toBe(false);
    index.set('anywhere', undefined);
    expect(index.size).toBe(2);
  });

  it('never leaves out a logical cloud whose selection a relabel changes (against a full evaluation)', () => {
    const selectors = [
      { matchLabels: { tier: 'edge' } },
      { matchExpressions: [{ key: 'zone', operator: 'In', values: ['east'] }] },
      { matchExpressions: [{ key: 'gpu', operator: 'Exists' }] },
      { matchExpressions: [{ key: 'gpu', operator: 'DoesNotExist' }] },
      { matchExpressions: [{ key: 'zone', operator: 'NotIn', values: ['east'] }] },
    ].map(selector);
    const index = new SelectionIndex();
    selectors.forEach((s, i) => index.set(String(i), s));
    const labelSets: Record<string, string>[] = [
      {},
      { tier: 'edge' },
      { zone: 'east' },
      { zone: 'west', gpu: 'x' },
      { tier: 'edge', zone: 'east' },
    ];
    for (const before of labelSets)
      for (const after of labelSets) {
        const changed = selectors
          .map((s, i) => [
            i,
            selectorMismatch(s, cluster('p', 'c', before)) !== selectorMismatch(s, cluster('p', 'c', after)),
          ])
          .filter(([, differs]) => differs)
          .map(([i]) => String(i));
        const candidates = index.candidates(before, after);
        for (const id of changed) expect(candidates.has(id)).toBe(true);
      }
  });
});

describe('the selection and the reference changes that follow it', () => {
  const clusters = [
    cluster('edge', 'c1', { tier: 'edge' }),
    cluster('edge', 'c2', { tier: 'edge' }),
    cluster('core', 'c2', { tier: 'edge' }),
    cluster('core', 'c9', {}),
  ];
  const ref = (name: string, provider: string, c: string, flags: { selected?: boolean; orphaned?: boolean } = {}) =>
    ({
      id: name,
      scope: { logicalCloudId: 'lc' },
      name,
      revision: 1,
      createdAt: new Date(0),
      updatedAt: new Date(0),
      data: {
        clusterProvider: provider,
        cluster: c,
        loadbalancerIp: '',
        description: '',
        userData1: '',
        userData2: '',
        ...flags,
      },
    }) as ClusterReferenceRecord;

  it('selects what matches and what the policy admits, giving a reason for the rest', () => {
    const selection = evaluateSelection({
      selector: selector({ matchLabels: { tier: 'edge' } }),
      clusters,
      admitted: (c) => c.provider === 'edge',
      unreachable: (c) => (c.name === 'c2' ? 'unreachable: no answer' : undefined),
    });
    expect(selection.selected).toEqual([
      { provider: 'edge', cluster: 'c1' },
      { provider: 'edge', cluster: 'c2', pending: 'unreachable: no answer' },
    ]);
    expect(selection.excluded.map((e) => [e.provider, e.cluster, e.reason])).toEqual([
      ['core', 'c2', 'project policy'],
      ['core', 'c9', 'labels'],
    ]);
  });

  it('names a reference after its cluster when unambiguous, never references a cluster twice', () => {
    const selection = evaluateSelection({ selector: selector({}), clusters, admitted: () => true });
    const changes = referenceChanges(selection, [ref('hand', 'edge', 'c1')], clusters, 'Terminate');
    expect(changes.create).toEqual([
      { name: 'edge-c2', provider: 'edge', cluster: 'c2' },
      { name: 'core-c2', provider: 'core', cluster: 'c2' },
      { name: 'c9', provider: 'core', cluster: 'c9' },
    ]);
  });

  it('removes (Terminate) or orphans (Keep) a selected reference whose cluster left; never a hand one', () => {
    const selection = evaluateSelection({
      selector: selector({ providers: ['core'] }),
      clusters,
      admitted: () => true,
    });
    const refs = [
      ref('c1', 'edge', 'c1', { selected: true }),
      ref('mine', 'edge', 'c2'),
      ref('core-c2', 'core', 'c2', { selected: true, orphaned: true }),
    ];
    const terminate = referenceChanges(selection, refs, clusters, 'Terminate');
    expect(terminate.remove.map((r) => r.name)).toEqual(['c1']);
    expect(terminate.adopt.map((r) => r.name)).toEqual(['core-c2']);
    const keep = referenceChanges(selection, refs, clusters, 'Keep');
    expect({ remove: keep.remove, orphan: keep.orphan.map((r) => r.name) }).toEqual({ remove: [], orphan: ['c1'] });
  });
});
