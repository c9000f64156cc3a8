/** Drift as the DCM sees it: what differs between what it applies and what a cluster has, and what a check may write. */
import { describe, expect, it } from '@jest/globals';
import { describeDifferences, objectDifferences, quantityValue } from '../../src/kubernetes/object-differences.js';
import { DriftRecorder } from '../../src/features/drift/drift-recorder.js';

const labels = { 'app.kubernetes.io/managed-by': 'dcm', 'dcm.onap.org/logical-cloud-id': 'lc-1' };
const quota = (hard: Record<string, string>) => ({
  apiVersion: 'v1',
  kind: 'ResourceQuota',
  metadata: { name: 'dcm-quota-q', namespace: 'ns', labels },
  spec: { hard },
});
const binding = (group: string) => ({
  apiVersion: 'rbac.authorization.k8s.io/v1',
  kind: 'RoleBinding',
  metadata: { name: 'dcm-p', namespace: 'ns', labels },
  roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'dcm-p' },
  subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: group }],
});

describe('object differences', () => {
  it('finds none where the cluster has what the DCM applied, plus what the API server and others add', () => {
    const actual = {
      ...binding('g'),
      metadata: {
        ...binding('g').metadata,
        uid: 'u',
        resourceVersion: '7',
        labels: { ...labels, team: 'x' },
        managedFields: [],
      },
    };
    expect(objectDifferences(binding('g'), actual)).toEqual([]);
  });

  it('finds an edited quota value, and reads quantities as quantities', () => {
    expect(
      objectDifferences(
        quota({ pods: '10', cpu: '1', memory: '1Gi' }),
        quota({ pods: '99', cpu: '1000m', memory: '1073741824' }),
      ),
    ).toEqual([{ path: 'spec.hard.pods', desired: '10', actual: '99' }]);
    expect(quantityValue('500m')).toBe(0.5);
    expect(quantityValue('2Ki')).toBe(2048);
    expect(quantityValue('1e3')).toBe(1000);
    expect(quantityValue('ten')).toBeUndefined();
  });

  it('owns a quota hard map whole: a key someone added is drift', () => {
    expect(objectDifferences(quota({ pods: '10' }), quota({ pods: '10', secrets: '1' }))).toEqual([
      { path: 'spec.hard.secrets', desired: undefined, actual: '1' },
    ]);
  });

  it('compares lists whole (a subject swapped) and labels the DCM set (one changed)', () => {
    expect(objectDifferences(binding('dcm:lc:1:a'), binding('someone'))).toEqual([
      { path: 'subjects', desired: binding('dcm:lc:1:a').subjects, actual: binding('someone').subjects },
    ]);
    const relabelled = {
      ...binding('g'),
      metadata: { ...binding('g').metadata, labels: { ...labels, 'dcm.onap.org/logical-cloud-id': 'other' } },
    };
    expect(objectDifferences(binding('g'), relabelled).map((d) => d.path)).toEqual([
      'metadata.labels.dcm.onap.org/logical-cloud-id',
    ]);
  });

  it('never shows the values of a Secret (the CA key), only where they differ', () => {
    const secret = (key: string) => ({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'cacerts', namespace: 'istio-x', labels },
      data: { 'ca-key.pem': key },
    });
    const differences = objectDifferences(secret('U0VDUkVULUtFWQ=='), secret('T1RIRVI='));
    expect(differences.map((d) => d.path)).toEqual(['data.ca-key.pem']);
    const text = describeDifferences(differences);
    expect(text).not.toContain('U0VDUkVULUtFWQ');
    expect(text).not.toContain('T1RIRVI');
  });

  it('describes at most a few differences, counting the rest', () => {
    const text = describeDifferences(
      [1, 2, 3, 4, 5].map((i) => ({ path: `p${i}`, desired: 'a', actual: 'b' })),
      2,
    );
    expect(text).toBe('p1: "b", want "a"; p2: "b", want "a"; and 3 more');
  });
});

/** A cluster of a few objects, counting writes. */
function fakeConnection(objects: Record<string, Record<string, unknown>>) {
  const writes: string[] = [];
  const key = (r: { kind: string; name: string; namespace?: string }) => `${r.kind}/${r.namespace ?? ''}/${r.name}`;
  return {
    writes,
    connection: {
      apply: async <T extends object>(o: T) => {
        const obj = o as { kind: string; metadata: { name: string; namespace?: string } };
        writes.push(`apply ${obj.kind}`);
        objects[key({ kind: obj.kind, ...obj.metadata })] = o as Record<string, unknown>;
        return o;
      },
      read: async <T extends object>(r: { apiVersion?: string; kind: string; name: string; namespace?: string }) =>
        objects[key(r)] as T | undefined,
      delete: async (r: { apiVersion?: string; kind: string; name: string; namespace?: string }) => {
        writes.push(`delete ${r.kind}`);
        const there = key(r) in objects;
        delete objects[key(r)];
        return there;
      },
      requestToken: async () => 'token',
      close: () => undefined,
    },
  };
}

describe('the drift recorder', () => {
  it('notes a deleted and a changed object and, repairing, lets the writes through', async () => {
    const { connection, writes } = fakeConnection({ 'ResourceQuota/ns/dcm-quota-q': quota({ pods: '99' }) });
    const recorder = new DriftRecorder('repair');
    const wrapped = recorder.wrap(connection);
    await wrapped.apply(binding('g'));
    await wrapped.apply(quota({ pods: '10' }));
    await wrapped.apply(quota({ pods: '10' })); // now restored: nothing more to note
    expect(recorder.findings).toEqual([
      { kind: 'RoleBinding', name: 'dcm-p', namespace: 'ns', change: 'deleted', details: 'not on the cluster' },
      {
        kind: 'ResourceQuota',
        name: 'dcm-quota-q',
        namespace: 'ns',
        change: 'changed',
        details: 'spec.hard.pods: "99", want "10"',
      },
    ]);
    expect(writes).toEqual(['apply RoleBinding', 'apply ResourceQuota', 'apply ResourceQuota']);
  });

  it('reports without writing when reconcile is paused, and refuses other writes', async () => {
    const { connection, writes } = fakeConnection({ 'Role/ns/stray': { kind: 'Role' } });
    const recorder = new DriftRecorder('report');
    const wrapped = recorder.wrap(connection);
    await wrapped.apply(binding('g'));
    expect(
      await wrapped.delete({
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'Role',
        name: 'stray',
        namespace: 'ns',
      }),
    ).toBe(true);
    expect(
      await wrapped.delete({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', name: 'gone', namespace: 'ns' }),
    ).toBe(false);
    await expect(wrapped.requestToken()).rejects.toThrow(/paused/);
    expect(writes).toEqual([]);
    expect(recorder.findings.map((f) => `${f.kind} ${f.name} ${f.change}`)).toEqual([
      'RoleBinding dcm-p deleted',
      'Role stray unexpected',
    ]);
  });

  it('notes a namespace being deleted as such', async () => {
    const { connection } = fakeConnection({
      'Namespace//ns': {
        kind: 'Namespace',
        metadata: { name: 'ns', deletionTimestamp: '2026-11-30T00:00:00Z', labels },
      },
    });
    const recorder = new DriftRecorder('repair');
    await recorder.wrap(connection).apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'ns', labels } });
    expect(recorder.findings).toEqual([
      { kind: 'Namespace', name: 'ns', change: 'deleting', details: 'being deleted since 2026-11-30T00:00:00Z' },
    ]);
  });
});
