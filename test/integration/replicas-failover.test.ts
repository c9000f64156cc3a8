/**
 * Several replicas, one truth (issue 7, point 3): two DCM processes share one database.
 * A logical cloud's operation is worked by exactly one of them (the one holding its lease);
 * when that one is killed with SIGKILL in the middle of an apply, the other takes the
 * operation over once the lease has expired and finishes it: both clusters applied, the
 * tenant's kubeconfig working on both.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { MongoClient } from 'mongodb';
import { generateEncryptionKey } from '../../src/security/secret-cipher.js';
import { kubectl, mongoUrl, uniqueDatabaseName } from '../support/backends.js';
import { lcPath, setUpProjectAndClusters } from '../support/rest.js';
import { runServiceProcessToExit, startServiceProcess, type ServiceProcess } from '../support/service-process.js';
import { waitFor } from '../testenv/processes.js';
import { clusterEntry, removeLeftovers, statusOf, tenantLogicalCloud, type StatusBody } from './apply-helpers.js';

const PROJECT = 'project-replicas';
const LOGICAL_CLOUDS = { race: 'lc-replicas-race', failover: 'lc-replicas-failover' };
const NAMESPACES = { race: 'ns-replicas-race', failover: 'ns-replicas-failover' };
const LEASE_TTL_MS = 3000;

describe('two DCM replicas on one database', () => {
  const database = uniqueDatabaseName('replicas');
  const env = {
    MONGO_URL: mongoUrl(),
    DCM_DATABASE: database,
    DCM_ENCRYPTION_KEYS: generateEncryptionKey('replicas-1'),
    // Authentication is not what this test is about; secrets are still encrypted (a key is set).
    DCM_DEVELOPMENT_MODE: 'true',
    DCM_LEASE_TTL_MS: String(LEASE_TTL_MS),
    // One cluster at a time, so that an apply can be caught between its two clusters.
    DCM_APPLY_CONCURRENCY: '1',
    DCM_CLUSTER_TIMEOUT_MS: '10000',
  };
  let a: ServiceProcess;
  let b: ServiceProcess;
  let mongo: MongoClient;

  const lease = (logicalCloudId: string) =>
    mongo.db(database).collection<{ _id: string; holder: string }>('leases').findOne({ _id: logicalCloudId });
  const lifecycleDoc = (logicalCloudId: string) =>
    mongo
      .db(database)
      .collection<{ _id: string; operation: { inProgress: boolean } }>('lifecycle')
      .findOne({ _id: logicalCloudId });

  async function createLogicalCloud(name: string, namespace: string, extraPermissions: number): Promise<string> {
    await a.http
      .post(`/v2/projects/${PROJECT}/logical-clouds`)
      .send(tenantLogicalCloud(name, namespace, `user-${name}`))
      .expect(201);
    for (let i = 0; i < extraPermissions; i++) {
      await a.http
        .post(`${lcPath(PROJECT, name)}/user-permissions`)
        .send({ name: `extra-${i}`, apiGroups: [''], resources: ['configmaps'], verbs: ['get'] })
        .expect(201);
    }
    for (const reference of ['cluster-1', 'cluster-2'])
      await a.http
        .post(`${lcPath(PROJECT, name)}/cluster-references`)
        .send({ name: reference })
        .expect(201);
    return idOf(name);
  }

  async function idOf(name: string): Promise<string> {
    const doc = await mongo.db(database).collection<{ _id: string; name: string }>('logicalClouds').findOne({ name });
    return String(doc!._id);
  }

  async function waitForStatus(
    via: ServiceProcess,
    lc: string,
    done: (s: StatusBody) => boolean,
    timeoutMs = 90_000,
  ): Promise<StatusBody> {
    let last: StatusBody | undefined;
    await waitFor(
      `status of ${lc}`,
      async () => {
        last = await statusOf(via.http, PROJECT, lc);
        return done(last);
      },
      { timeoutMs },
    );
    return last!;
  }

  beforeAll(async () => {
    await removeLeftovers(Object.values(NAMESPACES), Object.values(LOGICAL_CLOUDS));
    mongo = await MongoClient.connect(mongoUrl());
    [a, b] = await Promise.all([
      startServiceProcess('replica-a', { ...env, DCM_REPLICA_ID: 'replica-a' }),
      startServiceProcess('replica-b', { ...env, DCM_REPLICA_ID: 'replica-b' }),
    ]);
    await setUpProjectAndClusters(a, PROJECT);
  }, 120_000);

  afterAll(async () => {
    for (const lc of Object.values(LOGICAL_CLOUDS)) {
      if (b && (await b.http.post(`${lcPath(PROJECT, lc)}/terminate`)).status === 202) {
        await waitForStatus(b, lc, (s) => s.operation?.inProgress === false).catch(() => undefined);
      }
    }
    await Promise.all([a?.stop(), b?.stop()]);
    await mongo
      ?.db(database)
      .dropDatabase()
      .catch(() => undefined);
    await mongo?.close();
    await removeLeftovers(Object.values(NAMESPACES), Object.values(LOGICAL_CLOUDS));
  }, 180_000);

  it('of two applies of one logical cloud sent to both replicas at once, one is taken and the other refused', async () => {
    await createLogicalCloud(LOGICAL_CLOUDS.race, NAMESPACES.race, 0);
    const answers = await Promise.all([a, b].map((r) => r.http.post(`${lcPath(PROJECT, LOGICAL_CLOUDS.race)}/apply`)));
    expect(answers.map((r) => r.status).sort()).toEqual([200, 409]);
    expect(answers.find((r) => r.status === 409)!.body).toMatchObject({
      message: expect.stringMatching(/already in progress/),
    });
    const done = await waitForStatus(b, LOGICAL_CLOUDS.race, (s) => s.operation?.inProgress === false);
    expect(done.status).toBe('Created');
    // The lease is given back when the operation ends.
    expect(await lease(await idOf(LOGICAL_CLOUDS.race))).toBeNull();
  });

  it('when the replica working an apply is killed, the other takes it over after the lease expires and finishes it', async () => {
    const id = await createLogicalCloud(LOGICAL_CLOUDS.failover, NAMESPACES.failover, 30);
    const killedAt = { time: 0 };
    await a.http.post(`${lcPath(PROJECT, LOGICAL_CLOUDS.failover)}/apply`).expect(200);

    // Kill replica A while it is between clusters: one applied, the other being applied.
    const caught = await waitForStatus(
      a,
      LOGICAL_CLOUDS.failover,
      (s) => s.clusters.some((c) => c.state === 'Applied') && s.clusters.some((c) => c.state === 'Applying'),
      60_000,
    );
    a.kill('SIGKILL');
    killedAt.time = Date.now();
    expect(await a.exited).toBe('SIGKILL');
    expect(caught.operation).toMatchObject({ kind: 'apply', inProgress: true });
    expect((await lease(id))?.holder).toBe('replica-a');
    expect((await lifecycleDoc(id))?.operation.inProgress).toBe(true);

    const finished = await waitForStatus(b, LOGICAL_CLOUDS.failover, (s) => s.operation?.inProgress === false);
    expect(finished.status).toBe('Created');
    for (const reference of ['cluster-1', 'cluster-2']) {
      expect(clusterEntry(finished, reference)).toMatchObject({
        state: 'Applied',
        'namespace-status': 'Created',
        'user-certificate-status': 'Created',
        'role-status': 'Created',
      });
    }
    // B took it over only after A's lease had expired, and said so.
    const takeover = b
      .logText()
      .split('\n')
      .filter((line) => line.includes('resuming interrupted operation'))
      .map((line) => JSON.parse(line) as { time: number; replica: string; logicalCloud: string });
    expect(takeover).toEqual([
      expect.objectContaining({ replica: 'replica-b', logicalCloud: LOGICAL_CLOUDS.failover }),
    ]);
    expect(takeover[0]!.time).toBeGreaterThanOrEqual(killedAt.time);
    expect(await lease(id)).toBeNull();

    // The end state is complete: the tenant's kubeconfig from B works on both clusters.
    for (const reference of ['cluster-1', 'cluster-2']) {
      const res = await b.http
        .get(`${lcPath(PROJECT, LOGICAL_CLOUDS.failover)}/kubeconfig?cluster-reference=${reference}`)
        .expect(200);
      expect((await kubectl({ text: res.text }, ['auth', 'can-i', 'create', 'configmaps'])).stdout.trim()).toBe('yes');
      expect(
        (await kubectl({ text: res.text }, ['auth', 'can-i', 'get', 'configmaps', '-n', 'kube-system'])).stdout.trim(),
      ).toBe('no');
    }
  }, 180_000);

  it('a replica refuses to start without an encryption key outside development mode', async () => {
    const { code, output } = await runServiceProcessToExit('no-key', { MONGO_URL: mongoUrl(), DCM_DATABASE: database });
    expect(code).toBe(2);
    expect(output).toMatch(/no encryption key: set DCM_ENCRYPTION_KEYS/);
  }, 60_000);
});
