/**
 * Durability (issue 4, points 1 and 3): status and credentials live in the database, so a
 * second DCM composed on the same database (a restart) answers the same; an operation found
 * in progress (the process died) is resumed and completes. The credentials of clusters
 * worked concurrently are all kept by the real MongoDB-protocol server.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Db } from 'mongodb';
import { kubectl } from '../support/backends.js';
import { startTestDcm, type TestDcm } from '../support/dcm.js';
import { createProject, createProvider, lcPath, registerCluster } from '../support/rest.js';
import {
  applyAndSettle,
  composeDcm,
  namespaceExists,
  rbac,
  readRole,
  removeLeftovers,
  statusOf,
  tenantKubeconfig,
  tenantLogicalCloud,
} from './apply-helpers.js';

const PROJECT = 'project-durability';
const LC = 'lc-durable';
const NS = 'ns-durable-1';

describe('status and operations survive a restart', () => {
  let t: TestDcm;
  let db: Db;
  /** The DCM "after the restart": composed anew on the same database. */
  let restarted: Awaited<ReturnType<typeof composeDcm>>;
  let logicalCloudId: string;

  /** What apply() records before the work starts, written as a process that died mid-way would leave it. */
  const leaveInProgress = async (kind: 'apply' | 'terminate') => {
    const result = await db.collection<{ _id: string }>('lifecycle').updateOne(
      { _id: logicalCloudId },
      {
        $set: {
          state: kind === 'apply' ? 'Instantiating' : 'Terminating',
          'operation.kind': kind,
          'operation.inProgress': true,
          'operation.requestedAt': new Date(),
        },
        $unset: { 'operation.finishedAt': '' },
      },
    );
    expect(result.matchedCount).toBe(1);
  };

  beforeAll(async () => {
    await removeLeftovers([NS], [LC]);
    t = await startTestDcm('apply_durability');
    db = t.mongo.db(t.databaseName);
    await createProject(t, PROJECT);
    await createProvider(t, 'provider-durability');
    await registerCluster(t, 'provider-durability', 'cluster-2', 2);
    await t.http
      .post(`/v2/projects/${PROJECT}/logical-clouds`)
      .send(tenantLogicalCloud(LC, NS, 'user-durable'))
      .expect(201);
    await t.http
      .post(`${lcPath(PROJECT, LC)}/cluster-references`)
      .send({ name: 'cluster-2' })
      .expect(201);
    logicalCloudId = (await t.dcm.services.logicalClouds.resolve(PROJECT, LC)).id;
  });

  afterAll(async () => {
    await restarted?.dcm.services.lifecycle.idle();
    await t?.close();
    await removeLeftovers([NS], [LC]);
  });

  it('a second DCM on the same database returns the same status and the same kubeconfig', async () => {
    const applied = await applyAndSettle(t, PROJECT, LC);
    expect(applied.status).toBe('Created');
    const kubeconfig = await tenantKubeconfig(t.http, PROJECT, LC, 'cluster-2');

    restarted = await composeDcm(db);
    expect(await statusOf(restarted.http, PROJECT, LC)).toEqual(applied);
    expect(await tenantKubeconfig(restarted.http, PROJECT, LC, 'cluster-2')).toBe(kubeconfig);
    expect((await kubectl({ text: kubeconfig }, ['auth', 'can-i', 'create', 'configmaps'])).stdout.trim()).toBe('yes');
    // What the restarted DCM knows is enforced by it too: the applied logical cloud cannot be deleted.
    expect((await restarted.http.delete(lcPath(PROJECT, LC))).status).toBe(409);
  });

  it('an apply left in progress is resumed at start-up and completes what was missing', async () => {
    // The process "died" after the apply was recorded and before the Role of permission-2 was made.
    await rbac(1).deleteNamespacedRole({ name: 'dcm-permission-2', namespace: NS });
    await leaveInProgress('apply');
    const interrupted = await statusOf(restarted.http, PROJECT, LC);
    expect(interrupted).toMatchObject({
      status: 'Creation in Progress',
      operation: { kind: 'apply', inProgress: true },
    });

    expect(await restarted.dcm.services.lifecycle.resumeInterrupted()).toBe(1);
    await restarted.dcm.services.lifecycle.settled(PROJECT, LC);
    const s = await statusOf(restarted.http, PROJECT, LC);
    expect(s).toMatchObject({ status: 'Created', operation: { kind: 'apply', inProgress: false } });
    expect(s.clusters).toEqual([
      expect.objectContaining({ 'cluster-reference': 'cluster-2', state: 'Applied', 'role-status': 'Created' }),
    ]);
    expect(await readRole(1, NS, 'dcm-permission-2')).toBeDefined();
    // Nothing is resumed twice.
    expect(await restarted.dcm.services.lifecycle.resumeInterrupted()).toBe(0);
    expect(await statusOf(t.http, PROJECT, LC)).toEqual(s);
  });

  it('a terminate left in progress is resumed too, and removes everything', async () => {
    await leaveInProgress('terminate');
    expect((await statusOf(restarted.http, PROJECT, LC)).status).toBe('Termination in Progress');
    expect(await restarted.dcm.services.lifecycle.resumeInterrupted()).toBe(1);
    await restarted.dcm.services.lifecycle.settled(PROJECT, LC);
    const s = await statusOf(restarted.http, PROJECT, LC);
    expect(s).toMatchObject({ status: 'Terminated', operation: { kind: 'terminate', inProgress: false } });
    expect(s.clusters).toEqual([expect.objectContaining({ state: 'Terminated', 'namespace-status': 'Deleted' })]);
    expect(await namespaceExists(1, NS)).toBe(false);
    await restarted.http.delete(lcPath(PROJECT, LC)).expect(204);
  });
});

describe('credentials in the database', () => {
  let t: TestDcm;
  const issued = (reference: string, n = 1) => ({
    reference,
    certificate: `certificate ${n} of ${reference}`,
    notAfter: new Date(1_900_000_000_000),
    signedBy: 'cluster' as const,
  });

  beforeAll(async () => {
    t = await startTestDcm('apply_credentials');
  });

  afterAll(async () => {
    await t?.close();
  });

  it('keeps the certificate of every cluster when clusters are worked concurrently', async () => {
    const store = t.dcm.stores.credentials;
    await store.prepareGeneration('lc-a', 2048, async () => 'key');
    const references = Array.from({ length: 8 }, (_, i) => `cluster-${i}`);
    await Promise.all(references.map((r) => store.putCertificate('lc-a', issued(r))));
    expect((await store.get('lc-a'))?.certificates.map((c) => c.reference).sort()).toEqual(references.sort());
  });

  it('keeps a generation and its key until another is asked for; a new one has a new key and no certificates', async () => {
    const store = t.dcm.stores.credentials;
    let generations = 0;
    const generate = async () => `key ${++generations}`;
    const first = await store.prepareGeneration('lc-c', 2048, generate);
    await store.putCertificate('lc-c', issued('cluster-1'));
    expect(await store.prepareGeneration('lc-c', 2048, generate)).toEqual(first);
    expect(generations).toBe(1);
    const revoked = await store.prepareGeneration('lc-c', 2048, generate, 'abcdef012345');
    expect(revoked).toEqual({ generation: first.generation + 1, generationId: 'abcdef012345' });
    // Asked again for the same generation (a resumed operation): nothing changes.
    expect(await store.prepareGeneration('lc-c', 2048, generate, 'abcdef012345')).toEqual(revoked);
    expect(generations).toBe(2);
    expect(await store.get('lc-c')).toMatchObject({
      privateKey: 'key 2',
      certificates: [],
      generationId: 'abcdef012345',
    });
    expect(first.generationId).not.toBe(revoked.generationId);
  });

  it('replaces and removes the certificate of one reference only', async () => {
    const store = t.dcm.stores.credentials;
    await store.prepareGeneration('lc-b', 2048, async () => 'key');
    await Promise.all(['cluster-1', 'cluster-2', 'cluster-3'].map((r) => store.putCertificate('lc-b', issued(r))));
    await Promise.all([
      store.putCertificate('lc-b', issued('cluster-2', 2)),
      store.removeCertificate('lc-b', 'cluster-3'),
    ]);
    expect((await store.get('lc-b'))?.certificates.map((c) => c.certificate).sort()).toEqual([
      'certificate 1 of cluster-1',
      'certificate 2 of cluster-2',
    ]);
  });
});
