/**
 * The controllers against a FakeCluster (the ClusterGateway in memory): the edge cases a real
 * cluster rarely shows on demand — a namespace that is someone else's or holds a CA key, a
 * refused or unanswered request, a namespace that stays in Terminating, a list that fails,
 * discovery that fails, a signer that issues the wrong certificate, a control plane that becomes
 * ready while apply waits, a watch the server ends or cannot run.
 */
import { beforeAll, describe, expect, it } from '@jest/globals';
import type { CaKeyPair } from '../../src/certificates/certificate-authority/ca-certificate-builder.js';
import { createRootCa } from '../../src/certificates/certificate-authority/root-ca.js';
import { createCsr, generatePrivateKey, signCsrLocally } from '../../src/certificates/certificates.js';
import type { ClusterContext, ClusterWork } from '../../src/controllers/cluster-context.js';
import { NamespaceController } from '../../src/controllers/namespace.controller.js';
import { csrName } from '../../src/controllers/object-names.js';
import { QuotaController } from '../../src/controllers/quota.controller.js';
import { RbacController } from '../../src/controllers/rbac.controller.js';
import { ServiceMeshController } from '../../src/controllers/service-mesh.controller.js';
import { UserController, type TenantCredentialStore } from '../../src/controllers/user.controller.js';
import type { PermissionData } from '../../src/domain/logical-cloud.js';
import type { IssuedCertificate } from '../../src/domain/tenant-credentials.js';
import type { TenantIdentity } from '../../src/domain/tenant-identity.js';
import { ClusterError, Forbidden, Unreachable } from '../../src/kubernetes/cluster-errors.js';
import type { ListOptions, WatchHandle, WatchHandlers } from '../../src/kubernetes/cluster-gateway.js';
import { contextFor, LC_ID, NS, OURS, record, REVISION } from '../support/controller-context.js';
import { FakeCluster, matchesSelector } from '../support/fake-cluster.js';

const lines = (ctx: ClusterContext) => ctx.resources.map((r) => `${r.kind} ${r.name} ${r.status}`);

describe('FakeCluster label selectors', () => {
  it('read k=v, k==v, k!=v, k and !k terms', () => {
    const labels = { a: '1', b: '2' };
    expect(matchesSelector(labels, 'a=1,b==2')).toBe(true);
    expect(matchesSelector(labels, 'a!=1')).toBe(false);
    expect(matchesSelector(labels, 'a,!c')).toBe(true);
    expect(matchesSelector(labels, 'c')).toBe(false);
    expect(matchesSelector(undefined, '')).toBe(true);
  });
});

describe('the namespace controller', () => {
  const controller = new NamespaceController(200);

  it('applies the namespace with the logical cloud’s labels and its own', async () => {
    const cluster = new FakeCluster();
    const ctx = contextFor(cluster);
    expect(await controller.apply(ctx)).toBe('ready');
    expect(cluster.get('Namespace', NS)!.metadata!.labels).toMatchObject({ team: 'blue', ...OURS });
    // No mesh: no revision label for sidecars.
    expect(cluster.get('Namespace', NS)!.metadata!.labels!['istio.io/rev']).toBeUndefined();
  });

  it('never takes over a namespace of the same name that is not this logical cloud’s, and says that nothing was created', async () => {
    const cluster = new FakeCluster();
    await cluster.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS, labels: { owner: 'someone' } } });
    const ctx = contextFor(cluster);
    expect(await controller.apply(ctx)).toBe('failed');
    expect(ctx.nothingCreated).toBe(true);
    expect(ctx.resources[0]).toMatchObject({
      status: 'Failed',
      message: expect.stringMatching(/already exists and is not managed by this logical cloud/),
    });
    expect(cluster.calls.filter((c) => c.startsWith('apply'))).toHaveLength(1); // the test's own
    expect(cluster.get('Namespace', NS)!.metadata!.labels).toEqual({ owner: 'someone' });
  });

  it('reports a namespace that holds a cacerts Secret as holding a CA key', async () => {
    const cluster = new FakeCluster();
    await controller.apply(contextFor(cluster));
    await cluster.apply({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'cacerts', namespace: NS } });
    const ctx = contextFor(cluster);
    expect(await controller.apply(ctx)).toBe('holds-ca-key');
    expect(ctx.resources[0]!.message).toMatch(/holds a cacerts Secret/);
  });

  it.each([
    ['refused (403)', new Forbidden('namespaces is forbidden'), true],
    ['not connected', new Unreachable('connect ECONNREFUSED'), true],
    ['a server error (500)', new ClusterError('etcd timeout'), false],
    ['unanswered', new ClusterError('apply Namespace tenant-ns: no answer within 100 ms'), false],
  ])('knows whether a failed apply certainly created nothing: %s', async (_what, error, nothing) => {
    const cluster = new FakeCluster();
    cluster.refuse = (verb) => (verb === 'apply' ? error : undefined);
    const ctx = contextFor(cluster);
    expect(await controller.apply(ctx)).toBe('failed');
    expect(ctx.nothingCreated).toBe(nothing);
    expect(ctx.resources[0]).toMatchObject({ status: 'Failed', message: error.message });
  });

  it('on remove, waits until the namespace is gone; one that stays Terminating is DeleteFailed', async () => {
    const cluster = new FakeCluster();
    await controller.apply(contextFor(cluster));
    cluster.held.add(cluster.key('Namespace', NS));
    const stuck = contextFor(cluster);
    await controller.remove(stuck);
    expect(stuck.resources).toEqual([
      expect.objectContaining({ status: 'DeleteFailed', message: expect.stringMatching(/still there after 200 ms/) }),
    ]);
    expect(cluster.get('Namespace', NS)!.metadata!.deletionTimestamp).toBeDefined();

    // The namespace controller finishes while terminate waits: Deleted.
    const finishing = contextFor(cluster);
    const removing = controller.remove(finishing);
    cluster.release('Namespace', NS);
    await removing;
    expect(lines(finishing)).toEqual([`Namespace ${NS} Deleted`]);
    expect(cluster.get('Namespace', NS)).toBeUndefined();
  });

  it('on remove, leaves a namespace that is not this logical cloud’s in place, with a warning', async () => {
    const cluster = new FakeCluster();
    await cluster.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
    const ctx = contextFor(cluster);
    await controller.remove(ctx);
    expect(ctx.warnings[0]!.message).toMatch(/not managed by this logical cloud; left in place/);
    expect(cluster.get('Namespace', NS)).toBeDefined();
    expect(cluster.calls.some((c) => c.startsWith('delete'))).toBe(false);
  });
});

describe('the RBAC and quota controllers', () => {
  const tenant: TenantIdentity = {
    userName: 'dcm:p1:lc-1:u1',
    group: `dcm:lc:${LC_ID}:abc`,
    generation: 1,
    subject: { kind: 'Group', name: `dcm:lc:${LC_ID}:abc` },
  };
  const pods: PermissionData = { namespace: NS, apiGroups: [''], resources: ['pods'], verbs: ['get'] };
  const nodes: PermissionData = { namespace: '', apiGroups: [''], resources: ['nodes'], verbs: ['list'] };

  it('binds the generation’s group, converges on re-apply (a removed permission’s objects are deleted), and removes bindings first', async () => {
    const cluster = new FakeCluster();
    const rbac = new RbacController();
    await rbac.apply(
      contextFor(cluster, {
        tenant,
        permissions: [
          ['read-pods', pods],
          ['list-nodes', nodes],
        ],
      }),
    );
    expect(cluster.get<{ subjects: unknown[] }>('RoleBinding', 'dcm-read-pods', NS)!.subjects).toEqual([
      { apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: tenant.group },
    ]);
    const clusterRoles = [...cluster.objects.values()].filter((o) => o.kind === 'ClusterRole');
    expect(clusterRoles).toHaveLength(1);

    const again = contextFor(cluster, { tenant, permissions: [['read-pods', pods]] });
    await rbac.apply(again);
    expect(
      lines(again)
        .filter((l) => l.endsWith('Deleted'))
        .map((l) => l.split(' ')[0]),
    ).toEqual(['ClusterRole', 'ClusterRoleBinding']);
    expect([...cluster.objects.values()].filter((o) => o.kind?.startsWith('Cluster'))).toEqual([]);

    const removing = contextFor(cluster, { tenant });
    await rbac.remove(removing);
    expect(lines(removing)).toEqual(['RoleBinding dcm-read-pods Deleted', 'Role dcm-read-pods Deleted']);
  });

  it('binds a token user’s ServiceAccount', async () => {
    const cluster = new FakeCluster();
    const token: TenantIdentity = {
      ...tenant,
      subject: { kind: 'ServiceAccount', name: 'dcm-tenant-abc', namespace: NS },
    };
    await new RbacController().apply(contextFor(cluster, { tenant: token, permissions: [['read-pods', pods]] }));
    expect(cluster.get<{ subjects: unknown[] }>('RoleBinding', 'dcm-read-pods', NS)!.subjects).toEqual([
      { kind: 'ServiceAccount', name: 'dcm-tenant-abc', namespace: NS },
    ]);
  });

  it('warns of a rule that grants nothing on the cluster, and says so when discovery fails (the objects are applied all the same)', async () => {
    const cluster = new FakeCluster();
    const jobs: PermissionData = { namespace: NS, apiGroups: [''], resources: ['jobs'], verbs: ['get'] };
    const ctx = contextFor(cluster, { tenant, permissions: [['jobs', jobs]] });
    await new RbacController().apply(ctx);
    expect(ctx.warnings).toEqual([
      expect.objectContaining({
        permission: 'jobs',
        resource: 'jobs',
        message: expect.stringMatching(/served by group batch/),
      }),
    ]);

    cluster.refuse = (verb) => (verb === 'discovery' ? new ClusterError('GET /apis: HTTP 503') : undefined);
    const blind = contextFor(cluster, { tenant, permissions: [['jobs', jobs]] });
    await new RbacController().apply(blind);
    expect(blind.warnings).toEqual([
      expect.objectContaining({ message: 'permissions not checked: discovery failed: GET /apis: HTTP 503' }),
    ]);
    expect(blind.failed()).toBe(false);
  });

  it('records a list that fails while pruning as DeleteFailed for the kind, and goes on with the others', async () => {
    const cluster = new FakeCluster();
    cluster.refuse = (verb, kind) =>
      verb === 'list' && kind === 'Role' ? new Forbidden('roles is forbidden') : undefined;
    const ctx = contextFor(cluster, { tenant });
    await new RbacController().remove(ctx);
    expect(ctx.resources).toEqual([
      expect.objectContaining({ kind: 'Role', name: '*', status: 'DeleteFailed', message: 'roles is forbidden' }),
    ]);
    expect(cluster.calls.filter((c) => c.startsWith('list'))).toEqual([
      'list RoleBinding',
      'list ClusterRoleBinding',
      'list Role',
      'list ClusterRole',
    ]);
  });

  it('puts quotas with their keys normalized, and deletes a quota that is no longer wanted', async () => {
    const cluster = new FakeCluster();
    const quota = new QuotaController();
    await quota.apply(
      contextFor(cluster, {
        quotas: [
          ['q1', { cpu: '2', pods: '10' }],
          ['q2', { services: '3' }],
        ],
      }),
    );
    expect(
      cluster.get<{ spec: { hard: Record<string, string> } }>('ResourceQuota', 'dcm-quota-q1', NS)!.spec.hard,
    ).toEqual({ 'requests.cpu': '2', pods: '10' });
    const again = contextFor(cluster, { quotas: [['q1', { pods: '10' }]] });
    await quota.apply(again);
    expect(lines(again)).toEqual(['ResourceQuota dcm-quota-q1 Created', 'ResourceQuota dcm-quota-q2 Deleted']);
  });
});

describe('the user controller', () => {
  let ca: CaKeyPair;
  let key: string;
  beforeAll(async () => {
    ca = await createRootCa({ subject: { commonName: 'unit cluster ca' }, validitySeconds: 86400, keyBits: 2048 });
    key = await generatePrivateKey(2048);
  });

  const tenant: TenantIdentity = {
    userName: 'dcm:p1:lc-1:u1',
    group: `dcm:lc:${LC_ID}:gen1`,
    generation: 1,
    subject: { kind: 'Group', name: `dcm:lc:${LC_ID}:gen1` },
  };

  function memoryCredentials(privateKey: () => string) {
    const stored: IssuedCertificate[] = [];
    const store: TenantCredentialStore = {
      get: async () => ({
        logicalCloudId: LC_ID,
        privateKey: privateKey(),
        keyBits: 2048,
        certificates: [...stored],
        generation: 1,
        generationId: 'gen1',
      }),
      prepareGeneration: async () => ({ generation: 1, generationId: 'gen1' }),
      putCertificate: async (_id, issued) => void stored.push(issued),
      removeCertificate: async (_id, reference) =>
        void stored.splice(0, stored.length, ...stored.filter((c) => c.reference !== reference)),
    };
    return { store, stored };
  }

  const options = { keyBits: 2048 as const, certificateValiditySeconds: 3600, signTimeoutMs: 1000 };
  const caData = () => Buffer.from(ca.certificatePem).toString('base64');

  it('has the cluster sign the tenant’s request (its name, labels and lifetime), stores the certificate and reuses it', async () => {
    const cluster = new FakeCluster();
    cluster.signer = async (request) =>
      signCsrLocally({
        csrPem: request.csrPem,
        caCertPem: ca.certificatePem,
        caKeyPem: ca.keyPem,
        validitySeconds: request.expirationSeconds,
        usages: 'client',
      });
    const { store, stored } = memoryCredentials(() => key);
    const user = new UserController(store, options);
    const ctx = contextFor(cluster, { tenant, caData: caData() });
    await user.apply(ctx);
    expect(lines(ctx)).toEqual(['Certificate u1 Created']);
    expect(cluster.signed).toEqual([
      expect.objectContaining({
        name: csrName(ctx.identity, 'u1'),
        labels: ctx.labels,
        expirationSeconds: 3600,
        approvalMessage: 'approved by the DCM for logical cloud lc-1',
        signTimeoutMs: 1000,
      }),
    ]);
    expect(stored).toEqual([expect.objectContaining({ reference: 'edge-a', signedBy: 'cluster' })]);

    // The next apply (each apply prepares its own tenant identity) finds the stored certificate.
    const again = contextFor(cluster, { tenant: { ...tenant }, caData: caData() });
    await user.apply(again);
    expect(again.resources[0]!.message).toBe('valid certificate reused');
    expect(cluster.signed).toHaveLength(1);
  });

  it('reads the credentials and makes the CSR once per apply, for all its clusters', async () => {
    const cluster = new FakeCluster();
    cluster.signer = async (request) =>
      signCsrLocally({
        csrPem: request.csrPem,
        caCertPem: ca.certificatePem,
        caKeyPem: ca.keyPem,
        validitySeconds: request.expirationSeconds,
        usages: 'client',
      });
    const { store } = memoryCredentials(() => key);
    let reads = 0;
    const counted: TenantCredentialStore = { ...store, get: async (id) => (reads++, store.get(id)) };
    const user = new UserController(counted, options);
    const apply = { ...tenant };
    const clusters = [
      contextFor(cluster, { tenant: apply, caData: caData() }),
      contextFor(cluster, { tenant: apply, caData: caData() }),
    ];
    await Promise.all(clusters.map((ctx) => user.apply(ctx)));
    expect(clusters.map(lines)).toEqual([['Certificate u1 Created'], ['Certificate u1 Created']]);
    expect(reads).toBe(1);
    expect(new Set(cluster.signed.map((r) => r.csrPem)).size).toBe(1);

    // What was read for one logical cloud is never handed to a cluster of another, even under the same identity object.
    const elsewhere = contextFor(cluster, { tenant: apply, caData: caData() });
    const otherId = '0b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e';
    (elsewhere.work as { logicalCloud: ClusterWork['logicalCloud'] }).logicalCloud = record(
      'lc-2',
      { project: 'p1' },
      clusters[0]!.work.logicalCloud.data,
      otherId,
    );
    const asked: string[] = [];
    const other: TenantCredentialStore = { ...store, get: async (id) => (asked.push(id), store.get(id)) };
    const shared = new UserController(other, options);
    await shared.apply(clusters[0]!);
    await shared.apply(elsewhere);
    expect(asked).toEqual([LC_ID, otherId]);

    // A read that fails is not kept: the next cluster of the apply reads again.
    const failing: TenantCredentialStore = { ...store, get: async () => (reads++, null) };
    const failingController = new UserController(failing, options);
    const next = { ...tenant };
    const first = contextFor(cluster, { tenant: next, caData: caData() });
    await failingController.apply(first);
    expect(first.resources[0]).toMatchObject({
      status: 'Failed',
      message: expect.stringMatching(/credentials of this logical cloud are gone/),
    });
    await failingController.apply(contextFor(cluster, { tenant: next, caData: caData() }));
    expect(reads).toBe(3);
  });

  it('stores nothing when the cluster issues a certificate that is not the tenant’s, or none', async () => {
    const cluster = new FakeCluster();
    const other = await generatePrivateKey(2048);
    const { store, stored } = memoryCredentials(() => key);
    // The signer certifies the request of another key (a swapped request the checks did not catch).
    cluster.signer = async () => {
      const csrPem = createCsr({ privateKeyPem: other, commonName: tenant.userName, organization: tenant.group });
      return signCsrLocally({
        csrPem,
        caCertPem: ca.certificatePem,
        caKeyPem: ca.keyPem,
        validitySeconds: 3600,
        usages: 'client',
      });
    };
    const ctx = contextFor(cluster, { tenant, caData: caData() });
    await new UserController(store, options).apply(ctx);
    expect(ctx.resources[0]).toMatchObject({
      status: 'Failed',
      message: expect.stringMatching(/not the tenant's \(it does not carry the tenant's public key\): not stored/),
    });

    cluster.signer = undefined;
    const unsigned = contextFor(cluster, { tenant, caData: caData() });
    await new UserController(store, options).apply(unsigned);
    expect(unsigned.resources[0]).toMatchObject({
      status: 'Failed',
      message: expect.stringMatching(/not signed within 1000 ms/),
    });
    expect(stored).toEqual([]);
  });

  it('gives a token user the generation’s ServiceAccount and deletes an earlier generation’s', async () => {
    const cluster = new FakeCluster();
    const user = new UserController(memoryCredentials(() => key).store, options);
    const token = (id: string): TenantIdentity => ({
      ...tenant,
      subject: { kind: 'ServiceAccount', name: `dcm-tenant-${id}`, namespace: NS },
    });
    const data = { user: { name: 'u1', type: 'token' as const } };
    await user.apply(contextFor(cluster, { data, tenant: token('gen1') }));
    const next = contextFor(cluster, { data, tenant: token('gen2') });
    await user.apply(next);
    expect(lines(next)).toEqual(['ServiceAccount dcm-tenant-gen2 Created', 'ServiceAccount dcm-tenant-gen1 Deleted']);
    expect(await cluster.requestToken(NS, 'dcm-tenant-gen2', 600)).toMatch(/^token:/);
    await expect(cluster.requestToken(NS, 'dcm-tenant-gen1', 600)).rejects.toThrow(/not found/);
  });
});

describe('the service-mesh controller waiting for its control plane', () => {
  /** A cluster whose operator acts when a watch of Istio starts (what `act` says). */
  class OperatorCluster extends FakeCluster {
    watches = 0;
    act: (watch: number) => void = () => undefined;
    override async watch(
      apiVersion: string,
      kind: string,
      opts: ListOptions,
      handlers: WatchHandlers,
    ): Promise<WatchHandle> {
      const handle = await super.watch(apiVersion, kind, opts, handlers);
      if (kind === 'Istio') this.act(++this.watches);
      return handle;
    }
  }

  const meshData = { serviceMesh: { enabled: true } };
  const mesh = (readyTimeoutMs: number) => new ServiceMeshController({ istioVersion: 'v1.28.4', readyTimeoutMs });
  const meshReady = (cluster: FakeCluster) =>
    cluster.setStatus('Istio', REVISION, undefined, { conditions: [{ type: 'Ready', status: 'True' }] });
  /** The CA controller delivered cacerts in this apply (the mesh controller checks only that it did not fail). */
  const served = <C extends FakeCluster>(cluster: C): C => {
    cluster.served.set('istios', new Set(['sailoperator.io']));
    return cluster;
  };

  it('is Ready when the Istio resource becomes Ready while apply waits (by watch)', async () => {
    const cluster = served(new OperatorCluster());
    cluster.act = () => meshReady(cluster);
    const ctx = contextFor(cluster, { data: meshData });
    await mesh(5000).apply(ctx);
    expect(ctx.resources.at(-1)).toMatchObject({
      kind: 'Istio',
      status: 'Ready',
      message: expect.stringMatching(/the Istio resource is Ready/),
    });
    expect(cluster.watchCount).toBe(0); // the watch was stopped
  });

  it('watches again when the server ends the watch, and is Ready once the resource is', async () => {
    const cluster = served(new OperatorCluster());
    cluster.act = (n) => (n === 1 ? cluster.endWatches() : meshReady(cluster));
    const ctx = contextFor(cluster, { data: meshData });
    await mesh(5000).apply(ctx);
    expect(ctx.resources.at(-1)).toMatchObject({ status: 'Ready' });
    expect(cluster.watches).toBe(2);
  });

  it('is Pending, saying why, when the watch fails or the wait ends', async () => {
    const failing = served(new OperatorCluster());
    failing.act = () => failing.endWatches(new ClusterError('watch sailoperator.io/v1 Istio: Premature close'));
    const ctx = contextFor(failing, { data: meshData });
    await mesh(5000).apply(ctx);
    expect(ctx.resources.at(-1)).toMatchObject({
      status: 'Pending',
      message: expect.stringMatching(/watching it failed: watch sailoperator\.io\/v1 Istio: Premature close\)/),
    });

    const slow = served(new OperatorCluster());
    const waited = contextFor(slow, { data: meshData });
    await mesh(50).apply(waited);
    expect(waited.resources.at(-1)).toMatchObject({
      status: 'Pending',
      message: expect.stringMatching(/still not ready after 50 ms \(no status yet/),
    });
    expect(slow.watchCount).toBe(0);
  });
});
