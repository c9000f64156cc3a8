/**
 * Issue 17 item 2: drift detection and repair on the real test clusters. An admin deletes the
 * tenant's RoleBinding with kubectl: the tenant is Forbidden, then the DCM (watching) restores
 * it within the bound and the tenant works again; status shows the drift event and /metrics
 * counts it. A ResourceQuota's `hard` edited is restored. A paused logical cloud reports and
 * restores nothing. A watch cut off (its API server gone: a relay in front of cluster 2 is
 * cut) resumes when the server is back, and what was deleted meanwhile is restored.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { defaultConfig } from '../../src/config.js';
import { kubectl, testClusters } from '../support/backends.js';
import { startTestDcm, design, type TestDcm } from '../support/dcm.js';
import { createProject, createProvider, kubeconfigText, lcPath } from '../support/rest.js';
import { startTcpRelay, type TcpRelay } from '../support/tcp-relay.js';
import { until } from '../support/until.js';
import {
  applyAndSettle,
  composeDcm,
  removeLeftovers,
  tenantKubeconfig,
  tenantLogicalCloud,
  withServer,
} from './apply-helpers.js';

const PROJECT = 'project-drift';
const LC = 'lc-drift';
const NS = 'ns-drift';
const BINDING = 'dcm-permission-2'; // the design's permission-2: configmaps, every verb
const QUOTA = 'dcm-quota-quota-1';
/** The bound this DCM is configured to (default 60 s): a change is repaired within it. */
const BOUND_MS = 60_000;

const admin = (i: 0 | 1, args: string[]) => kubectl({ path: testClusters[i].kubeconfigPath() }, args);
const bindingExists = async (i: 0 | 1) =>
  (await admin(i, ['get', 'rolebinding', BINDING, '-n', NS, '-o', 'name'])).code === 0;
const quotaPods = async (i: 0 | 1) =>
  (await admin(i, ['get', 'resourcequota', QUOTA, '-n', NS, '-o', 'jsonpath={.spec.hard.pods}'])).stdout.trim();

interface DriftLine {
  cluster: string;
  kind: string;
  name: string;
  change: string;
  action: string;
  details: string;
  'detected-at': string;
}

describe('drift on the clusters is noticed and repaired', () => {
  let t: TestDcm;
  let relay: TcpRelay;
  let tenant: string;
  const desiredPods = design.quota().spec.pods;

  const drift = async (): Promise<DriftLine[]> =>
    ((await t.http.get(`${lcPath(PROJECT, LC)}/status`).expect(200)).body as { drift: DriftLine[] }).drift;
  const tenantCan = async () =>
    (await kubectl({ text: tenant }, ['auth', 'can-i', 'list', 'configmaps', '-n', NS])).stdout.trim() === 'yes';

  beforeAll(async () => {
    await removeLeftovers([NS], [LC]);
    const server = new URL(/server: (\S+)/.exec(kubeconfigText(2))![1]!);
    relay = await startTcpRelay({ host: '127.0.0.1', port: Number(server.port) });
    t = await startTestDcm('drift', {
      config: {
        ...defaultConfig(),
        DCM_CLUSTER_TIMEOUT_MS: 10_000,
        DCM_DRIFT_DEBOUNCE_MS: 1500,
        DCM_DRIFT_WATCH_RETRY_MAX_MS: 1000,
      },
    });
    await createProject(t, PROJECT);
    await createProvider(t, 'provider-1');
    await t.http
      .post('/v2/cluster-providers/provider-1/clusters')
      .send({ metadata: { name: 'cluster-1' }, spec: { kubeconfig: kubeconfigText(1) } })
      .expect(201);
    const relayed = withServer(kubeconfigText(2), `https://127.0.0.1:${relay.port}`);
    await t.http
      .post('/v2/cluster-providers/provider-1/clusters')
      .send({ metadata: { name: 'cluster-2' }, spec: { kubeconfig: relayed } })
      .expect(201);
    await t.http
      .post(`/v2/projects/${PROJECT}/logical-clouds`)
      .send(tenantLogicalCloud(LC, NS, 'user-drift'))
      .expect(201);
    for (const c of ['cluster-1', 'cluster-2'])
      await t.http
        .post(`${lcPath(PROJECT, LC)}/cluster-references`)
        .send({ name: c })
        .expect(201);
    await t.http
      .post(`${lcPath(PROJECT, LC)}/cluster-quotas`)
      .send(design.quota())
      .expect(201);
    expect((await applyAndSettle(t, PROJECT, LC)).state).toBe('Instantiated');
    tenant = await tenantKubeconfig(t.http, PROJECT, LC, 'cluster-1');
    await t.dcm.services.driftWatcher.start();
    await t.dcm.services.driftWatcher.idle();
  });

  afterAll(async () => {
    await t?.dcm.services.driftWatcher.stop();
    await relay?.restore();
    const res = await t?.http.post(`${lcPath(PROJECT, LC)}/terminate`);
    if (res?.status === 202) await t.dcm.services.lifecycle.settled(PROJECT, LC);
    await t?.close();
    await relay?.cut();
  });

  it('watches each managed kind on both clusters and finds nothing to repair after an apply', async () => {
    const watches = t.dcm.services.driftWatcher.watches();
    expect(watches['provider-1/cluster-1']).toEqual(
      expect.arrayContaining([
        'Namespace',
        'Role',
        'RoleBinding',
        'ClusterRole',
        'ClusterRoleBinding',
        'ResourceQuota',
        'Secret',
      ]),
    );
    expect(watches['provider-1/cluster-2']).toEqual(watches['provider-1/cluster-1']);
    expect(await drift()).toEqual([]);
    expect(await tenantCan()).toBe(true);
  });

  it('restores a RoleBinding an admin deleted: the tenant is Forbidden, then works again; status and /metrics show it', async () => {
    expect((await admin(0, ['delete', 'rolebinding', BINDING, '-n', NS])).code).toBe(0);
    const forbidden = await kubectl({ text: tenant }, ['get', 'configmaps', '-n', NS]);
    expect(forbidden.stderr).toMatch(/forbidden/i);
    await until(() => bindingExists(0), 'the RoleBinding restored');
    await until(tenantCan, 'the tenant allowed again');
    expect((await kubectl({ text: tenant }, ['get', 'configmaps', '-n', NS])).code).toBe(0);
    await t.dcm.services.driftWatcher.idle();
    expect(await drift()).toEqual([
      expect.objectContaining({
        cluster: 'cluster-1',
        kind: 'RoleBinding',
        name: `${NS}/${BINDING}`,
        change: 'deleted',
        action: 'restored',
      }),
    ]);
    const metrics = (await t.http.get('/metrics').expect(200)).text;
    expect(metrics).toMatch(/dcm_drift_events_total\{kind="RoleBinding",change="deleted",action="restored"\} 1/);
    expect(await bindingExists(1)).toBe(true); // the other cluster was never touched
  });

  it('restores a ResourceQuota whose hard was edited, saying what changed', async () => {
    expect(desiredPods).not.toBe('');
    await admin(0, [
      'patch',
      'resourcequota',
      QUOTA,
      '-n',
      NS,
      '--type=merge',
      '-p',
      '{"spec":{"hard":{"pods":"999"}}}',
    ]);
    await until(async () => (await quotaPods(0)) === desiredPods, 'the quota restored');
    await t.dcm.services.driftWatcher.idle();
    expect((await drift())[0]).toMatchObject({
      kind: 'ResourceQuota',
      change: 'changed',
      action: 'restored',
      details: `spec.hard.pods: "999", want "${desiredPods}"`,
    });
  });

  it('only reports drift while reconcile is paused', async () => {
    const { body } = await t.http.get(lcPath(PROJECT, LC)).expect(200);
    const { metadata, spec } = body as { metadata: { description: string }; spec: Record<string, unknown> };
    const put = {
      metadata: { description: metadata.description },
      spec: { namespace: spec.namespace, user: spec.user, labels: spec.labels, reconcile: 'paused' },
    };
    expect((await t.http.put(lcPath(PROJECT, LC)).send(put)).status).toBe(200);
    expect((await t.http.get(lcPath(PROJECT, LC))).body.spec.reconcile).toBe('paused');
    expect((await admin(0, ['delete', 'rolebinding', BINDING, '-n', NS])).code).toBe(0);
    await until(async () => (await drift())[0]?.action === 'reported', 'the drift reported');
    await t.dcm.services.driftWatcher.idle();
    expect((await drift())[0]).toMatchObject({
      cluster: 'cluster-1',
      kind: 'RoleBinding',
      change: 'deleted',
      action: 'reported',
    });
    expect(await bindingExists(0)).toBe(false);
    expect(await tenantCan()).toBe(false);
    // Checked again (a full resync), the same drift is not reported twice.
    const reported = (await drift()).length;
    await t.dcm.services.driftWatcher.resyncAll();
    await t.dcm.services.driftWatcher.idle();
    expect((await drift()).length).toBe(reported);

    // Enabled again: the DCM checks at once (no resync asked for here) and restores.
    expect(
      (await t.http.put(lcPath(PROJECT, LC)).send({ ...put, spec: { ...put.spec, reconcile: 'enabled' } })).status,
    ).toBe(200);
    await until(() => bindingExists(0), 'the RoleBinding restored once reconcile is enabled again');
    expect(await tenantCan()).toBe(true);
  });

  it('restores a namespace label the DCM set, and a whole namespace an admin deleted', async () => {
    const labelOf = async () =>
      (
        await admin(0, ['get', 'namespace', NS, '-o', 'jsonpath={.metadata.labels.dcm\\.onap\\.org/project}'])
      ).stdout.trim();
    expect(await labelOf()).toBe(PROJECT);
    expect((await admin(0, ['label', 'namespace', NS, 'dcm.onap.org/project=someone-else', '--overwrite'])).code).toBe(
      0,
    );
    await until(async () => (await labelOf()) === PROJECT, 'the namespace label restored');
    await t.dcm.services.driftWatcher.idle();
    expect((await drift())[0]).toMatchObject({ kind: 'Namespace', name: NS, change: 'changed', action: 'restored' });

    expect((await admin(0, ['delete', 'namespace', NS, '--wait=false'])).code).toBe(0);
    const live = async () => {
      const phase = (await admin(0, ['get', 'namespace', NS, '-o', 'jsonpath={.status.phase}'])).stdout.trim();
      return (
        phase === 'Active' && (await bindingExists(0)) && (await quotaPods(0)) === desiredPods && (await tenantCan())
      );
    };
    // The namespace controller of the cluster finalizes the deletion first; then the DCM creates it again with its objects.
    await until(live, 'the namespace and its objects back', 3 * BOUND_MS);
    await t.dcm.services.driftWatcher.idle();
    const events = await drift();
    expect(
      events.some((e) => e.kind === 'Namespace' && e.name === NS && e.change === 'deleted' && e.action === 'restored'),
    ).toBe(true);
    const status = (await t.http.get(`${lcPath(PROJECT, LC)}/status`).expect(200)).body as {
      state: string;
      clusters: { cluster: string; state: string }[];
    };
    expect(status.clusters.find((c) => c.cluster === 'cluster-1')?.state).toBe('Applied');
    // While the namespace was going, a repair could not place the objects (the cluster Failed); restored, all is Created again.
    expect(status.state).toBe('Instantiated');
  });

  it('is repaired by exactly one of two replicas watching the same clusters (the lease)', async () => {
    const other = await composeDcm(t.mongo.db(t.databaseName));
    try {
      await other.dcm.services.driftWatcher.start();
      await other.dcm.services.driftWatcher.idle();
      const before = (await drift()).length;
      expect((await admin(0, ['delete', 'rolebinding', BINDING, '-n', NS])).code).toBe(0);
      await until(() => bindingExists(0), 'the RoleBinding restored');
      await Promise.all([t.dcm.services.driftWatcher.idle(), other.dcm.services.driftWatcher.idle()]);
      const events = await drift();
      expect(events.length).toBe(before + 1);
      expect(events[0]).toMatchObject({
        cluster: 'cluster-1',
        kind: 'RoleBinding',
        change: 'deleted',
        action: 'restored',
      });
    } finally {
      await other.dcm.services.driftWatcher.stop();
      await other.dcm.services.lifecycle.idle();
    }
  });

  it('resumes a watch whose API server went away, and restores what was deleted meanwhile', async () => {
    await relay.cut();
    await until(
      async () => !(t.dcm.services.driftWatcher.watches()['provider-1/cluster-2'] ?? []).includes('RoleBinding'),
      'the watches of cluster 2 broken',
    );
    expect((await admin(1, ['delete', 'rolebinding', BINDING, '-n', NS])).code).toBe(0);
    await relay.restore();
    await until(() => bindingExists(1), 'the RoleBinding on cluster 2 restored after the watch resumed');
    await t.dcm.services.driftWatcher.idle();
    expect((await drift())[0]).toMatchObject({
      cluster: 'cluster-2',
      kind: 'RoleBinding',
      change: 'deleted',
      action: 'restored',
    });
    const metrics = (await t.http.get('/metrics').expect(200)).text;
    expect(metrics).toMatch(
      /dcm_drift_watch_restarts_total\{provider="provider-1",cluster="cluster-2",kind="RoleBinding"\} [1-9]/,
    );
  });
});
