/**
 * The cluster gateway on the real test clusters: deleting a namespace and waiting until it is
 * gone, a client certificate signed through the CSR API (it verifies against the cluster's CA
 * and kubectl authenticates with it), discovery, and watches: label-selected ADDED, MODIFIED
 * and DELETED of RoleBindings and ResourceQuotas (in a namespace and across all of them), a kind
 * the cluster does not serve, stop(), and an API server that goes away.
 */
import { randomBytes, X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import yaml from 'js-yaml';
import { createCsr, generatePrivateKey } from '../../src/certificates/certificates.js';
import { ClusterError, Invalid, NotFound, NotServed } from '../../src/kubernetes/cluster-errors.js';
import { createClusterGateway } from '../../src/kubernetes/kube-cluster-gateway.js';
import {
  type ClusterGateway,
  type KubeObject,
  type WatchEventType,
  type WatchHandle,
} from '../../src/kubernetes/cluster-gateway.js';
import { kubectl, testClusters } from '../support/backends.js';

const RUN = randomBytes(3).toString('hex');
const NS = `ns-gateway-${RUN}`;
const NS_DELETE = `ns-gateway-del-${RUN}`;
const LABEL = 'dcm-gateway-test';
const RBAC = 'rbac.authorization.k8s.io/v1';

const adminText = fs.readFileSync(testClusters[0].kubeconfigPath(), 'utf8');

interface KubeconfigDoc {
  clusters: { name: string; cluster: { server: string; 'certificate-authority-data': string } }[];
}
const admin = yaml.load(adminText) as KubeconfigDoc;
const clusterCa = Buffer.from(admin.clusters[0]!.cluster['certificate-authority-data'], 'base64').toString('utf8');
const server = admin.clusters[0]!.cluster.server;

/** A watch's events as they come, and a way to wait for one. */
class Recorder {
  readonly events: { type: WatchEventType; name: string; object: KubeObject }[] = [];
  closed: { error?: Error } | undefined;
  private waiters: (() => void)[] = [];

  readonly handlers = {
    event: (type: WatchEventType, object: KubeObject) => {
      this.events.push({ type, name: object.metadata?.name ?? '', object });
      this.wake();
    },
    closed: (error?: Error) => {
      this.closed = { ...(error ? { error } : {}) };
      this.wake();
    },
  };

  private wake() {
    for (const w of this.waiters.splice(0)) w();
  }

  /** Resolves once the predicate holds (checked at every event or close); the test's timeout bounds it. */
  async until(predicate: () => boolean): Promise<void> {
    while (!predicate()) await new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  /** The first such event; fails when the watch ends before it. */
  async event(type: WatchEventType, name: string, where: (o: KubeObject) => boolean = () => true): Promise<KubeObject> {
    const seen = () => this.events.some((e) => e.type === type && e.name === name && where(e.object));
    await this.until(() => seen() || this.closed !== undefined);
    if (!seen())
      throw new Error(
        `the watch ended before ${type} ${name}: ${this.closed?.error?.message ?? 'closed by the server'}`,
      );
    return this.events.find((e) => e.type === type && e.name === name && where(e.object))!.object;
  }
}

const roleBinding = (name: string, labels: Record<string, string>, group: string) => ({
  apiVersion: RBAC,
  kind: 'RoleBinding',
  metadata: { name, namespace: NS, labels },
  roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' },
  subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: group }],
});

const quota = (name: string, labels: Record<string, string>, pods: string) => ({
  apiVersion: 'v1',
  kind: 'ResourceQuota',
  metadata: { name, namespace: NS, labels },
  spec: { hard: { pods } },
});

describe('the cluster gateway on a real cluster', () => {
  let gateway: ClusterGateway;
  const handles: WatchHandle[] = [];

  beforeAll(async () => {
    gateway = createClusterGateway(adminText, 10_000);
    await gateway.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
  });

  afterAll(async () => {
    for (const h of handles) h.stop();
    await gateway.deleteAndWait({ apiVersion: 'v1', kind: 'Namespace', name: NS }, 60_000).catch(() => undefined);
    await gateway
      .deleteAndWait({ apiVersion: 'v1', kind: 'Namespace', name: NS_DELETE }, 60_000)
      .catch(() => undefined);
    gateway.close();
  });

  it('reads which resources which API groups serve', async () => {
    const served = await gateway.servedResources();
    expect(served.get('namespaces')).toEqual(new Set(['']));
    expect(served.get('rolebindings')?.has('rbac.authorization.k8s.io')).toBe(true);
    expect(served.get('certificatesigningrequests/approval')?.has('certificates.k8s.io')).toBe(true);
    expect(served.get('jobs')?.has('')).toBeFalsy();
  });

  it('deletes a namespace and returns once it is gone, not while it is Terminating', async () => {
    const ref = { apiVersion: 'v1', kind: 'Namespace', name: NS_DELETE };
    await gateway.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS_DELETE } });
    // Something in it, so that the namespace controller has to finalize it.
    await gateway.apply({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'content', namespace: NS_DELETE },
      data: { a: 'b' },
    });
    expect(await gateway.deleteAndWait(ref, 60_000)).toBe(true);
    expect(await gateway.read(ref)).toBeUndefined();
    // Gone already: nothing to delete, nothing to wait for.
    expect(await gateway.deleteAndWait(ref, 60_000)).toBe(false);
    // A kind the cluster does not serve has no object either.
    expect(await gateway.deleteAndWait({ apiVersion: 'example.com/v1', kind: 'Nothing', name: 'x' }, 1000)).toBe(false);
  });

  it("turns the API server's refusals into typed errors: an invalid object, a kind it does not serve", async () => {
    const invalid = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'Not_A_Name', namespace: 'default' } };
    await expect(gateway.apply(invalid)).rejects.toBeInstanceOf(Invalid);
    await expect(gateway.apply(invalid)).rejects.toThrow(/Not_A_Name/);
    const unserved = { apiVersion: 'v1', kind: 'NoSuchKind', name: 'x', namespace: 'default' };
    await expect(gateway.deleteAndWait(unserved, 1000)).resolves.toBe(false);
    const closed = await new Promise<Error | undefined>((resolve) => {
      void gateway.watch('v1', 'NoSuchKind', {}, { event: () => undefined, closed: resolve });
    });
    expect(closed).toBeInstanceOf(NotServed);
  });

  it('has a client certificate signed by the cluster: it verifies against the cluster CA, and kubectl authenticates with it', async () => {
    const key = await generatePrivateKey(2048);
    const commonName = `dcm-gateway-user-${RUN}`;
    const csrPem = createCsr({ privateKeyPem: key, commonName, organization: `dcm-gateway-group-${RUN}` });
    const name = `dcm-gateway-${RUN}`;
    const seen: string[] = [];
    const certificate = await gateway.signClientCertificate({
      name,
      csrPem,
      labels: { [LABEL]: 'csr' },
      expirationSeconds: 3600,
      approvalMessage: 'approved by the gateway test',
      signTimeoutMs: 30_000,
      beforeApproval: async (csrName) => void seen.push(csrName),
    });
    expect(seen).toEqual([name]);
    const x509 = new X509Certificate(certificate);
    expect(x509.verify(new X509Certificate(clusterCa).publicKey)).toBe(true);
    expect(x509.subject).toContain(`CN=${commonName}`);
    // The CSR is deleted once its certificate is had.
    expect(
      await gateway.read({ apiVersion: 'certificates.k8s.io/v1', kind: 'CertificateSigningRequest', name }),
    ).toBeUndefined();

    const kubeconfig = yaml.dump({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [
        { name: 'c', cluster: { server, 'certificate-authority-data': Buffer.from(clusterCa).toString('base64') } },
      ],
      users: [
        {
          name: 'u',
          user: {
            'client-certificate-data': Buffer.from(certificate).toString('base64'),
            'client-key-data': Buffer.from(key).toString('base64'),
          },
        },
      ],
      contexts: [{ name: 'x', context: { cluster: 'c', user: 'u' } }],
      'current-context': 'x',
    });
    const whoami = await kubectl({ text: kubeconfig }, ['auth', 'whoami', '-o', 'json']);
    expect(whoami.stderr).toBe('');
    expect(JSON.parse(whoami.stdout).status.userInfo).toMatchObject({
      username: commonName,
      groups: expect.arrayContaining([`dcm-gateway-group-${RUN}`]),
    });
  });

  it('watches label-selected RoleBindings of a namespace: ADDED (also for what existed), MODIFIED, DELETED; others not', async () => {
    const selected = { [LABEL]: 'rb' };
    await gateway.apply(roleBinding('rb-before', selected, 'g-before'));
    const rec = new Recorder();
    handles.push(
      await gateway.watch(RBAC, 'RoleBinding', { namespace: NS, labelSelector: `${LABEL}=rb` }, rec.handlers),
    );
    await rec.event('ADDED', 'rb-before');

    await gateway.apply(roleBinding('rb-other', { [LABEL]: 'other' }, 'g-other'));
    await gateway.apply(roleBinding('rb-1', selected, 'g-1'));
    await rec.event('ADDED', 'rb-1');
    await gateway.apply(roleBinding('rb-1', selected, 'g-2'));
    const modified = await rec.event('MODIFIED', 'rb-1');
    expect((modified.subjects as { name: string }[])[0]!.name).toBe('g-2');
    expect(await gateway.delete({ apiVersion: RBAC, kind: 'RoleBinding', name: 'rb-1', namespace: NS })).toBe(true);
    await rec.event('DELETED', 'rb-1');
    expect(rec.events.some((e) => e.name === 'rb-other')).toBe(false);
    expect(rec.closed).toBeUndefined();
  });

  it('watches label-selected ResourceQuotas across all namespaces when no namespace is given', async () => {
    const rec = new Recorder();
    handles.push(await gateway.watch('v1', 'ResourceQuota', { labelSelector: `${LABEL}=quota-${RUN}` }, rec.handlers));
    await gateway.apply(quota('q-1', { [LABEL]: `quota-${RUN}` }, '10'));
    const added = await rec.event('ADDED', 'q-1');
    expect(added.metadata?.namespace).toBe(NS);
    await gateway.apply(quota('q-1', { [LABEL]: `quota-${RUN}` }, '20'));
    await rec.event('MODIFIED', 'q-1', (o) => (o.spec as { hard: Record<string, string> }).hard.pods === '20');
    await gateway.delete({ apiVersion: 'v1', kind: 'ResourceQuota', name: 'q-1', namespace: NS });
    await rec.event('DELETED', 'q-1');
    expect(rec.closed).toBeUndefined();
  });

  it('calls closed(error) for a kind the cluster does not serve, whether its group is served or not', async () => {
    for (const [apiVersion, kind] of [
      ['example.com/v1', 'Nothing'],
      ['v1', 'NoSuchKind'],
    ] as const) {
      const rec = new Recorder();
      await gateway.watch(apiVersion, kind, {}, rec.handlers);
      await rec.until(() => rec.closed !== undefined);
      expect(rec.closed!.error).toBeInstanceOf(NotFound);
      expect(rec.closed!.error!.message).toMatch(new RegExp(`${kind}`));
      expect(rec.events).toEqual([]);
    }
  });

  it('stop() ends a watch: no more events, and no closed()', async () => {
    const selector = `${LABEL}=stop-${RUN}`;
    const stopped = new Recorder();
    const handle = await gateway.watch(
      RBAC,
      'RoleBinding',
      { namespace: NS, labelSelector: selector },
      stopped.handlers,
    );
    handle.stop();
    const running = new Recorder();
    handles.push(
      await gateway.watch(RBAC, 'RoleBinding', { namespace: NS, labelSelector: selector }, running.handlers),
    );
    await gateway.apply(roleBinding('rb-stop', { [LABEL]: `stop-${RUN}` }, 'g'));
    // The running watch sees it: the stopped one would have by now.
    await running.event('ADDED', 'rb-stop');
    expect(stopped.events).toEqual([]);
    expect(stopped.closed).toBeUndefined();
  });

  it('calls closed(error) when the connection to the API server goes away, and when the gateway is closed its watches stop', async () => {
    const target = new URL(server);
    const sockets = new Set<net.Socket>();
    const relay = net.createServer((client) => {
      const upstream = net.connect(Number(target.port), '127.0.0.1');
      sockets.add(client).add(upstream);
      client.pipe(upstream).pipe(client);
      const done = () => {
        client.destroy();
        upstream.destroy();
      };
      client.on('close', done).on('error', done);
      upstream.on('close', done).on('error', done);
    });
    await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
    const port = (relay.address() as net.AddressInfo).port;
    const relayed = createClusterGateway(adminText.replace(target.origin, `https://127.0.0.1:${port}`), 10_000);
    const selector = `${LABEL}=relay-${RUN}`;
    await gateway.apply(roleBinding('rb-relay', { [LABEL]: `relay-${RUN}` }, 'g'));
    try {
      const rec = new Recorder();
      await relayed.watch(RBAC, 'RoleBinding', { namespace: NS, labelSelector: selector }, rec.handlers);
      await rec.event('ADDED', 'rb-relay');
      for (const s of sockets) s.destroy();
      await rec.until(() => rec.closed !== undefined);
      expect(rec.closed!.error).toBeInstanceOf(ClusterError);
      expect(rec.closed!.error!.message).toMatch(/^watch rbac\.authorization\.k8s\.io\/v1 RoleBinding in ns-gateway-/);

      // close(): a running watch is stopped, not reported.
      const second = new Recorder();
      await relayed.watch(RBAC, 'RoleBinding', { namespace: NS, labelSelector: selector }, second.handlers);
      await second.event('ADDED', 'rb-relay');
      const control = new Recorder();
      handles.push(
        await gateway.watch(RBAC, 'RoleBinding', { namespace: NS, labelSelector: selector }, control.handlers),
      );
      relayed.close();
      const count = second.events.length;
      await gateway.apply(roleBinding('rb-after-close', { [LABEL]: `relay-${RUN}` }, 'g'));
      await control.event('ADDED', 'rb-after-close');
      expect(second.events).toHaveLength(count);
      expect(second.closed).toBeUndefined();
    } finally {
      relayed.close();
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => relay.close(() => resolve()));
    }
  });
});
