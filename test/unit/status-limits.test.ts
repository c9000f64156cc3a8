/**
 * Issue 14 item 2: what an operation's status keeps per cluster is bounded. 350 resources × 350
 * groups used to make a 24 MB status document that MongoDB refused; now the first
 * LIMITS.statusWarnings warnings are kept and the others counted (`warningsOmitted`, shown by the
 * status view), resource lines are bounded without changing what the view derives from them, and
 * every message is clipped. The same on a real MongoDB-protocol server: test/integration/rest-limits.test.ts.
 */
import { describe, expect, it } from '@jest/globals';
import type { ResourceStatus } from '../../src/controllers/cluster-context.js';
import type { LogicalCloudRecord } from '../../src/domain/logical-cloud.js';
import {
  boundedClusterStatus,
  type ClusterStatus,
  type LifecycleDocument,
} from '../../src/features/lifecycle/lifecycle-status.store.js';
import { statusView } from '../../src/features/lifecycle/lifecycle.schema.js';
import { omittedWarnings, type RuleWarning } from '../../src/kubernetes/discovery.js';
import { LIMITS } from '../../src/validation/limits.js';

const warning = (i: number, message = `warning ${i}`): RuleWarning => ({
  permission: `p${i}`,
  resource: 'pods',
  group: 'example.com',
  message,
});

const cluster = (change: Partial<ClusterStatus>): ClusterStatus => ({
  reference: 'cluster-1',
  provider: 'provider-1',
  cluster: 'cluster-1',
  state: 'Applied',
  resources: [],
  warnings: [],
  ...change,
});

describe('boundedClusterStatus', () => {
  it('keeps the first 20 warnings and counts the rest', () => {
    const bounded = boundedClusterStatus(
      cluster({ warnings: Array.from({ length: 350 * 350 }, (_, i) => warning(i)) }),
    );
    expect(bounded.warnings).toHaveLength(LIMITS.statusWarnings);
    expect(bounded.warnings.map((w) => w.message)).toEqual(Array.from({ length: 20 }, (_, i) => `warning ${i}`));
    expect(bounded.warningsOmitted).toBe(350 * 350 - 20);
    expect(JSON.stringify(bounded).length).toBeLessThan(16 * 1024);
  });

  it('counts the warnings a controller already left out (omittedWarnings), and lists none for them', () => {
    const bounded = boundedClusterStatus(cluster({ warnings: [warning(1), omittedWarnings(4980), warning(2)] }));
    expect(bounded.warnings.map((w) => w.message)).toEqual(['warning 1', 'warning 2']);
    expect(bounded.warningsOmitted).toBe(4980);
  });

  it('is idempotent, and leaves a small status as it is (no omitted counts)', () => {
    const big = boundedClusterStatus(cluster({ warnings: Array.from({ length: 50 }, (_, i) => warning(i)) }));
    expect(boundedClusterStatus(big)).toEqual(big);
    const small = cluster({
      warnings: [warning(1)],
      resources: [{ category: 'namespace', kind: 'Namespace', name: 'ns-1', status: 'Created' }],
    });
    expect(boundedClusterStatus(small)).toEqual(small);
    expect(boundedClusterStatus(small)).not.toHaveProperty('warningsOmitted');
  });

  it('clips every message', () => {
    const long = 'x'.repeat(100_000);
    const bounded = boundedClusterStatus(
      cluster({
        warnings: [warning(1, long)],
        resources: [{ category: 'role', kind: 'Role', name: 'r', status: 'Failed', message: long }],
      }),
    );
    expect(bounded.warnings[0]?.message).toHaveLength(LIMITS.statusMessageLength);
    expect(bounded.resources[0]?.message).toHaveLength(LIMITS.statusMessageLength);
    expect(bounded.resources[0]?.message?.endsWith('…')).toBe(true);
  });

  it('bounds resource lines, keeping every failure and one line per category and state', () => {
    const created = Array.from({ length: 2000 }, (_, i): ResourceStatus => ({
      category: 'role',
      kind: 'Role',
      name: `role-${i}`,
      status: 'Created',
    }));
    const failed: ResourceStatus = {
      category: 'role-binding',
      kind: 'RoleBinding',
      name: 'rb-last',
      status: 'Failed',
      message: 'forbidden',
    };
    const deleted: ResourceStatus = { category: 'quota', kind: 'ResourceQuota', name: 'q', status: 'Deleted' };
    const bounded = boundedClusterStatus(cluster({ resources: [...created, deleted, failed] }));
    expect(bounded.resources).toHaveLength(LIMITS.statusResources);
    expect(bounded.resourcesOmitted).toBe(2002 - LIMITS.statusResources);
    expect(bounded.resources).toEqual(expect.arrayContaining([failed, deleted]));
    // In their order: the kept Role lines first, the failure last.
    expect(bounded.resources.at(-1)).toEqual(failed);
  });
});

describe('statusView', () => {
  it('shows the warnings kept and how many were omitted', () => {
    const status = {
      _id: 'id-1',
      project: 'p1',
      logicalCloud: 'lc-1',
      state: 'Instantiated',
      operation: { kind: 'apply', inProgress: false, requestedAt: new Date() },
      placements: [],
      clusters: [
        boundedClusterStatus(cluster({ warnings: Array.from({ length: 25 }, (_, i) => warning(i)) })),
        cluster({ reference: 'cluster-2', warnings: [warning(1)] }),
      ],
    } as LifecycleDocument;
    const logicalCloud = { name: 'lc-1', data: { description: '' } } as unknown as LogicalCloudRecord;
    const view = statusView({ logicalCloud, status, credentials: null, health: new Map(), drift: [] });
    expect(view.clusters.map((c) => [c.warnings.length, c.warningsOmitted])).toEqual([
      [20, 5],
      [1, 0],
    ]);
  });
});
