/**
 * WatchStatus on the real test cluster-1: a watcher sees the current status first, then an
 * apply made over gRPC progress to Created, per cluster; the tenant's kubeconfig comes as
 * YAML; terminate leaves nothing of the logical cloud on the cluster.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { ClientReadableStream, ServiceError } from '@grpc/grpc-js';
import grpc from '@grpc/grpc-js';
import { CoreV1Api } from '@kubernetes/client-node';
import yaml from 'js-yaml';
import { adminKubeConfig, testClusters } from '../support/backends.js';
import { startTestDcm, type TestDcm } from '../support/dcm.js';
import { createProject, createProvider, registerCluster } from '../support/rest.js';
import { json, startTestGrpc, struct, until, type TestGrpc } from '../support/grpc.js';

const PROJECT = 'p-grpc-watch';
const LC = 'lc-grpc';
const NAMESPACE = 'ns-grpc-1';
const cluster1 = testClusters[0];

interface StatusMessage {
  state: string;
  status: string;
  in_progress: boolean;
  body: never;
}

/** Collects a watch's messages; `next(predicate)` resolves with the first (past or future) that matches. */
function collect(stream: ClientReadableStream<StatusMessage>) {
  const messages: StatusMessage[] = [];
  let error: ServiceError | undefined;
  stream.on('data', (m: StatusMessage) => messages.push(m));
  stream.on('error', (e: ServiceError) => (error = e));
  return {
    messages,
    error: () => error,
    /** Event-driven: checks on every message, gives up when the watch ends. */
    next: (predicate: (m: StatusMessage) => boolean, what: string) =>
      new Promise<StatusMessage>((resolve, reject) => {
        const check = () => {
          const found = messages.find(predicate);
          if (found) resolve(found);
          else if (error) reject(new Error(`the watch ended (${error.message}) before ${what}`));
          else return;
          stream.off('data', check);
          stream.off('error', check);
        };
        stream.on('data', check);
        stream.on('error', check);
        check();
      }),
  };
}

describe('WatchStatus follows an apply on a real cluster', () => {
  let t: TestDcm;
  let g: TestGrpc;
  const ref = { project: PROJECT, logical_cloud: LC };
  const core = () => adminKubeConfig(cluster1.kubeconfigPath()).makeApiClient(CoreV1Api);
  const namespaceExists = () =>
    core()
      .readNamespace({ name: NAMESPACE })
      .then(
        () => true,
        (e: { code?: number }) => (e.code === 404 ? false : Promise.reject(e)),
      );

  beforeAll(async () => {
    expect(await namespaceExists()).toBe(false);
    t = await startTestDcm('grpcwatch');
    g = await startTestGrpc(t);
    await createProject(t, PROJECT);
    await createProvider(t, 'provider-1');
    await registerCluster(t, 'provider-1', cluster1.name, 1);
  });

  afterAll(async () => {
    // Whatever happened above, leave nothing on the cluster.
    const status = await t.dcm.services.lifecycle.getStatus(PROJECT, LC).catch(() => undefined);
    if (
      status?.status &&
      ['Instantiating', 'Instantiated', 'InstantiateFailed', 'TerminateFailed'].includes(status.status.state)
    ) {
      await t.dcm.services.lifecycle.settled(PROJECT, LC);
      await t.dcm.services.lifecycle.terminate(PROJECT, LC).catch(() => undefined);
      await t.dcm.services.lifecycle.settled(PROJECT, LC);
    }
    await g?.close();
    await t?.close();
  });

  it('sees the current status, then the apply progress to Created; hands out the kubeconfig; sees the terminate', async () => {
    await g.call('CreateLogicalCloud', {
      project: PROJECT,
      body: struct({
        metadata: { name: LC },
        spec: {
          namespace: NAMESPACE,
          user: {
            'user-name': 'user-grpc',
            type: 'certificate',
            'user-permissions': [{ 'permission-name': 'cm', apiGroups: [''], resources: ['configmaps'], verbs: ['*'] }],
          },
        },
      }),
    });
    await g.call('CreateClusterReference', { ...ref, body: struct({ name: cluster1.name }) });

    const stream = g.stream<StatusMessage>('WatchStatus', ref);
    const watch = collect(stream);
    const first = await watch.next(() => true, 'the current status');
    expect(first).toMatchObject({ state: 'Created', status: 'Not Applied', in_progress: false });

    const applied = await g.call<{ state: string; body: never }>('Apply', ref);
    expect(applied.state).toBe('Instantiating');
    expect(json(applied.body)).toMatchObject({
      'logical-cloud-name': LC,
      namespace: NAMESPACE,
      user: 'user-grpc',
      clusters: [cluster1.name],
    });

    const created = await watch.next((m) => m.status === 'Created', 'the status Created');
    expect(created).toMatchObject({ state: 'Instantiated', in_progress: false });
    expect(json(created.body)).toMatchObject({
      clusters: [
        {
          'cluster-reference': cluster1.name,
          state: 'Applied',
          'namespace-status': 'Created',
          'user-certificate-status': 'Created',
          'role-status': 'Created',
        },
      ],
    });
    // On the way: the operation in progress, and the cluster being applied.
    const states = watch.messages.map((m) => m.state);
    expect(states.indexOf('Instantiating')).toBeGreaterThan(0);
    expect(states.indexOf('Instantiating')).toBeLessThan(states.indexOf('Instantiated'));
    const clusterStates = watch.messages.flatMap((m) =>
      ((json(m.body).clusters ?? []) as { state: string }[]).map((c) => c.state),
    );
    expect(clusterStates).toEqual(expect.arrayContaining(['Pending', 'Applying', 'Applied']));
    // Every message differs from the one before it.
    for (let i = 1; i < watch.messages.length; i++) expect(watch.messages[i]).not.toEqual(watch.messages[i - 1]);
    expect(await namespaceExists()).toBe(true);

    const kubeconfig = await g.call<{ yaml: string }>('GetKubeconfig', { ...ref, cluster_reference: cluster1.name });
    const parsed = yaml.load(kubeconfig.yaml) as {
      users: { name: string }[];
      contexts: { context: { namespace: string } }[];
    };
    expect(parsed.contexts[0]!.context.namespace).toBe(NAMESPACE);
    expect(kubeconfig.yaml).toMatch(/client-certificate-data/);

    const terminating = await g.call<{ state: string }>('Terminate', ref);
    expect(terminating.state).toBe('Terminating');
    const terminated = await watch.next((m) => m.state === 'Terminated', 'the status Terminated');
    expect(json(terminated.body)).toMatchObject({ clusters: [{ state: 'Terminated', 'namespace-status': 'Deleted' }] });
    expect(await namespaceExists()).toBe(false);

    const lc = await t.dcm.services.logicalClouds.resolve(PROJECT, LC);
    expect(t.dcm.stores.lifecycle.events.listenerCount(lc.id)).toBe(1);
    stream.cancel();
    await until(() => watch.error() !== undefined, 'the watch to end');
    expect(watch.error()!.code).toBe(grpc.status.CANCELLED);
    await until(() => t.dcm.stores.lifecycle.events.listenerCount() === 0, 'the listener to go');

    await g.call('DeleteLogicalCloud', { project: PROJECT, name: LC });
  });

  it('a watch of a logical cloud that gets deleted ends with NOT_FOUND', async () => {
    await g.call('CreateLogicalCloud', {
      project: PROJECT,
      body: struct({ metadata: { name: 'lc-gone' }, spec: { level: '0' } }),
    });
    const watch = collect(g.stream<StatusMessage>('WatchStatus', { project: PROJECT, logical_cloud: 'lc-gone' }));
    await watch.next(() => true, 'the current status');
    await g.call('DeleteLogicalCloud', { project: PROJECT, name: 'lc-gone' });
    await until(() => watch.error() !== undefined, 'the watch to end');
    expect(watch.error()!.code).toBe(grpc.status.NOT_FOUND);
    expect(t.dcm.stores.lifecycle.events.listenerCount()).toBe(0);
  });
});
