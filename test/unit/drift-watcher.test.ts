/** The drift watcher's scheduling, on fake watches: what starts a check, how often, and what a broken watch does. */
import { describe, expect, it } from '@jest/globals';
import pino from 'pino';
import { DriftWatcher, WATCHED_KINDS, type WatchEventType, type WatchingConnection } from '../../src/features/drift/drift-watcher.js';
import type { ClusterRecord } from '../../src/features/cluster-registry/cluster.service.js';

type Handlers = Parameters<WatchingConnection['watch']>[3];

const cluster = { id: 'c1', scope: { provider: 'p' }, name: 'c', revision: 1, createdAt: new Date(), updatedAt: new Date(), data: {} } as unknown as ClusterRecord;
const object = (id: string, extra: Record<string, unknown> = {}) => ({ kind: 'RoleBinding', metadata: { name: 'b', uid: `uid-${id}`, labels: { 'dcm.onap.org/logical-cloud-id': id } }, ...extra });

function setUp(opts: { failFirstWatches?: number } = {}) {
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
      logicalCloudsOn: async () => ['lc-resync'],
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
  const emit = (kind: string, type: WatchEventType, id: string, extra: Record<string, unknown> = {}) => watches.get(kind)!.event(type, object(id, extra));
  return { watcher, watches, checks, emit, busy: (id: string) => (busyOnce = new Set([id])) };
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
    const { watcher, checks, emit, busy } = setUp();
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
});
