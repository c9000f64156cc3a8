/**
 * The budget quota controller on one cluster: it writes each overall quota's share as a
 * ResourceQuota, and a `count/` key of a kind the cluster does not serve is a warning on that
 * cluster (the quota is still written), never a failure.
 */
import { describe, expect, it } from '@jest/globals';
import { BudgetQuotaController, countedResource } from '../../src/controllers/budget-quota.controller.js';
import { contextFor, NS } from '../support/controller-context.js';
import { FakeCluster } from '../support/fake-cluster.js';

const controllerWith = (hard: Record<string, string>) =>
  new BudgetQuotaController({ forCluster: () => Promise.resolve([{ quota: 'total', hard }]) });

describe('budget quota controller', () => {
  it('reads count/ keys as the resource and group they count', () => {
    expect(countedResource('count/deployments.apps')).toEqual({ resource: 'deployments', group: 'apps' });
    expect(countedResource('count/pods')).toEqual({ resource: 'pods', group: '' });
    expect(countedResource('count/widgets.example.com')).toEqual({ resource: 'widgets', group: 'example.com' });
    expect(countedResource('pods')).toBeUndefined();
    expect(countedResource('requests.cpu')).toBeUndefined();
  });

  it('writes the share and warns of a count/ key the cluster does not serve, without failing', async () => {
    const cluster = new FakeCluster();
    const ctx = contextFor(cluster);
    await controllerWith({ pods: '2', 'count/deployments.apps': '3', 'count/widgets.example.com': '1' }).apply(ctx);
    const quotas = await cluster.list('v1', 'ResourceQuota', { namespace: NS });
    expect(quotas.map((q) => (q as { spec?: { hard?: object } }).spec?.hard)).toEqual([
      { pods: '2', 'count/deployments.apps': '3', 'count/widgets.example.com': '1' },
    ]);
    expect(ctx.resources.filter((r) => r.status === 'Failed')).toEqual([]);
    expect(ctx.warnings).toEqual([
      expect.objectContaining({
        permission: 'overall-quota total',
        resource: 'widgets',
        group: 'example.com',
        message: expect.stringMatching(
          /count\/widgets\.example\.com: the cluster does not serve widgets\.example\.com/,
        ),
      }),
    ]);
  });

  it('asks the cluster what it serves only when a share has a count/ key', async () => {
    const cluster = new FakeCluster();
    await controllerWith({ pods: '2', 'requests.cpu': '500m' }).apply(contextFor(cluster));
    expect(cluster.calls).not.toContain('discovery');
  });
});
