/**
 * EMCO's StatusNotify on the gRPC port, with a client built from proto/statusnotify.proto (EMCO's
 * published interface, no proto package) and the real test clusters: a registration made before
 * apply sees NOT_DEPLOYED, then DEPLOYED with both clusters and their Namespace, Role,
 * RoleBinding and ResourceQuota; a READY registration sees READY; the clusters and resources
 * filters narrow what is listed; terminate brings NOT_DEPLOYED; StatusDeregister ends the
 * caller's own streams only. Refused: other EMCO services' keys (INVALID_ARGUMENT naming the key),
 * bad fields (naming the field), another project's caller (PERMISSION_DENIED), no token.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import grpc from '@grpc/grpc-js';
import type { Client, ClientReadableStream, ServiceError } from '@grpc/grpc-js';
import protoLoader from '@grpc/proto-loader';
import { PROTO_DIR } from '../../src/grpc/proto.js';
import { design } from '../support/dcm.js';
import { bearer, startTestGrpc, until, type TestGrpc } from '../support/grpc.js';
import { createProject, createProvider, lcPath, registerCluster } from '../support/rest.js';
import { namespaceExists, removeLeftovers } from './apply-helpers.js';
import { allowEverything, startAuthDcm, TOKENS, type AuthTestDcm } from './auth-fixtures.js';

const { status } = grpc;
const PROJECT = 'p1';
const LC = 'lc-sn';
const NAMESPACE = 'ns-status-notify';

type Value = 'STATUS_ERROR' | 'NOT_READY' | 'READY' | 'NOT_DEPLOYED' | 'DEPLOYED';
interface Resource {
  name: string;
  gvk: { group: string; version: string; kind: string };
  statusValue: Value;
}
interface Notification {
  statusValue: Value;
  details: {
    statusDetail: string;
    cluster?: { clusterProvider: string; cluster: string; statusValue: Value; resources: Resource[] };
  }[];
}

/** A StatusNotify client generated from EMCO's proto alone, as an EMCO service builds one. */
function statusNotifyClient(port: number): Client {
  const definition = protoLoader.loadSync(path.join(PROTO_DIR, 'statusnotify.proto'), {
    keepCase: true,
    enums: String,
    defaults: true,
    oneofs: true,
  });
  const StatusNotify = grpc.loadPackageDefinition(definition).StatusNotify as grpc.ServiceClientConstructor;
  return new StatusNotify(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
}

/** A registration's notifications; `next(predicate)` resolves with the first (past or future) that matches. */
function watch(stream: ClientReadableStream<Notification>) {
  const messages: Notification[] = [];
  let ended: { code: number; details: string } | undefined;
  stream.on('data', (m: Notification) => messages.push(m));
  stream.on('status', (s: grpc.StatusObject) => (ended = { code: s.code, details: s.details }));
  stream.on('error', (e: ServiceError) => (ended ??= { code: e.code, details: e.details }));
  return {
    messages,
    ended: () => ended,
    next: (predicate: (m: Notification) => boolean, what: string) =>
      new Promise<Notification>((resolve, reject) => {
        const check = () => {
          const found = messages.find(predicate);
          if (found) resolve(found);
          else if (ended) reject(new Error(`the stream ended (${ended.code} ${ended.details}) before ${what}`));
          else return;
          stream.off('data', check);
          stream.off('status', check);
          stream.off('error', check);
        };
        stream.on('data', check);
        stream.on('status', check);
        stream.on('error', check);
        check();
      }),
  };
}

/** The error a registration is refused with (fails if it sends a notification first). */
const refusal = (stream: ClientReadableStream<unknown>) =>
  new Promise<ServiceError>((resolve, reject) => {
    stream.on('data', () => reject(new Error('expected the registration to be refused')));
    stream.on('error', resolve);
  });

describe("EMCO's StatusNotify for logical clouds", () => {
  let t: AuthTestDcm;
  let g: TestGrpc;
  let client: Client;
  const admin = () => t.as(TOKENS.admin);
  const lcKey = { project: PROJECT, logicalCloud: LC };
  const register = (request: Record<string, unknown>, token: string | null = TOKENS.team1) =>
    (
      client as unknown as {
        StatusRegister(r: unknown, m: grpc.Metadata): ClientReadableStream<Notification>;
      }
    ).StatusRegister(request, token ? bearer(token) : new grpc.Metadata());
  const deregister = (clientId: string, token: string = TOKENS.team1) =>
    new Promise<unknown>((resolve, reject) =>
      (
        client as unknown as {
          StatusDeregister(r: unknown, m: grpc.Metadata, cb: (e: ServiceError | null, r: unknown) => void): void;
        }
      ).StatusDeregister({ clientId }, bearer(token), (e, r) => (e ? reject(e) : resolve(r))),
    );
  const clusterOf = (n: Notification, name: string) => n.details.find((d) => d.cluster?.cluster === name)?.cluster;

  beforeAll(async () => {
    for (const i of [0, 1] as const) expect(await namespaceExists(i, NAMESPACE)).toBe(false);
    t = await startAuthDcm('status_notify');
    g = await startTestGrpc(t);
    client = statusNotifyClient(g.port);
    const http = { http: admin() };
    await createProject(http, PROJECT);
    await createProject(http, 'p2');
    await createProvider(http, 'provider-1');
    await registerCluster(http, 'provider-1', 'cluster-1', 1);
    await registerCluster(http, 'provider-1', 'cluster-2', 2);
    await allowEverything(admin(), PROJECT);
    const body = design.logicalCloud();
    body.metadata.name = LC;
    body.spec.namespace = NAMESPACE;
    await admin().post(`/v2/projects/${PROJECT}/logical-clouds`).send(body).expect(201);
    for (const cluster of ['cluster-1', 'cluster-2'])
      await admin()
        .post(`${lcPath(PROJECT, LC)}/cluster-references`)
        .send({ name: cluster })
        .expect(201);
    await admin()
      .post(`${lcPath(PROJECT, LC)}/cluster-quotas`)
      .send(design.quota())
      .expect(201);
  });

  afterAll(async () => {
    const lifecycle = t?.dcm.services.lifecycle;
    const state = (await lifecycle?.getStatus(PROJECT, LC).catch(() => undefined))?.status?.state;
    if (lifecycle && state && state !== 'Terminated') {
      await lifecycle.settled(PROJECT, LC);
      await lifecycle.terminate(PROJECT, LC).catch(() => undefined);
      await lifecycle.settled(PROJECT, LC);
    }
    client?.close();
    await g?.close();
    await t?.close();
    await removeLeftovers([NAMESPACE], [LC]);
  });

  it('refuses the keys of other EMCO services, naming the key, and bad fields, naming the field', async () => {
    const dig = await refusal(
      register({
        clientId: 'c-dig',
        digKey: { project: PROJECT, compositeApp: 'a', compositeAppVersion: 'v1', deploymentIntentGroup: 'd' },
        statusType: 'DEPLOYED',
      }),
    );
    expect(dig.code).toBe(status.INVALID_ARGUMENT);
    expect(dig.details).toMatch(/^digKey: .*logical clouds \(lcKey\) only/);
    const cluster = await refusal(
      register({ clientId: 'c-ck', clusterKey: { clusterProvider: 'provider-1', cluster: 'cluster-1' } }),
    );
    expect(cluster.code).toBe(status.INVALID_ARGUMENT);
    expect(cluster.details).toMatch(/^clusterKey: /);

    const cases: [Record<string, unknown>, RegExp][] = [
      [{ clientId: 'c1', statusType: 'DEPLOYED' }, /lcKey/],
      [{ clientId: 'c1', lcKey }, /statusType: must be DEPLOYED or READY/],
      [{ clientId: 'x'.repeat(129), lcKey, statusType: 'READY' }, /clientId: at most 128 characters/],
      [{ clientId: '', lcKey, statusType: 'READY' }, /clientId: is required/],
      [{ clientId: 'c1', lcKey, statusType: 'READY', apps: ['a'] }, /apps: a logical cloud has no apps/],
      [{ clientId: 'c1', lcKey, statusType: 'READY', clusters: Array(101).fill('c') }, /clusters: at most 100/],
      [
        { clientId: 'c1', lcKey: { project: PROJECT, logicalCloud: 'l'.repeat(200) }, statusType: 'READY' },
        /logicalCloud/,
      ],
    ];
    for (const [request, message] of cases) {
      const error = await refusal(register(request, TOKENS.admin));
      expect({ code: error.code, details: error.details }).toEqual({
        code: status.INVALID_ARGUMENT,
        details: expect.stringMatching(message),
      });
    }
    // Nothing was kept open by a refusal.
    expect(t.dcm.stores.lifecycle.events.listenerCount()).toBe(0);
  });

  it('refuses a caller without a token, and a caller of another project', async () => {
    const request = { clientId: 'c-x', lcKey, statusType: 'DEPLOYED' };
    expect((await refusal(register(request, null))).code).toBe(status.UNAUTHENTICATED);
    const other = await refusal(register(request, TOKENS.team2));
    expect(other.code).toBe(status.PERMISSION_DENIED);
    expect(other.details).toMatch(/may not read the status of logical cloud p1\/lc-sn/);
    // The tenant of p1/lc-1 may read that logical cloud's status only.
    expect((await refusal(register(request, TOKENS.tenant))).code).toBe(status.PERMISSION_DENIED);
    expect(t.dcm.stores.lifecycle.events.listenerCount()).toBe(0);
  });

  it('follows apply and terminate on both real clusters, in DEPLOYED and READY, and ends at deregistration', async () => {
    const deployed = watch(register({ clientId: 'emco-1', lcKey, statusType: 'DEPLOYED', output: 'ALL' }));
    const ready = watch(register({ clientId: 'emco-1', lcKey, statusType: 'READY', output: 'SUMMARY' }));
    const filtered = watch(
      register({
        clientId: 'emco-2',
        lcKey,
        statusType: 'DEPLOYED',
        output: 'ALL',
        clusters: ['provider-1+cluster-1'],
        resources: [NAMESPACE],
      }),
    );
    expect(await deployed.next(() => true, 'the first notification')).toEqual({
      statusValue: 'NOT_DEPLOYED',
      details: [],
    });
    expect(await ready.next(() => true, 'the first notification')).toEqual({ statusValue: 'NOT_READY', details: [] });

    await admin()
      .post(`${lcPath(PROJECT, LC)}/apply`)
      .expect(200);
    const up = await deployed.next((m) => m.statusValue === 'DEPLOYED', 'DEPLOYED');
    expect(
      up.details.map((d) => [d.statusDetail, d.cluster?.clusterProvider, d.cluster?.cluster, d.cluster?.statusValue]),
    ).toEqual([
      ['cluster', 'provider-1', 'cluster-1', 'DEPLOYED'],
      ['cluster', 'provider-1', 'cluster-2', 'DEPLOYED'],
    ]);
    for (const name of ['cluster-1', 'cluster-2']) {
      const resources = clusterOf(up, name)!.resources;
      expect(resources).toEqual(
        expect.arrayContaining([
          { name: NAMESPACE, gvk: { group: '', version: 'v1', kind: 'Namespace' }, statusValue: 'DEPLOYED' },
          expect.objectContaining({ gvk: { group: 'rbac.authorization.k8s.io', version: 'v1', kind: 'Role' } }),
          expect.objectContaining({ gvk: { group: 'rbac.authorization.k8s.io', version: 'v1', kind: 'RoleBinding' } }),
          expect.objectContaining({
            gvk: { group: '', version: 'v1', kind: 'ResourceQuota' },
            statusValue: 'DEPLOYED',
          }),
        ]),
      );
      expect(resources.every((r) => r.statusValue === 'DEPLOYED')).toBe(true);
    }
    // Before DEPLOYED, the apply in progress was NOT_DEPLOYED; each notification differs from the one before.
    const values = deployed.messages.map((m) => m.statusValue);
    expect(values.slice(0, values.indexOf('DEPLOYED')).every((v) => v === 'NOT_DEPLOYED')).toBe(true);
    for (let i = 1; i < deployed.messages.length; i++)
      expect(deployed.messages[i]).not.toEqual(deployed.messages[i - 1]);

    expect(await ready.next((m) => m.statusValue === 'READY', 'READY')).toEqual({ statusValue: 'READY', details: [] });
    const one = await filtered.next((m) => m.statusValue === 'DEPLOYED', 'DEPLOYED (filtered)');
    expect(one.details).toEqual([
      {
        statusDetail: 'cluster',
        cluster: {
          clusterProvider: 'provider-1',
          cluster: 'cluster-1',
          statusValue: 'DEPLOYED',
          resources: [
            { name: NAMESPACE, gvk: { group: '', version: 'v1', kind: 'Namespace' }, statusValue: 'DEPLOYED' },
          ],
        },
      },
    ]);

    await t.dcm.services.lifecycle.settled(PROJECT, LC);
    await admin()
      .post(`${lcPath(PROJECT, LC)}/terminate`)
      .expect(202);
    const down = await deployed.next(
      (m) => m.statusValue === 'NOT_DEPLOYED' && deployed.messages.indexOf(m) > deployed.messages.indexOf(up),
      'NOT_DEPLOYED after terminate',
    );
    await t.dcm.services.lifecycle.settled(PROJECT, LC);
    const last = await deployed.next(
      (m) =>
        m.details.length === 2 &&
        m.details.every((d) => d.cluster!.resources.every((r) => r.statusValue === 'NOT_DEPLOYED')),
      'every object NOT_DEPLOYED',
    );
    expect(down.statusValue).toBe('NOT_DEPLOYED');
    expect(last.details.map((d) => d.cluster!.statusValue)).toEqual(['NOT_DEPLOYED', 'NOT_DEPLOYED']);
    await ready.next(
      (m) => m.statusValue === 'NOT_READY' && ready.messages.indexOf(m) > 0,
      'NOT_READY after terminate',
    );
    for (const i of [0, 1] as const) expect(await namespaceExists(i, NAMESPACE)).toBe(false);

    // Another caller's deregistration of the same clientId ends nothing of team-1's.
    await deregister('emco-1', TOKENS.team2);
    // The server ends a stream before it answers the deregistration: all three are still open.
    expect(g.server.activeWatches()).toBe(3);

    await deregister('emco-1');
    await until(() => deployed.ended() !== undefined && ready.ended() !== undefined, 'both emco-1 streams to end');
    expect(deployed.ended()!.code).toBe(status.OK);
    expect(ready.ended()!.code).toBe(status.OK);
    // emco-2 is another client: still open.
    expect(filtered.ended()).toBeUndefined();
    const lc = await t.dcm.services.logicalClouds.resolve(PROJECT, LC);
    await until(() => t.dcm.stores.lifecycle.events.listenerCount(lc.id) === 1, 'the emco-1 listeners to go');
    await deregister('emco-2');
    await until(() => filtered.ended() !== undefined, 'the emco-2 stream to end');
    await until(() => t.dcm.stores.lifecycle.events.listenerCount() === 0, 'every listener to go');
    expect(g.server.activeWatches()).toBe(0);
  });
});
