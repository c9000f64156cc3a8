/**
 * EMCO's StatusNotify values from the DCM's status (src/grpc/status-notify-view.ts), the
 * registration's checks (src/grpc/status-notify-registration.ts) and who may make which call
 * (statusNotifyAction with the one authorization rule).
 */
import { describe, expect, it } from '@jest/globals';
import { authorize, type Principal } from '../../src/auth/authorize.js';
import { statusNotifyAction } from '../../src/auth/grpc.js';
import type { statusView } from '../../src/features/lifecycle/lifecycle.schema.js';
import { parseRegistration } from '../../src/grpc/status-notify-registration.js';
import { statusNotification, type StatusQuery } from '../../src/grpc/status-notify-view.js';

type Body = ReturnType<typeof statusView>;
type Cluster = Body['clusters'][number];

const cluster = (name: string, state: Cluster['state'], extra: Partial<Cluster> = {}): Cluster =>
  ({
    'cluster-reference': name,
    'cluster-provider': 'prov',
    cluster: name,
    state,
    'mesh-status': 'None',
    resources: [
      { category: 'namespace', kind: 'Namespace', name: 'ns', status: 'Created' },
      { category: 'user-certificate', kind: 'Certificate', name: 'user-1', status: 'Created' },
    ],
    ...extra,
  }) as Cluster;
const body = (state: Body['state'], clusters: Cluster[]): Body => ({ state, clusters }) as unknown as Body;
const query = (q: Partial<StatusQuery> = {}): StatusQuery => ({
  statusType: 'DEPLOYED',
  output: 'SUMMARY',
  clusters: [],
  resources: [],
  ...q,
});

describe('StatusNotify values', () => {
  it('DEPLOYED only when instantiated with every cluster applied', () => {
    expect(statusNotification(body('Created', []), query()).statusValue).toBe('NOT_DEPLOYED');
    const applying = body('Instantiating', [cluster('c1', 'Applied'), cluster('c2', 'Applying')]);
    expect(statusNotification(applying, query()).statusValue).toBe('NOT_DEPLOYED');
    const done = body('Instantiated', [cluster('c1', 'Applied'), cluster('c2', 'Applied')]);
    expect(statusNotification(done, query()).statusValue).toBe('DEPLOYED');
    expect(statusNotification(done, query({ statusType: 'READY' })).statusValue).toBe('READY');
    const gone = body('Terminated', [cluster('c1', 'Terminated'), cluster('c2', 'Terminated')]);
    expect(statusNotification(gone, query()).statusValue).toBe('NOT_DEPLOYED');
  });

  it('STATUS_ERROR for a failed cluster, in the summary and on that cluster', () => {
    const failed = cluster('c2', 'Failed', {
      resources: [{ category: 'namespace', kind: 'Cluster', name: 'c2', status: 'Failed', message: 'unreachable' }],
    });
    const n = statusNotification(
      body('InstantiateFailed', [cluster('c1', 'Applied'), failed]),
      query({ output: 'ALL' }),
    );
    expect(n.statusValue).toBe('STATUS_ERROR');
    expect(n.details.map((d) => d.cluster.statusValue)).toEqual(['DEPLOYED', 'STATUS_ERROR']);
    // The DCM's own record of an unreachable cluster is no Kubernetes object: not listed.
    expect(n.details[1]!.cluster.resources).toEqual([]);
    // Filtered to the cluster that is fine: deployed there.
    expect(
      statusNotification(
        body('InstantiateFailed', [cluster('c1', 'Applied'), failed]),
        query({ clusters: ['prov+c1'] }),
      ).statusValue,
    ).toBe('DEPLOYED');
  });

  it('READY needs the mesh control plane ready where there is one', () => {
    const mesh = (status: 'Pending' | 'Ready') =>
      cluster('c1', 'Applied', {
        'mesh-status': status,
        resources: [{ category: 'mesh', kind: 'Istio', name: 'dcm-p-lc', status }],
      });
    const pending = statusNotification(
      body('Instantiated', [mesh('Pending')]),
      query({ statusType: 'READY', output: 'ALL' }),
    );
    expect(pending.statusValue).toBe('NOT_READY');
    expect(pending.details[0]!.cluster.resources).toEqual([
      { name: 'dcm-p-lc', gvk: { group: 'sailoperator.io', version: 'v1', kind: 'Istio' }, statusValue: 'NOT_READY' },
    ]);
    expect(statusNotification(body('Instantiated', [mesh('Pending')]), query()).statusValue).toBe('DEPLOYED');
    expect(statusNotification(body('Instantiated', [mesh('Ready')]), query({ statusType: 'READY' })).statusValue).toBe(
      'READY',
    );
  });

  it('lists Kubernetes objects with their GVK, filtered by name', () => {
    const n = statusNotification(body('Instantiated', [cluster('c1', 'Applied')]), query({ output: 'ALL' }));
    expect(n.details[0]!.cluster.resources).toEqual([
      { name: 'ns', gvk: { group: '', version: 'v1', kind: 'Namespace' }, statusValue: 'DEPLOYED' },
    ]);
    const none = statusNotification(
      body('Instantiated', [cluster('c1', 'Applied')]),
      query({ output: 'ALL', resources: ['x'] }),
    );
    expect(none.details[0]!.cluster.resources).toEqual([]);
  });
});

describe('StatusNotify registrations', () => {
  const lcKey = { project: 'p1', logicalCloud: 'lc-1' };
  const base = {
    clientId: 'c',
    key: 'lcKey',
    lcKey,
    statusType: 'DEPLOYED',
    apps: [],
    clusters: [],
    resources: [],
    output: 'ALL',
  };

  it('takes an lcKey registration', () => {
    expect(parseRegistration(base)).toEqual({
      clientId: 'c',
      project: 'p1',
      logicalCloud: 'lc-1',
      statusType: 'DEPLOYED',
      output: 'ALL',
      clusters: [],
      resources: [],
    });
  });

  it('refuses the other keys naming them, and names every bad field', () => {
    expect(() => parseRegistration({ ...base, key: 'digKey', lcKey: null })).toThrow(/^digKey: /);
    expect(() => parseRegistration({ ...base, key: 'clusterKey', lcKey: null })).toThrow(/^clusterKey: /);
    expect(() => parseRegistration({ ...base, statusType: 'STATUS_ERROR' })).toThrow(
      /statusType: must be DEPLOYED or READY/,
    );
    expect(() => parseRegistration({ ...base, statusType: 7 })).toThrow(/statusType/);
    expect(() => parseRegistration({ ...base, resources: ['r'.repeat(254)] })).toThrow(
      /resources\.0: an entry is at most 253/,
    );
    expect(() => parseRegistration({ ...base, clientId: 'a b' })).toThrow(/clientId: printable ASCII/);
  });

  it('authorizes a registration like WatchStatus; a deregistration and a refused key need only a caller', () => {
    const team: Principal = {
      name: 't',
      source: 'token',
      admin: false,
      projects: new Set(['p1']),
      logicalClouds: new Set(),
    };
    const other: Principal = { ...team, projects: new Set(['p2']) };
    const action = statusNotifyAction('StatusRegister', base)!;
    expect(action).toEqual({ resource: 'logical-cloud', project: 'p1', logicalCloud: 'lc-1', operation: 'status' });
    expect(authorize(team, action).allowed).toBe(true);
    expect(authorize(other, action).allowed).toBe(false);
    expect(statusNotifyAction('StatusDeregister', { clientId: 'c' })).toBeUndefined();
    expect(statusNotifyAction('StatusRegister', { ...base, key: 'digKey' })).toBeUndefined();
    expect(authorize(team, statusNotifyAction('Other', {})!).allowed).toBe(false);
  });
});
