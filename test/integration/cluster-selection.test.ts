/**
 * Clusters chosen by labels, on the real clusters: a logical cloud with spec.clusterSelector
 * follows its fleet by itself. Labelling a cluster (PUT, no further request) applies the logical
 * cloud there within 60 s (namespace, RBAC, quota, a working tenant kubeconfig); removing the
 * label terminates it there (namespace gone) and says why. A cluster the project policy does not
 * admit is never selected; selected references cannot be deleted by hand and are not duplicated.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { defaultConfig } from '../../src/config.js';
import { kubectl } from '../support/backends.js';
import { captureLogger, design, startTestDcm, type TestDcm } from '../support/dcm.js';
import { createProject, createProvider, expectError, kubeconfigText, lcPath } from '../support/rest.js';
import { until } from '../support/until.js';
import {
  applyAndSettle,
  core,
  namespaceExists,
  rbac,
  removeLeftovers,
  statusOf,
  tenantKubeconfig,
  tenantLogicalCloud,
  terminateAndSettle,
} from './apply-helpers.js';

const PROJECT = 'project-selection';
const LC = 'lc-selection';
const NS = 'ns-selection';
const clusterPath = (provider: string, cluster: string) => `/v2/cluster-providers/${provider}/clusters/${cluster}`;

describe('a logical cloud that selects its clusters by label follows the fleet', () => {
  let t: TestDcm;
  const log = captureLogger();
  const audit = () => log.records().filter((r) => r.audit === true && r.logicalCloud === LC);
  const relabel = (provider: string, cluster: string, labels: Record<string, string>) =>
    t.http.put(clusterPath(provider, cluster)).send({ metadata: { name: cluster }, spec: { labels } });
  const references = async () =>
    (await t.http.get(`${lcPath(PROJECT, LC)}/cluster-references`).expect(200)).body as {
      name: string;
      'cluster-provider': string;
      'cluster-name': string;
      selected: boolean;
    }[];
  const preview = async (query = '') =>
    (await t.http.get(`${lcPath(PROJECT, LC)}/cluster-selection${query}`).expect(200)).body as {
      selected: { provider: string; cluster: string; reference?: string }[];
      notSelected: { provider: string; cluster: string; reason: string; message: string }[];
      lastChange?: { at: string; cause: string };
    };

  beforeAll(async () => {
    await removeLeftovers([NS], [LC]);
    t = await startTestDcm('selection', {
      config: { ...defaultConfig(), DCM_CLUSTER_TIMEOUT_MS: 10_000, DCM_METRICS_REFRESH_MS: 0 },
      logger: log.logger,
    });
    await t.dcm.services.jobs.start(['following the fleet']);
    await createProject(t, PROJECT);
    await createProvider(t, 'edge');
    await createProvider(t, 'core');
    for (const [provider, name, index, labels] of [
      ['edge', 'cluster-1', 1, { tier: 'edge' }],
      ['edge', 'cluster-2', 2, {}],
      // The same real cluster under a provider the project policy does not admit, labelled to match.
      ['core', 'cluster-3', 2, { tier: 'edge' }],
    ] as const) {
      await t.http
        .post(`/v2/cluster-providers/${provider}/clusters`)
        .send({ metadata: { name }, spec: { kubeconfig: kubeconfigText(index), labels } })
        .expect(201);
    }
    await t.http
      .put(`/v2/projects/${PROJECT}/policy`)
      .send({ spec: { clusters: { providers: ['edge'] } } })
      .expect(200);
    const body = tenantLogicalCloud(LC, NS, 'user-selection') as ReturnType<typeof tenantLogicalCloud> & {
      spec: Record<string, unknown>;
    };
    body.spec.clusterSelector = { matchLabels: { tier: 'edge' } };
    const created = await t.http.post(`/v2/projects/${PROJECT}/logical-clouds`).send(body).expect(201);
    expect(created.body.spec.clusterSelector).toEqual({ matchLabels: { tier: 'edge' } });
    expect(created.body.spec.clusters).toEqual(['cluster-1']);
    await t.http
      .post(`${lcPath(PROJECT, LC)}/cluster-quotas`)
      .send(design.quota())
      .expect(201);
  });

  afterAll(async () => {
    await t?.dcm.services.jobs.stop();
    const res = await t?.http.post(`${lcPath(PROJECT, LC)}/terminate`);
    if (res?.status === 202) await t.dcm.services.lifecycle.settled(PROJECT, LC);
    await t?.close();
    await removeLeftovers([NS], [LC]);
  });

  it('selects the matching cluster the policy admits, with a reason for every other one', async () => {
    expect(await references()).toEqual([
      expect.objectContaining({ name: 'cluster-1', 'cluster-provider': 'edge', selected: true }),
    ]);
    const body = await preview();
    expect(body.selected).toEqual([{ provider: 'edge', cluster: 'cluster-1', reference: 'cluster-1' }]);
    expect(body.notSelected).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ provider: 'edge', cluster: 'cluster-2', reason: 'labels' }),
        expect.objectContaining({ provider: 'core', cluster: 'cluster-3', reason: 'project policy' }),
      ]),
    );
    expect(body.lastChange?.cause).toBe('logical cloud created');
  });

  it('previews a selector given as a query before it is saved, and names the field of a bad one', async () => {
    const q = (selector: unknown) => `?selector=${encodeURIComponent(JSON.stringify(selector))}`;
    const body = await preview(q({ matchExpressions: [{ key: 'tier', operator: 'DoesNotExist' }] }));
    expect(body.selected).toEqual([{ provider: 'edge', cluster: 'cluster-2' }]);
    const bad = await t.http.get(
      `${lcPath(PROJECT, LC)}/cluster-selection${q({ matchExpressions: [{ key: 'tier', operator: 'In' }] })}`,
    );
    expectError(bad, 400);
    expect(bad.body.details.map((d: { field: string }) => d.field)).toEqual(['selector.matchExpressions.0.values']);
    expectError(await t.http.get(`${lcPath(PROJECT, LC)}/cluster-selection?selector=%7Bnot`), 400, /selector/);
  });

  it('refuses deleting a selected reference by hand, and does not duplicate a hand reference to it', async () => {
    expectError(
      await t.http.delete(`${lcPath(PROJECT, LC)}/cluster-references/cluster-1`),
      409,
      /spec\.clusterSelector/,
    );
    expectError(
      await t.http
        .post(`${lcPath(PROJECT, LC)}/cluster-references`)
        .send({ name: 'hand-1', 'cluster-provider': 'edge', 'cluster-name': 'cluster-1' }),
      409,
      /already referenced by cluster-1/,
    );
  });

  it('applies to a cluster when it is labelled, and terminates there when the label goes, by itself', async () => {
    expect((await applyAndSettle(t, PROJECT, LC)).status).toBe('Created');
    expect(await namespaceExists(0, NS)).toBe(true);
    expect(await namespaceExists(1, NS)).toBe(false);

    const labelled = await relabel('edge', 'cluster-2', { tier: 'edge' });
    expect(labelled.status).toBe(200);
    expect(labelled.body.spec.labels).toEqual({ tier: 'edge' });
    // No further request: the namespace, RBAC and quota appear on cluster 2 and the tenant's kubeconfig works there.
    await until(async () => {
      const status = await statusOf(t.http, PROJECT, LC);
      return status.clusters.some((c) => c['cluster-reference'] === 'cluster-2' && c.state === 'Applied');
    }, 'the logical cloud applied on cluster-2');
    expect(await namespaceExists(1, NS)).toBe(true);
    expect((await rbac(1).listNamespacedRoleBinding({ namespace: NS })).items.length).toBeGreaterThan(0);
    expect((await core(1).listNamespacedResourceQuota({ namespace: NS })).items.length).toBeGreaterThan(0);
    const kubeconfig = await tenantKubeconfig(t.http, PROJECT, LC, 'cluster-2');
    const created = await kubectl({ text: kubeconfig }, ['create', 'configmap', 'selected-cm', '--from-literal=a=b']);
    expect(created.stderr).toBe('');
    expect((await preview()).lastChange?.cause).toBe('cluster edge/cluster-2 relabelled');
    // Still never the cluster the policy does not admit.
    expect((await references()).map((r) => `${r['cluster-provider']}/${r['cluster-name']}`).sort()).toEqual([
      'edge/cluster-1',
      'edge/cluster-2',
    ]);

    expect((await relabel('edge', 'cluster-2', {})).status).toBe(200);
    await until(async () => !(await namespaceExists(1, NS)), 'the namespace gone from cluster-2');
    expect(await namespaceExists(0, NS)).toBe(true);
    await until(async () => {
      const status = await statusOf(t.http, PROJECT, LC);
      return (
        status.operation?.inProgress === false && !status.clusters.some((c) => c['cluster-reference'] === 'cluster-2')
      );
    }, 'the apply that left cluster-2 settled');
    expect((await references()).map((r) => r.name)).toEqual(['cluster-1']);
    const body = await preview();
    expect(body.notSelected).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          provider: 'edge',
          cluster: 'cluster-2',
          reason: 'labels',
          message: expect.stringMatching(/tier/),
        }),
      ]),
    );
    expect(body.lastChange?.cause).toBe('cluster edge/cluster-2 relabelled');
    // Status says why, and the audit log has each automatic step with its cause.
    const status = (await t.http.get(`${lcPath(PROJECT, LC)}/status`).expect(200)).body;
    expect(status.clusterSelection).toMatchObject({
      selected: [{ 'cluster-provider': 'edge', cluster: 'cluster-1', state: 'Selected' }],
      notSelected: expect.arrayContaining([
        expect.objectContaining({ 'cluster-provider': 'edge', cluster: 'cluster-2', reason: 'labels' }),
      ]),
      cause: 'cluster edge/cluster-2 relabelled',
    });
    const steps = audit().map((r) => [r.event, r.cluster ?? null, r.cause]);
    expect(steps).toEqual(
      expect.arrayContaining([
        ['cluster-selected', 'edge/cluster-2', 'cluster edge/cluster-2 relabelled'],
        ['cluster-deselected', 'edge/cluster-2', 'cluster edge/cluster-2 relabelled'],
        ['automatic-apply', null, 'cluster edge/cluster-2 relabelled'],
      ]),
    );
    expect(steps.filter(([event]) => event === 'automatic-apply')).toHaveLength(2);
    expect((await terminateAndSettle(t, PROJECT, LC)).status).toBe('Terminated');
  });

  it('terminates the logical cloud when its selection empties, and applies it again by itself when a cluster returns', async () => {
    expect((await applyAndSettle(t, PROJECT, LC)).status).toBe('Created');
    expect(await namespaceExists(0, NS)).toBe(true);
    try {
      expect((await relabel('edge', 'cluster-1', {})).status).toBe(200);
      await until(async () => !(await namespaceExists(0, NS)), 'the namespace gone from cluster-1');
      await until(
        async () => (await statusOf(t.http, PROJECT, LC)).state === 'Terminated',
        'terminated: nothing is selected',
      );
      expect(await references()).toEqual([]);
    } finally {
      expect((await relabel('edge', 'cluster-1', { tier: 'edge' })).status).toBe(200);
    }
    // No further request: the selection has a cluster again, and the logical cloud is applied there.
    await until(async () => {
      const status = await statusOf(t.http, PROJECT, LC);
      return (
        status.state === 'Instantiated' &&
        status.clusters.some((c) => c['cluster-reference'] === 'cluster-1' && c.state === 'Applied')
      );
    }, 'applied on cluster-1 again');
    expect(await namespaceExists(0, NS)).toBe(true);
    const steps = audit().map((r) => r.event);
    expect(steps.filter((e) => e === 'automatic-terminate')).toHaveLength(1);
    expect((await terminateAndSettle(t, PROJECT, LC)).status).toBe('Terminated');
  });

  it('keeps the credentials on a relabel and honours If-Match', async () => {
    const before = await t.http.get(clusterPath('edge', 'cluster-1')).expect(200);
    const res = await t.http
      .put(clusterPath('edge', 'cluster-1'))
      .set('If-Match', String(before.headers.etag ?? '"0"'))
      .send({ metadata: { name: 'cluster-1' }, spec: { labels: { tier: 'edge', zone: 'east' } } });
    expect(res.status).toBe(200);
    expect(res.body.spec.server).toBe(before.body.spec.server);
    expectError(
      await t.http
        .put(clusterPath('edge', 'cluster-1'))
        .set('If-Match', String(before.headers.etag ?? '"0"'))
        .send({ metadata: { name: 'cluster-1' }, spec: { labels: {} } }),
      412,
    );
  });
});
