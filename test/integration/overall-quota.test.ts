/**
 * Overall quotas on the two real test clusters, with the tenant's kubeconfigs: one budget of
 * pods across both clusters, enforced by a ResourceQuota per cluster, moved to where it is used
 * by the rebalancer (its job running at the default DCM_BUDGET_REBALANCE_MS), never more
 * admitted in total than the budget, including under a race and with a cluster cut off.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { kubectl } from '../support/backends.js';
import { lcPath } from '../support/rest.js';
import { namespaceExists } from './apply-helpers.js';
import { until } from '../support/until.js';
import {
  applied,
  budgetQuota,
  budgetStatus,
  deletePods,
  kubectlRun,
  podCount,
  podNames,
  podTenant,
  startBudgetDcm,
  tenantApi,
  type BudgetFixture,
} from './overall-quota-helpers.js';

const PROJECT = 'oq-p';
const LC = 'oq-dyn';
const NS = 'oq-dyn';
const STATIC_LC = 'oq-static';
const STATIC_NS = 'oq-static';
const BUDGET = `${lcPath(PROJECT, LC)}/overall-quotas`;

describe('overall quotas on two real clusters', () => {
  let f: BudgetFixture;
  let tenant: string[] = [];
  let pod = 0;
  const nextPod = () => `p-${++pod}`;
  const pods = async () => [await podCount(0, NS), await podCount(1, NS)];
  const hardOn = async (i: 0 | 1) => (await budgetQuota(i, NS, 'total')).spec;
  /** Creates pods on a cluster with kubectl until it holds `n` (each refusal waits for the rebalancer). */
  const fill = async (i: 0 | 1, n: number, timeoutMs = 30_000) =>
    until(
      async () => (await podCount(i, NS)) >= n || ((await kubectlRun(tenant[i]!, nextPod())) && false),
      `${n} pods on cluster ${i + 1}`,
      timeoutMs,
      500,
    );

  /** Applies again (a rebalancing pass may hold the logical cloud's lease for a moment: 409, asked again) and waits for the outcome. */
  const reapply = async () => {
    await until(
      async () => (await f.t.http.post(`${lcPath(PROJECT, LC)}/apply`)).status === 200,
      'the apply accepted',
      20_000,
    );
    await f.t.dcm.services.lifecycle.settled(PROJECT, LC);
    expect((await f.t.http.get(`${lcPath(PROJECT, LC)}/status`).expect(200)).body.state).toBe('Instantiated');
  };

  beforeAll(async () => {
    f = await startBudgetDcm('oq', PROJECT, [NS, STATIC_NS], [LC, STATIC_LC]);
    await podTenant(f.t, PROJECT, LC, NS);
    await f.t.http
      .post(BUDGET)
      .send({ metadata: { name: 'total' }, spec: { hard: { pods: '4' } } })
      .expect(201);
    tenant = await applied(f.t, PROJECT, LC);
    await f.t.dcm.services.jobs.start(['rebalancing overall quotas']);
  }, 120_000);

  afterAll(async () => {
    await f?.close();
  }, 120_000);

  it('writes the budget quota with the apply (nothing yet) and then splits the idle budget equally', async () => {
    await until(async () => (await hardOn(0)) === '2' && (await hardOn(1)) === '2', 'an equal split 2 / 2', 20_000);
  });

  it('pods: 4, dynamic: all 4 on cluster 1, then cluster 2 refused; 2 deleted on cluster 1 let cluster 2 admit 2', async () => {
    await fill(0, 4);
    expect(await pods()).toEqual([4, 0]);
    expect(await hardOn(0)).toBe('4');
    expect(await hardOn(1)).toBe('0');
    expect(await kubectlRun(tenant[1]!, nextPod())).toBe(false);
    await deletePods(0, NS, (await podNames(0, NS)).slice(0, 2));
    await fill(1, 2);
    expect(await pods()).toEqual([2, 2]);
    expect(await kubectlRun(tenant[1]!, nextPod())).toBe(false);
    await until(
      async () => (await budgetStatus(f.t, PROJECT, LC))[0]?.keys[0]?.used === '4',
      'the status to show 4 pods used',
      20_000,
    );
    expect(await budgetStatus(f.t, PROJECT, LC)).toMatchObject([
      { name: 'total', keys: [{ key: 'pods', hard: '4', used: '4', assigned: '4' }] },
    ]);
    const metrics = (await f.t.http.get('/metrics').expect(200)).text;
    const series = `{project="${PROJECT}",logical_cloud="${LC}",quota="total",key="pods"}`;
    expect(metrics).toContain(`dcm_overall_quota_hard${series} 4`);
    expect(metrics).toContain(`dcm_overall_quota_used${series} 4`);
    // Every reassignment is audited: who, old → new, why.
    const audit = f.logs.records().filter((r) => r.event === 'overall-quota-reassignment');
    expect(audit).toContainEqual(
      expect.objectContaining({
        audit: true,
        principal: expect.objectContaining({ source: 'rebalancer' }),
        logicalCloud: LC,
        quota: 'total',
        reference: 'cluster-1',
        from: { pods: '4' },
        why: 'lower',
      }),
    );
  }, 120_000);

  it('the tenant cannot change or delete its budget quota (the tenant guard)', async () => {
    for (const i of [0, 1] as const) {
      const del = await kubectl({ text: tenant[i]! }, ['delete', 'resourcequota', 'dcm-budget-total']);
      expect(del.code).not.toBe(0);
      const patch = await kubectl({ text: tenant[i]! }, [
        'patch',
        'resourcequota',
        'dcm-budget-total',
        '--type=merge',
        '-p',
        '{"spec":{"hard":{"pods":"100"}}}',
      ]);
      expect(patch.code).not.toBe(0);
      expect(`${del.stderr}${patch.stderr}`).toMatch(/dcm-tenant-guard|forbidden/i);
    }
    expect(await pods()).toEqual([2, 2]);
  });

  it('never admits more than 4 in total while the tenant races pods onto both clusters for 30 s', async () => {
    for (const i of [0, 1] as const) await deletePods(i, NS, await podNames(i, NS));
    const apis = tenant.map((k) => tenantApi(k));
    const samples: number[] = [];
    const admitted = [0, 0];
    const deadline = Date.now() + 30_000;
    let round = 0;
    while (Date.now() < deadline) {
      const roundEnd = Math.min(deadline, Date.now() + 5_000);
      const create = async (i: 0 | 1) => {
        while (Date.now() < roundEnd) {
          const ok = await apis[i]!.createNamespacedPod({
            namespace: NS,
            body: {
              metadata: { name: `race-${i}-${++pod}` },
              spec: { containers: [{ name: 'c', image: 'registry.invalid/none' }] },
            },
          }).then(
            () => true,
            () => false,
          );
          if (ok) admitted[i]!++;
        }
      };
      // Within a round pods are only created, so reading the clusters one after the other never counts more than there are.
      const sample = async () => {
        while (Date.now() < roundEnd) samples.push((await podCount(0, NS)) + (await podCount(1, NS)));
      };
      await Promise.all([create(0), create(1), sample()]);
      // Between rounds: the cluster of this round frees 2 pods, which the rebalancer may move.
      const from = (round++ % 2) as 0 | 1;
      await deletePods(from, NS, (await podNames(from, NS)).slice(0, 2));
    }
    expect(samples.length).toBeGreaterThan(20);
    expect(Math.max(...samples)).toBeLessThanOrEqual(4);
    expect((await pods()).reduce((a, b) => a + b)).toBeLessThanOrEqual(4);
    // Both clusters were given budget along the way (it moved), and more was admitted in all than the budget.
    expect(admitted[0]).toBeGreaterThan(0);
    expect(admitted[1]).toBeGreaterThan(0);
    expect(admitted[0]! + admitted[1]!).toBeGreaterThan(4);
  }, 120_000);

  it('reserve: {pods: 1} keeps one pod of headroom on the idle cluster', async () => {
    for (const i of [0, 1] as const) await deletePods(i, NS, await podNames(i, NS));
    await f.t.http
      .put(`${BUDGET}/total`)
      .send({ spec: { hard: { pods: '4' }, reserve: { pods: '1' } } })
      .expect(200);
    await fill(0, 3);
    // However long the tenant presses on cluster 1, cluster 2 keeps its one pod of headroom.
    await until(async () => (await hardOn(0)) === '3' && (await hardOn(1)) === '1', 'a split 3 / 1', 20_000);
    expect(await kubectlRun(tenant[0]!, nextPod())).toBe(false);
    expect(await kubectlRun(tenant[1]!, nextPod())).toBe(true);
    expect(await pods()).toEqual([3, 1]);
  }, 120_000);

  it('a cluster cut off keeps its assignment counted; the budget is not over-assigned while it is away', async () => {
    for (const i of [0, 1] as const) await deletePods(i, NS, await podNames(i, NS));
    await f.t.http
      .put(`${BUDGET}/total`)
      .send({ spec: { hard: { pods: '4' } } })
      .expect(200);
    await until(async () => (await hardOn(0)) === '2' && (await hardOn(1)) === '2', 'an equal split 2 / 2', 20_000);
    await f.relay.cut();
    await until(
      async () =>
        (await budgetStatus(f.t, PROJECT, LC))[0]?.clusters.some((c) => c.reference === 'cluster-2' && !c.reachable) ??
        false,
      'cluster-2 reported unreachable',
      20_000,
    );
    await fill(0, 2);
    // Cluster 1 presses at its assignment for three intervals: cluster 2's 2 pods stay counted.
    const end = Date.now() + 15_000;
    while (Date.now() < end) {
      expect(await kubectlRun(tenant[0]!, nextPod())).toBe(false);
      expect(await hardOn(0)).toBe('2');
    }
    await f.relay.restore();
    // Back: cluster 2 is idle, so its headroom moves to cluster 1 (lowered there first).
    await fill(0, 4);
    expect(await hardOn(1)).toBe('0');
  }, 120_000);

  it('membership: a reference removed gives its share back once its namespace is gone; one added gets a share', async () => {
    await deletePods(0, NS, await podNames(0, NS));
    await f.t.http.delete(`${lcPath(PROJECT, LC)}/cluster-references/cluster-2`).expect(204);
    await reapply();
    expect(await namespaceExists(1, NS)).toBe(false);
    await until(async () => (await hardOn(0)) === '4', 'the whole budget on cluster 1', 20_000);
    await f.t.http
      .post(`${lcPath(PROJECT, LC)}/cluster-references`)
      .send({ name: 'cluster-2' })
      .expect(201);
    await reapply();
    await until(
      async () => (await hardOn(0)) === '2' && (await hardOn(1)) === '2',
      'an equal split 2 / 2 again',
      20_000,
    );
  }, 120_000);

  it('static: the shares are written as given; shares over hard are a 400 naming the key', async () => {
    await podTenant(f.t, PROJECT, STATIC_LC, STATIC_NS);
    const path = `${lcPath(PROJECT, STATIC_LC)}/overall-quotas`;
    const over = await f.t.http.post(path).send({
      metadata: { name: 'fixed' },
      spec: {
        hard: { pods: '5' },
        assignment: 'static',
        static: [
          { 'cluster-reference': 'cluster-1', hard: { pods: '3' } },
          { 'cluster-reference': 'cluster-2', hard: { pods: '3' } },
        ],
      },
    });
    expect(over.status).toBe(400);
    expect(over.body.message).toMatch(/spec\.static\.pods: the shares of pods add up to 6, more than hard \(5\)/);
    await f.t.http
      .post(path)
      .send({
        metadata: { name: 'fixed' },
        spec: {
          // count/ of a kind the clusters do not serve: a warning on each cluster, not a failure.
          hard: { pods: '5', 'requests.cpu': '1500m', 'count/widgets.example.com': '2' },
          assignment: 'static',
          static: [
            {
              'cluster-reference': 'cluster-1',
              hard: { pods: '3', 'requests.cpu': '1', 'count/widgets.example.com': '1' },
            },
            {
              'cluster-reference': 'cluster-2',
              hard: { pods: '2', 'requests.cpu': '500m', 'count/widgets.example.com': '1' },
            },
          ],
        },
      })
      .expect(201);
    await applied(f.t, PROJECT, STATIC_LC);
    const hard = async (i: 0 | 1) => (await budgetQuota(i, STATIC_NS, 'fixed')).spec;
    await until(async () => (await hard(0)) === '3' && (await hard(1)) === '2', 'the static shares 3 / 2', 20_000);
    const cpu = await import('./apply-helpers.js').then(({ core }) =>
      Promise.all(
        [0, 1].map((i) =>
          core(i as 0 | 1).readNamespacedResourceQuota({ name: 'dcm-budget-fixed', namespace: STATIC_NS }),
        ),
      ),
    );
    expect(cpu.map((q) => q.spec?.hard?.['requests.cpu'])).toEqual(['1', '500m']);
    const status = await f.t.http.get(`${lcPath(PROJECT, STATIC_LC)}/status`).expect(200);
    for (const cluster of status.body.clusters as { state: string; warnings: string[] }[]) {
      expect(cluster.state).toBe('Applied');
      expect(cluster.warnings).toContainEqual(
        expect.stringMatching(/count\/widgets\.example\.com: the cluster does not serve widgets\.example\.com/),
      );
    }
    // Deleted: its budget quotas go from both clusters.
    await f.t.http.delete(`${path}/fixed`).expect(204);
    await until(
      async () => (await hard(0)) === undefined && (await hard(1)) === undefined,
      'the budget quotas removed',
      20_000,
    );
  }, 120_000);
});
