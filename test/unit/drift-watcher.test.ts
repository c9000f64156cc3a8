/** The drift watcher's scheduling, on fake watches: what starts a check, how often, and what a broken watch does. */
import { describe, expect, it } from '@jest/globals';
import pino from 'pino';
import { controlPlaneNamespace } from '../../src/controllers/object-names.js';
import {
  DriftWatcher,
  MAX_OBJECTS_PER_LOGICAL_CLOUD,
  WATCHED_KINDS,
  type WatchEventType,
  type WatchingConnection,
} from '../../src/features/drift/drift-watcher.js';
import type { ClusterRecord } from '../../src/features/cluster-registry/cluster.service.js';

type Handlers = Parameters<WatchingConnection['watch']>[3];

const cluster = {
  id: 'c1',
  scope: { provider: 'p' },
  name: 'c',
  revision: 1,
  createdAt: new Date(),
  updatedAt: new Date(),
  data: {},
} as unknown as ClusterRecord;
/** Each logical cloud of these tests has its namespace `ns-<id>`. */
const namespaceOf = (id: string) => `ns-${id}`;
/** An object of the kind as the API server sends it: namespaced in the logical cloud's namespace, or the Namespace itself. */
const object = (kind: string, id: string, extra: Record<string, unknown> = {}) => {
  const { metadata: more, ...rest } = extra as { metadata?: Record<string, unknown> };
  const place = kind === 'Namespace' ? { name: namespaceOf(id) } : { name: 'b', namespace: namespaceOf(id) };
  return {
    kind,
    metadata: { ...place, uid: `uid-${kind}-${id}`, labels: { 'dcm.onap.org/logical-cloud-id': id }, ...more },
    ...rest,
  };
};

function setUp(opts: { failFirstWatches?: number; applied?: string[] } = {}) {
  // The logical clouds applied on the cluster (what logicalCloudsOn answers); tests add to it.
  const applied = [...(opts.applied ?? ['lc-resync'])];
  let lookups = 0;
  const watches = new Map<string, Handlers>();
  let failures = opts.failFirstWatches ?? 0;
  const checks: string[] = [];
  let busyOnce = new Set<string>();
  const watcher = new DriftWatcher(
    {
      clusters: async () => [cluster],
      connect: () => ({
        watch: async (_v, kind, opts, handlers) => {
          expect(opts.labelSelector).toBe('app.kubernetes.io/managed-by=dcm');
          if (kind === 'RoleBinding' && failures > 0) {
            // Both ways a watch can fail to start: a rejection, or (as the cluster gateway does) closed(error) before it resolves.
            if (failures-- % 2 === 0) throw new Error('connection refused');
            handlers.closed(new Error('connection refused'));
            return { stop: () => undefined };
          }
          watches.set(kind, handlers);
          return { stop: () => watches.delete(kind) };
        },
        close: () => undefined,
      }),
      logicalCloudsOn: async () => {
        lookups++;
        return applied.map((id) => ({ id, namespace: namespaceOf(id) }));
      },
      check: async (id) => {
        checks.push(id);
        if (busyOnce.has(id)) {
          busyOnce.delete(id);
          return 'busy';
        }
        return 'checked';
      },
      logger: pino({ level: 'silent' }),
    },
    { debounceMs: 20, resyncMs: 3_600_000, retryMaxMs: 50, clusterRefreshMs: 3_600_000, concurrency: 2 },
  );
  const emit = (kind: string, type: WatchEventType, id: string, extra: Record<string, unknown> = {}) =>
    watches.get(kind)!.event(type, object(kind, id, extra));
  return {
    watcher,
    watches,
    checks,
    emit,
    applied,
    lookups: () => lookups,
    busy: (id: string) => (busyOnce = new Set([id])),
  };
}

describe('the drift watcher', () => {
  it('watches every managed kind of a cluster and checks its logical clouds once at start', async () => {
    const { watcher, watches, checks } = setUp();
    await watcher.start();
    await watcher.idle();
    expect([...watches.keys()].sort()).toEqual(WATCHED_KINDS.map((k) => k.kind).sort());
    expect(checks).toEqual(['lc-resync']);
    await watcher.stop();
    expect(watches.size).toBe(0);
  });

  it('checks a logical cloud once for a burst of changes, ignores creations, and retries a busy one', async () => {
    const { watcher, checks, emit, busy } = setUp({ applied: ['lc-resync', 'lc-a', 'lc-b', 'lc-q', 'lc-c'] });
    await watcher.start();
    await watcher.idle();
    checks.length = 0;
    emit('RoleBinding', 'ADDED', 'lc-a');
    emit('RoleBinding', 'DELETED', 'lc-a');
    emit('ResourceQuota', 'MODIFIED', 'lc-a', { spec: { hard: { pods: '9' } } });
    emit('Namespace', 'MODIFIED', 'lc-b');
    await watcher.idle();
    expect(checks.sort()).toEqual(['lc-a', 'lc-b']);
    // A quota's usage (status) changing is nobody's drift; its hard changing is.
    checks.length = 0;
    emit('ResourceQuota', 'ADDED', 'lc-q', { spec: { hard: { pods: '9' } }, status: { used: { pods: '1' } } });
    emit('ResourceQuota', 'MODIFIED', 'lc-q', { spec: { hard: { pods: '9' } }, status: { used: { pods: '2' } } });
    await watcher.idle();
    expect(checks).toEqual([]);
    emit('ResourceQuota', 'MODIFIED', 'lc-q', { spec: { hard: { pods: '999' } }, status: { used: { pods: '2' } } });
    await watcher.idle();
    expect(checks).toEqual(['lc-q']);
    checks.length = 0;
    busy('lc-c');
    emit('Role', 'DELETED', 'lc-c');
    await watcher.idle();
    expect(checks).toEqual(['lc-c', 'lc-c']);
    await watcher.stop();
  });

  it('starts a watch that failed or ended again, and resyncs the cluster after a failure', async () => {
    const { watcher, watches, checks } = setUp({ failFirstWatches: 2 });
    await watcher.start();
    await watcher.idle();
    expect(watches.has('RoleBinding')).toBe(false);
    await new Promise<void>((resolve) => {
      const poll = setInterval(() => watches.has('RoleBinding') && (clearInterval(poll), resolve()), 5);
    });
    await watcher.idle();
    expect(checks).toEqual(['lc-resync', 'lc-resync']);
    checks.length = 0;
    watches.get('Role')!.closed(new Error('the API server went away'));
    await new Promise<void>((resolve) => {
      const poll = setInterval(() => watches.has('Role') && checks.length > 0 && (clearInterval(poll), resolve()), 5);
    });
    await watcher.idle();
    expect(checks).toEqual(['lc-resync']);
    await watcher.stop();
  });

  it('ignores objects labelled with ids of no logical cloud applied there: nothing kept, no check, one look-up for a flood', async () => {
    const { watcher, checks, emit, lookups, applied } = setUp();
    await watcher.start();
    await watcher.idle();
    checks.length = 0;
    const readsBefore = lookups();
    // A tenant labels objects as the DCM's, with made-up logical-cloud ids.
    for (let i = 0; i < 500; i++) {
      const id = `made-up-${i}`;
      emit('Secret', 'ADDED', id);
      emit('Secret', 'MODIFIED', id, { data: { x: String(i) } });
      emit('Secret', 'DELETED', id);
    }
    await watcher.idle();
    expect(checks).toEqual([]);
    expect(watcher.keptObjects()).toBe(0);
    // The whole flood is one read of which logical clouds are applied there.
    expect(lookups() - readsBefore).toBe(1);

    // An id that turns out to be a logical cloud applied meanwhile is followed (its change checked once it is known).
    applied.push('lc-new');
    emit('Secret', 'DELETED', 'lc-new');
    await watcher.idle();
    expect(checks).toEqual(['lc-new']);
    checks.length = 0;
    emit('Role', 'ADDED', 'lc-new');
    emit('Role', 'MODIFIED', 'lc-new', { rules: [] });
    await watcher.idle();
    expect(checks).toEqual(['lc-new']);
    expect(watcher.keptObjects()).toBe(1);
    await watcher.stop();
  });

  it('ignores objects of a known logical cloud outside its namespace (but follows its control-plane namespace and cluster-scoped kinds)', async () => {
    const { watcher, checks, emit } = setUp({ applied: ['lc-resync', 'lc-a'] });
    await watcher.start();
    await watcher.idle();
    checks.length = 0;
    emit('RoleBinding', 'MODIFIED', 'lc-a', { metadata: { namespace: 'someone-elses', uid: 'uid-elsewhere' } });
    emit('Namespace', 'MODIFIED', 'lc-a', { metadata: { name: 'someone-elses', uid: 'uid-other-namespace' } });
    await watcher.idle();
    expect(checks).toEqual([]);
    expect(watcher.keptObjects()).toBe(0);
    emit('Secret', 'MODIFIED', 'lc-a', {
      metadata: { namespace: controlPlaneNamespace({ logicalCloudId: 'lc-a' }), uid: 'uid-cacerts' },
    });
    await watcher.idle();
    expect(checks).toEqual(['lc-a']);
    checks.length = 0;
    emit('ClusterRoleBinding', 'DELETED', 'lc-a', { metadata: { namespace: undefined, uid: 'uid-crb' } });
    await watcher.idle();
    expect(checks).toEqual(['lc-a']);
    checks.length = 0;
    emit('RoleBinding', 'DELETED', 'lc-a');
    await watcher.idle();
    expect(checks).toEqual(['lc-a']);
    await watcher.stop();
  });

  it('keeps the content of at most MAX_OBJECTS_PER_LOGICAL_CLOUD objects per logical cloud and cluster', async () => {
    const { watcher, checks, emit } = setUp({ applied: ['lc-resync', 'lc-a', 'lc-b'] });
    await watcher.start();
    await watcher.idle();
    checks.length = 0;
    const many = MAX_OBJECTS_PER_LOGICAL_CLOUD + 50;
    for (let i = 0; i < many; i++)
      emit('Secret', 'ADDED', 'lc-a', {
        metadata: { name: `s-${i}`, namespace: namespaceOf('lc-a'), uid: `uid-s-${i}` },
      });
    emit('Secret', 'ADDED', 'lc-b');
    expect(watcher.keptObjects()).toBe(MAX_OBJECTS_PER_LOGICAL_CLOUD + 1);
    // Another logical cloud's objects are kept whatever one logical cloud has.
    emit('Secret', 'MODIFIED', 'lc-b');
    await watcher.idle();
    expect(checks).toEqual([]);
    for (let i = 0; i < many; i++)
      emit('Secret', 'DELETED', 'lc-a', {
        metadata: { name: `s-${i}`, namespace: namespaceOf('lc-a'), uid: `uid-s-${i}` },
      });
    await watcher.idle();
    expect(checks).toEqual(['lc-a']);
    expect(watcher.keptObjects()).toBe(1);
    await watcher.stop();
    expect(watcher.keptObjects()).toBe(0);
  });
});
