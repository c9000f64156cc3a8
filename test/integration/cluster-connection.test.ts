/**
 * The DCM's connection to a cluster keeps one TLS connection for all of its calls (the
 * library alone opens one per call) and closes it when told. Seen from outside: a TCP relay
 * on 127.0.0.1 in front of the real API server counts the connections it carries.
 */
import fs from 'node:fs';
import net from 'node:net';
import { afterEach, describe, expect, it } from '@jest/globals';
import { createClusterGateway } from '../../src/kubernetes/kube-cluster-gateway.js';
import { testClusters } from '../support/backends.js';

interface Relay {
  port: number;
  accepted: number;
  open: number;
  /** Resolves once no relayed connection is open. */
  allClosed(): Promise<void>;
  close(): Promise<void>;
}

async function startRelay(target: URL): Promise<Relay> {
  const sockets = new Set<net.Socket>();
  let idle: (() => void) | undefined;
  const relay: Relay = {
    port: 0,
    accepted: 0,
    get open() {
      return sockets.size;
    },
    allClosed: () => (sockets.size === 0 ? Promise.resolve() : new Promise<void>((resolve) => (idle = resolve))),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
  const server = net.createServer((client) => {
    relay.accepted++;
    sockets.add(client);
    const upstream = net.connect(Number(target.port), '127.0.0.1');
    client.pipe(upstream).pipe(client);
    const done = () => {
      client.destroy();
      upstream.destroy();
      if (sockets.delete(client) && sockets.size === 0) idle?.();
    };
    client.on('close', done).on('error', done);
    upstream.on('close', done).on('error', done);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  relay.port = (server.address() as net.AddressInfo).port;
  return relay;
}

describe('connection to a cluster', () => {
  let relay: Relay | undefined;

  afterEach(async () => {
    await relay?.close();
  });

  it('makes all its calls over one kept-alive TLS connection and closes it on close()', async () => {
    const kubeconfig = fs.readFileSync(testClusters[0]!.kubeconfigPath(), 'utf8');
    const server = new URL(/server:\s*(\S+)/.exec(kubeconfig)![1]!);
    relay = await startRelay(server);
    const connection = createClusterGateway(
      kubeconfig.replace(server.origin, `https://127.0.0.1:${relay.port}`),
      10_000,
    );

    const namespace = { apiVersion: 'v1', kind: 'Namespace', name: 'default' };
    for (let i = 0; i < 5; i++) expect((await connection.read(namespace))?.metadata?.name).toBe('default');
    expect(
      (await connection.list('v1', 'ServiceAccount', { namespace: 'default' })).map((s) => s.metadata?.name),
    ).toContain('default');
    expect(await connection.getJson<{ kind: string }>('/api')).toMatchObject({ kind: 'APIVersions' });

    expect(relay.accepted).toBe(1);
    expect(relay.open).toBe(1);
    connection.close();
    await relay.allClosed();
    expect(relay.open).toBe(0);
  });
});
