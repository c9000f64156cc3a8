/**
 * Following the fleet with two DCM replicas on one database (each membership change is worked
 * once, whichever replica took the request), `removal: Keep` (what was applied stays, the
 * reference marked orphaned), a narrowed project policy (the cluster leaves the selection), an
 * unreachable cluster (selected, shown Pending with the reason) and an unregistered one.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { MongoClient } from 'mongodb';
import supertest from 'supertest';
import { createDcm, type Dcm } from '../../src/composition-root.js';
import { defaultConfig } from '../../src/config.js';
import { mongoUrl, uniqueDatabaseName } from '../support/backends.js';
import { captureLogger, design, testCipher } from '../support/dcm.js';
import { createProject, createProvider, expectError, kubeconfigText, lcPath } from '../support/rest.js';
import { until } from '../support/until.js';
import {
  closedPort,
  namespaceExists,
  removeLeftovers,
  statusOf,
  tenantLogicalCloud,
  withServer,
} from './apply-helpers.js';

const PROJECT = 'project-selection-fleet';
const LC = 'lc-selection-fleet';
const NS = 'ns-selection-fleet';
const LC_POLICY = 'lc-selection-policy';

interface Replica {
  dcm: Dcm;
  http: ReturnType<typeof supertest>;
  log: ReturnType<typeof captureLogger>;
}

describe('following the fleet: two replicas, removal Keep, policy, unreachable clusters', () => {
  const database = uniqueDatabaseName('selection-fleet');
  let mongo: MongoClient;
  let a: Replica;
  let b: Replica;

  async function replica(id: string): Promise<Replica> {
    const log = captureLogger();
    const dcm = await createDcm({
      db: mongo.db(database),
      logger: log.logger,
      config: {
        ...defaultConfig(),
        DCM_CLUSTER_TIMEOUT_MS: 10_000,
        DCM_METRICS_REFRESH_MS: 0,
        DCM_REPLICA_ID: id,
        DCM_SELECTION_INTERVAL_MS: 2000,
      },
      cipher: testCipher,
      bodyLimit: '1mb',
      ready: async () => true,
      auth: { mode: 'development' },
    });
    await dcm.services.jobs.start(['following the fleet']);
    return { dcm, http: supertest(dcm.app), log };
  }
  /** The audit lines of both replicas about the logical cloud, in the order written, as [event, cluster]. */
  const steps = (lc: string) =>
    [a, b]
      .flatMap((r) => r.log.records())
      .filter((r) => r.audit === true && r.logicalCloud === lc && r.event !== undefined)
      .sort((x, y) => Number(x.time) - Number(y.time))
      .map((r) => [r.event, r.cluster ?? null]);
  const relabel = (via: Replica, cluster: string, labels: Record<string, string>) =>
    via.http
      .put(`/v2/cluster-providers/edge/clusters/${cluster}`)
      .send({ metadata: { name: cluster }, spec: { labels } })
      .expect(200);
  const referencesOf = async (lc: string) =>
    (await a.http.get(`${lcPath(PROJECT, lc)}/cluster-references`).expect(200)).body as {
      name: string;
      selected: boolean;
      orphaned?: boolean;
    }[];
  const settledWith = async (references: string[]) => {
    const s = await statusOf(a.http, PROJECT, LC);
    return (
      s.operation?.inProgress === false &&
      s.clusters
        .map((c) => c['cluster-reference'])
        .sort()
        .join() === references.join() &&
      s.clusters.every((c) => c.state === 'Applied')
    );
  };

  beforeAll(async () => {
    await removeLeftovers([NS], [LC, LC_POLICY]);
    mongo = await MongoClient.connect(mongoUrl());
    a = await replica('replica-a');
    b = await replica('replica-b');
    await createProject(a, PROJECT);
    await createProvider(a, 'edge');
    for (const [name, index, labels] of [
      ['cluster-1', 1, { tier: 'edge' }],
      ['cluster-2', 2, {}],
    ] as const)
      await a.http
        .post('/v2/cluster-providers/edge/clusters')
        .send({ metadata: { name }, spec: { kubeconfig: kubeconfigText(index), labels } })
        .expect(201);
    await a.http
      .put(`/v2/projects/${PROJECT}/policy`)
      .send({ spec: { clusters: { providers: ['edge'] } } })
      .expect(200);
  });

  afterAll(async () => {
    for (const r of [a, b]) await r?.dcm.services.jobs.stop();
    const res = await a?.http.post(`${lcPath(PROJECT, LC)}/terminate`);
    if (res?.status === 202)
      await until(async () => (await statusOf(a.http, PROJECT, LC)).state === 'Terminated', 'terminated');
    for (const r of [a, b]) await r?.dcm.services.lifecycle.idle();
    await mongo?.db(database).dropDatabase();
    await mongo?.close();
    await removeLeftovers([NS], [LC, LC_POLICY]);
  });

  it('works each membership change once across two replicas; Keep leaves what was applied, marked orphaned', async () => {
    const body = tenantLogicalCloud(LC, NS, 'user-selection-fleet') as ReturnType<typeof tenantLogicalCloud> & {
      spec: Record<string, unknown>;
    };
    body.spec.clusterSelector = { matchExpressions: [{ key: 'tier', operator: 'In', values: ['edge', 'far-edge'] }] };
    body.spec.clusterSelection = { removal: 'Keep' };
    await a.http.post(`/v2/projects/${PROJECT}/logical-clouds`).send(body).expect(201);
    await a.http
      .post(`${lcPath(PROJECT, LC)}/cluster-quotas`)
      .send(design.quota())
      .expect(201);
    await a.http.post(`${lcPath(PROJECT, LC)}/apply`).expect(200);
    await until(() => settledWith(['cluster-1']), 'applied on cluster-1');

    // Labelled through replica B: applied on cluster 2 by itself, once.
    await relabel(b, 'cluster-2', { tier: 'far-edge' });
    await until(() => settledWith(['cluster-1', 'cluster-2']), 'applied on cluster-2');
    expect(await namespaceExists(1, NS)).toBe(true);
    expect(steps(LC)).toEqual([
      ['cluster-selected', 'edge/cluster-1'],
      ['cluster-selected', 'edge/cluster-2'],
      ['automatic-apply', null],
    ]);

    // Unlabelled through replica A under removal Keep: nothing is removed, the reference is marked orphaned.
    await relabel(a, 'cluster-2', {});
    await until(
      async () => (await referencesOf(LC)).some((r) => r.name === 'cluster-2' && r.orphaned === true),
      'cluster-2 orphaned',
    );
    expect(await namespaceExists(1, NS)).toBe(true);
    const selection = (await a.http.get(`${lcPath(PROJECT, LC)}/cluster-selection`).expect(200)).body;
    expect(selection.notSelected).toEqual([expect.objectContaining({ cluster: 'cluster-2', reason: 'labels' })]);
    // Wait for two more turns of the periodic check on either replica: still nothing more was worked.
    const turns = async () =>
      (await mongo
        .db(database)
        .collection<{ _id: string; expiresAt: Date }>('leases')
        .findOne({ _id: 'job:following the fleet' }))!.expiresAt;
    const first = await turns();
    await until(
      async () => (await turns()).getTime() > first.getTime() + 3000,
      'two turns of the periodic check',
      20_000,
    );
    expect(steps(LC)).toEqual([
      ['cluster-selected', 'edge/cluster-1'],
      ['cluster-selected', 'edge/cluster-2'],
      ['automatic-apply', null],
      ['cluster-orphaned', 'edge/cluster-2'],
    ]);
    // An orphaned reference may be removed by hand; a selected one may not.
    expectError(await a.http.delete(`${lcPath(PROJECT, LC)}/cluster-references/cluster-1`), 409, /clusterSelector/);
    await a.http.delete(`${lcPath(PROJECT, LC)}/cluster-references/cluster-2`).expect(204);
  });

  it('a narrowed project policy takes a cluster out of the selection; an unreachable one is selected but Pending', async () => {
    const body = tenantLogicalCloud(LC_POLICY, 'ns-selection-policy', 'user-selection-policy') as ReturnType<
      typeof tenantLogicalCloud
    > & { spec: Record<string, unknown> };
    body.spec.clusterSelector = { providers: ['edge'] };
    await a.http.post(`/v2/projects/${PROJECT}/logical-clouds`).send(body).expect(201);
    expect((await referencesOf(LC_POLICY)).map((r) => r.name).sort()).toEqual(['cluster-1', 'cluster-2']);

    await a.http
      .put(`/v2/projects/${PROJECT}/policy`)
      .send({ spec: { clusters: { clusters: ['edge/cluster-1'] } } })
      .expect(200);
    await until(
      async () => (await referencesOf(LC_POLICY)).map((r) => r.name).join() === 'cluster-1',
      'cluster-2 out of the selection',
    );
    const preview = (await a.http.get(`${lcPath(PROJECT, LC_POLICY)}/cluster-selection`).expect(200)).body;
    expect(preview.notSelected).toEqual([expect.objectContaining({ cluster: 'cluster-2', reason: 'project policy' })]);

    // A cluster nothing answers at, admitted and labelled: selected, Pending with the probe's reason.
    const dead = withServer(kubeconfigText(1), `https://127.0.0.1:${await closedPort()}`);
    await a.http
      .post('/v2/cluster-providers/edge/clusters')
      .send({ metadata: { name: 'cluster-down' }, spec: { kubeconfig: dead } })
      .expect(201);
    await a.http
      .put(`/v2/projects/${PROJECT}/policy`)
      .send({ spec: { clusters: { clusters: ['edge/cluster-1', 'edge/cluster-down'] } } })
      .expect(200);
    await a.http.get('/v2/cluster-providers/edge/clusters/cluster-down/status?probe=true').expect(200);
    const preview2 = async () => (await a.http.get(`${lcPath(PROJECT, LC_POLICY)}/cluster-selection`).expect(200)).body;
    await until(async () => {
      const p = await preview2();
      return p.selected.some(
        (s: { cluster: string; pending?: string }) =>
          s.cluster === 'cluster-down' && /unreachable/.test(s.pending ?? ''),
      );
    }, 'cluster-down selected, pending');
    // Status shows the selection as last followed: Pending from the next turn of the periodic check.
    const pendingInStatus = async () => {
      const status = (await a.http.get(`${lcPath(PROJECT, LC_POLICY)}/status`).expect(200)).body;
      return (status.clusterSelection?.selected ?? []).some(
        (c: { cluster: string; state: string; reason?: string }) =>
          c.cluster === 'cluster-down' && c.state === 'Pending' && /unreachable/.test(c.reason ?? ''),
      );
    };
    await until(pendingInStatus, 'cluster-down Pending in status');

    // Unregistered (through replica B): a reference the selector made does not hold the cluster, and goes with it.
    await b.http.delete('/v2/cluster-providers/edge/clusters/cluster-down').expect(204);
    await until(
      async () => (await referencesOf(LC_POLICY)).map((r) => r.name).join() === 'cluster-1',
      'the reference to cluster-down gone',
    );
    expect(steps(LC_POLICY)).toEqual(
      expect.arrayContaining([
        ['cluster-selected', 'edge/cluster-down'],
        ['cluster-deselected', 'edge/cluster-down'],
      ]),
    );
    await a.http.delete(`${lcPath(PROJECT, LC_POLICY)}`).expect(204);
  });
});
