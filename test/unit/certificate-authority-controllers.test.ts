/**
 * The CA and service-mesh controllers against an in-memory cluster and in-memory stores: what
 * they put where, what they reuse, and how they fail — an issuance that fails (then no control
 * plane is declared, so istiod never starts with a CA of its own), a control-plane namespace
 * that is someone else's (never taken over), a cluster without the Sail Operator's Istio API, a
 * control plane that is or is not ready — and the names they derive from a logical cloud.
 */
import { X509Certificate } from 'node:crypto';
import { beforeAll, describe, expect, it } from '@jest/globals';
import { pino } from 'pino';
import type { CaKeyPair } from '../../src/certificates/certificate-authority/ca-certificate-builder.js';
import { createRootCa } from '../../src/certificates/certificate-authority/root-ca.js';
import { CaController } from '../../src/controllers/certificate-authority.controller.js';
import type { ClusterContext } from '../../src/controllers/cluster-context.js';
import { controlPlaneNamespace, meshRevision, meshTrustDomain } from '../../src/controllers/object-names.js';
import { desiredIstio } from '../../src/controllers/istio-resource.js';
import { ServiceMeshController, meshNotReady } from '../../src/controllers/service-mesh.controller.js';
import type {
  IntermediateCaStore,
  IntermediateWithKey,
} from '../../src/features/certificate-authority/intermediate-ca.store.js';
import { MeshCertificateAuthority, hasNameConstraints } from '../../src/features/certificate-authority/mesh-ca.js';
import type { RootCaStore } from '../../src/features/certificate-authority/root-ca.store.js';
import { ClusterError } from '../../src/kubernetes/cluster-errors.js';
import type { KubeObject } from '../../src/kubernetes/cluster-gateway.js';
import { SecretCipherError } from '../../src/security/secret-cipher.js';
import { contextFor as clusterContext } from '../support/controller-context.js';
import { FakeCluster as MemoryCluster } from '../support/fake-cluster.js';

const LC_ID = '0f8e2a34-5b6c-4d7e-8f90-a1b2c3d4e5f6';
const REVISION = 'dcm-0f8e2a345b6c4d7e8f90a1b2c3d4e5f6';

/** The stores the CA uses, in memory; `failGet` makes reading a stored intermediate fail as a wrong key would. */
function memoryStores(root: CaKeyPair) {
  const intermediates = new Map<string, IntermediateWithKey>();
  let failGet = false;
  const id = (lc: string, k: { provider: string; cluster: string }) => `${lc}/${k.provider}/${k.cluster}`;
  const roots = { ensure: async () => ({ ...root, created: false }) } as unknown as RootCaStore;
  const store = {
    get: async (lc: string, k: { provider: string; cluster: string }) => {
      if (failGet)
        throw new SecretCipherError(
          'secret of dcm-ca/intermediate/… was sealed with key "old", which is not configured (DCM_ENCRYPTION_KEYS)',
        );
      return intermediates.get(id(lc, k)) ?? null;
    },
    put: async (i: IntermediateWithKey) => void intermediates.set(id(i.logicalCloudId, i), i),
    exists: async (lc: string, k: { provider: string; cluster: string }) => intermediates.has(id(lc, k)),
    delete: async (lc: string, k: { provider: string; cluster: string }) => void intermediates.delete(id(lc, k)),
  } as unknown as IntermediateCaStore;
  return { roots, store, intermediates, failReads: () => (failGet = true) };
}

/** One cluster of the logical cloud LC_ID, with the given mesh settings (null: none). */
function contextFor(
  cluster: MemoryCluster,
  serviceMesh: { enabled: boolean; network?: string; nameConstraints?: boolean } | null = { enabled: true },
): ClusterContext {
  return clusterContext(cluster, {
    logicalCloudId: LC_ID,
    data: { labels: [], ...(serviceMesh ? { serviceMesh } : {}) },
  });
}

let root: CaKeyPair;
beforeAll(async () => {
  root = await createRootCa({ subject: { commonName: 'unit root' }, validitySeconds: 30 * 86400, keyBits: 2048 });
});

async function setUp() {
  const stores = memoryStores(root);
  const ca = new MeshCertificateAuthority(
    stores.roots,
    stores.store,
    { rootValiditySeconds: 86400, intermediateValiditySeconds: 30 * 86400, replicaId: 'unit' },
    pino({ level: 'silent' }),
  );
  await ca.initialize();
  // The cluster serves the Sail Operator's Istio (and the old IstioOperator) unless a test says otherwise.
  const served = new Map([
    ['istios', new Set(['sailoperator.io'])],
    ['istiooperators', new Set(['install.istio.io'])],
  ]);
  const mesh = new ServiceMeshController({ istioVersion: 'v1.28.4', readyTimeoutMs: 0, discover: async () => served });
  return { stores, ca, caController: new CaController(ca, 1000), mesh, served };
}

const NS = controlPlaneNamespace({ logicalCloudId: LC_ID });

describe('names of a logical cloud’s mesh', () => {
  it('are stable, DNS-label-safe and leave room for what Istio derives from the revision', () => {
    expect(meshRevision({ logicalCloudId: LC_ID })).toBe(REVISION);
    expect(NS).toBe(`istio-${REVISION}`);
    expect(meshTrustDomain({ logicalCloudId: LC_ID })).toBe(`${REVISION}.dcm.local`);
    for (const name of [REVISION, NS, `istiod-${REVISION}`]) expect(name).toMatch(/^[a-z]([-a-z0-9]{0,61}[a-z0-9])$/);
    expect(meshRevision({ logicalCloudId: LC_ID.toUpperCase() })).toBe(REVISION);
    expect(meshRevision({ logicalCloudId: '11111111-2222-3333-4444-555555555555' })).not.toBe(REVISION);
  });

  it('declare the control plane: revision, own namespace, discovery of the tenant namespace only, cluster and network', () => {
    const identity = { project: 'p1', logicalCloud: 'lc-1', logicalCloudId: LC_ID };
    const istio = desiredIstio({
      identity,
      namespace: 'tenant-ns',
      clusterName: 'edge-a',
      settings: { enabled: true },
      labels: { a: 'b' },
      version: 'v1.28.4',
    });
    // Cluster-scoped: no namespace; the revision is the name (InPlace).
    expect(istio.metadata).toEqual({ name: REVISION, labels: { a: 'b' } });
    expect(istio).toMatchObject({ apiVersion: 'sailoperator.io/v1', kind: 'Istio' });
    expect(istio.spec).toMatchObject({
      version: 'v1.28.4',
      namespace: NS,
      updateStrategy: { type: 'InPlace' },
      values: {
        meshConfig: {
          trustDomain: `${REVISION}.dcm.local`,
          discoverySelectors: [
            { matchLabels: { 'kubernetes.io/metadata.name': 'tenant-ns' } },
            { matchLabels: { 'kubernetes.io/metadata.name': NS } },
          ],
        },
        global: {
          meshID: REVISION,
          istioNamespace: NS,
          network: 'edge-a',
          multiCluster: { clusterName: 'edge-a' },
          sds: { token: { aud: `${REVISION}.dcm.local` } },
        },
        // istiod accepts only this logical cloud's token audience.
        pilot: { env: { TOKEN_AUDIENCES: `${REVISION}.dcm.local`, ENABLE_ENHANCED_RESOURCE_SCOPING: 'true' } },
      },
    });
    const withNetwork = desiredIstio({
      identity,
      namespace: 'tenant-ns',
      clusterName: 'edge-a',
      settings: { enabled: true, network: 'net-1' },
      labels: {},
      version: 'v1.28.4',
    });
    expect(withNetwork.spec.values.global.network).toBe('net-1');
  });
});

describe('the CA and service-mesh controllers', () => {
  it('deliver cacerts into the control-plane namespace, and reuse the intermediate on re-apply', async () => {
    const { caController, mesh, stores } = await setUp();
    const cluster = new MemoryCluster();
    const ctx = contextFor(cluster);
    await caController.apply(ctx);
    await mesh.apply(ctx);
    expect(ctx.resources.map((r) => [r.category, r.kind, r.status])).toEqual([
      ['ca', 'IntermediateCA', 'Created'],
      ['ca', 'Namespace', 'Created'],
      ['ca', 'Secret', 'Created'],
      ['mesh', 'Istio', 'Pending'],
    ]);
    // Nothing acts on it here: declared, not ready (the cluster is then not Applied).
    expect(ctx.resources.at(-1)!.message).toMatch(/still not ready after 0 ms \(no status yet/);
    expect(meshNotReady(ctx.resources)).toBe(true);
    expect(ctx.failed()).toBe(false);
    const namespace = cluster.get<KubeObject>('Namespace', NS)!;
    expect(namespace.metadata!.labels).toMatchObject({
      'dcm.onap.org/logical-cloud-id': LC_ID,
      'app.kubernetes.io/managed-by': 'dcm',
    });
    const secret = cluster.get<{ data: Record<string, string> }>('Secret', 'cacerts', NS)!;
    expect(Object.keys(secret.data).sort()).toEqual(['ca-cert.pem', 'ca-key.pem', 'cert-chain.pem', 'root-cert.pem']);
    const caCert = Buffer.from(secret.data['ca-cert.pem']!, 'base64').toString();
    expect(new X509Certificate(caCert).subjectAltName).toBe(
      `URI:spiffe://${REVISION}.dcm.local/ns/tenant-ns/cluster/edge-a`,
    );
    expect(Buffer.from(secret.data['root-cert.pem']!, 'base64').toString()).toBe(root.certificatePem);
    expect(cluster.get<{ spec: { namespace: string } }>('Istio', REVISION)!.spec.namespace).toBe(NS);
    expect([...stores.intermediates.keys()]).toEqual([`${LC_ID}/prov/cluster-a`]);

    const again = contextFor(cluster);
    await caController.apply(again);
    expect(again.resources[0]!.message).toMatch(/valid intermediate reused/);
    expect(cluster.get<{ data: Record<string, string> }>('Secret', 'cacerts', NS)!.data).toEqual(secret.data);

    // The operator reports Ready: the next apply says so.
    const stored = cluster.get<KubeObject & { status?: unknown }>('Istio', REVISION)!;
    cluster.objects.set(`Istio//${REVISION}`, {
      ...stored,
      status: { conditions: [{ type: 'Ready', status: 'True' }] },
    } as KubeObject);
    await mesh.apply(again);
    expect(again.resources.at(-1)).toMatchObject({
      category: 'mesh',
      kind: 'Istio',
      status: 'Ready',
      message: expect.stringMatching(/Istio v1\.28\.4.*the Istio resource is Ready/),
    });
    expect(meshNotReady(again.resources)).toBe(false);
  });

  it('declare no control plane when the intermediate cannot be had, and deliver nothing', async () => {
    const { caController, mesh, stores } = await setUp();
    stores.failReads();
    const cluster = new MemoryCluster();
    const ctx = contextFor(cluster);
    await caController.apply(ctx);
    await mesh.apply(ctx);
    expect(ctx.resources).toEqual([
      expect.objectContaining({
        category: 'ca',
        kind: 'IntermediateCA',
        status: 'Failed',
        message: expect.stringMatching(/not configured/),
      }),
      expect.objectContaining({
        category: 'mesh',
        kind: 'Istio',
        status: 'Failed',
        message: expect.stringMatching(/CA of its own/),
      }),
    ]);
    expect(cluster.objects.size).toBe(0);
  });

  it('never take over a control-plane namespace of someone else', async () => {
    const { caController, mesh } = await setUp();
    const cluster = new MemoryCluster();
    await cluster.apply({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: NS, labels: { 'dcm.onap.org/logical-cloud-id': 'another' } },
    });
    const ctx = contextFor(cluster);
    await caController.apply(ctx);
    await mesh.apply(ctx);
    expect(ctx.resources.find((r) => r.kind === 'Namespace')).toMatchObject({
      status: 'Failed',
      message: expect.stringMatching(/not taken over/),
    });
    expect(cluster.get('Secret', 'cacerts', NS)).toBeUndefined();
    expect(ctx.resources.find((r) => r.category === 'mesh')).toMatchObject({ status: 'Failed' });
    expect(cluster.get('Istio', REVISION)).toBeUndefined();
  });

  it('say "install the Sail Operator" when the cluster does not serve sailoperator.io/v1 Istio (whether or not it serves IstioOperator)', async () => {
    const { caController, mesh, served } = await setUp();
    served.delete('istios');
    for (const legacy of [true, false]) {
      if (!legacy) served.delete('istiooperators');
      const cluster = new MemoryCluster();
      const ctx = contextFor(cluster);
      await caController.apply(ctx);
      await mesh.apply(ctx);
      expect(ctx.resources.at(-1)).toMatchObject({
        category: 'mesh',
        kind: 'Istio',
        status: 'Failed',
        message: expect.stringMatching(/install the Sail Operator \(sailoperator\.io\/v1 Istio\)/),
      });
      expect(ctx.resources.at(-1)!.message).toMatch(
        legacy
          ? /serves only install\.istio\.io\/v1alpha1 IstioOperator, which no current Istio acts on/
          : /does not serve sailoperator\.io\/v1 Istio/,
      );
      expect(ctx.failed()).toBe(true);
      expect(cluster.get('Istio', REVISION)).toBeUndefined();
      expect(cluster.get('IstioOperator', REVISION, NS)).toBeUndefined();
    }
  });

  it('take the Istio version from a cluster label over the configured one; an available istiod Deployment counts as ready', async () => {
    const { caController, mesh } = await setUp();
    const cluster = new MemoryCluster();
    const ctx = contextFor(cluster);
    ctx.work.cluster.data.labels = [{ key: 'dcm.onap.org/istio-version', value: 'v1.27.5' }];
    cluster.objects.set(`Deployment/${NS}/istiod-${REVISION}`, {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: `istiod-${REVISION}`, namespace: NS },
      status: { conditions: [{ type: 'Available', status: 'True' }] },
    } as KubeObject);
    await caController.apply(ctx);
    await mesh.apply(ctx);
    expect(cluster.get<{ spec: { version: string } }>('Istio', REVISION)!.spec.version).toBe('v1.27.5');
    expect(ctx.resources.at(-1)).toMatchObject({
      status: 'Ready',
      message: expect.stringMatching(new RegExp(`Deployment istiod-${REVISION} is available`)),
    });
  });

  it('issue the intermediate without the URI name constraint when the logical cloud says nameConstraints: false (ambient mode), and re-issue when it changes', async () => {
    const { caController } = await setUp();
    const cluster = new MemoryCluster();
    const caCert = () =>
      Buffer.from(
        cluster.get<{ data: Record<string, string> }>('Secret', 'cacerts', NS)!.data['ca-cert.pem']!,
        'base64',
      ).toString();
    const ambient = contextFor(cluster, { enabled: true, nameConstraints: false });
    await caController.apply(ambient);
    const unconstrained = caCert();
    expect(hasNameConstraints(unconstrained)).toBe(false);
    // Still the logical cloud's CA: its URI SAN names the trust domain.
    expect(new X509Certificate(unconstrained).subjectAltName).toBe(
      `URI:spiffe://${REVISION}.dcm.local/ns/tenant-ns/cluster/edge-a`,
    );
    const again = contextFor(cluster, { enabled: true, nameConstraints: false });
    await caController.apply(again);
    expect(again.resources[0]!.message).toMatch(/valid intermediate reused/);

    // Back to the default (constrained): a new intermediate, with the constraint.
    const sidecar = contextFor(cluster, { enabled: true });
    await caController.apply(sidecar);
    expect(sidecar.resources[0]!.message).toMatch(/intermediate issued/);
    expect(caCert()).not.toBe(unconstrained);
    expect(hasNameConstraints(caCert())).toBe(true);
  });

  it('remove the control plane, then cacerts and the namespace, and forget the intermediate only when all of it is gone', async () => {
    const { caController, mesh, stores } = await setUp();
    const cluster = new MemoryCluster();
    const applied = contextFor(cluster);
    await caController.apply(applied);
    await mesh.apply(applied);
    // The namespace is gone already (as after a namespace deletion finished): nothing to wait for.
    cluster.objects.delete(`Namespace//${NS}`);

    // An IstioOperator an earlier DCM version declared is removed too.
    await cluster.apply({
      apiVersion: 'install.istio.io/v1alpha1',
      kind: 'IstioOperator',
      metadata: { name: REVISION, namespace: NS },
    });
    cluster.refuse = (verb, kind) =>
      verb === 'delete' && kind === 'Istio' ? new ClusterError('delete Istio: etcd timeout') : undefined;
    const failing = contextFor(cluster);
    expect(await caController.holds(failing)).toBe(true);
    await mesh.remove(failing);
    await caController.remove(failing);
    expect(failing.resources.find((r) => r.category === 'mesh')).toMatchObject({
      kind: 'Istio',
      status: 'DeleteFailed',
    });
    expect(cluster.get('Secret', 'cacerts', NS)).toBeUndefined();
    expect(stores.intermediates.size).toBe(1);

    cluster.refuse = () => undefined;
    const removing = contextFor(cluster, { enabled: false });
    expect(await caController.holds(removing)).toBe(true);
    await mesh.remove(removing);
    await caController.remove(removing);
    expect(removing.resources.map((r) => [r.category, r.kind, r.status])).toEqual([
      ['mesh', 'Istio', 'Deleted'],
      ['ca', 'Secret', 'Deleted'],
      ['ca', 'Namespace', 'Deleted'],
    ]);
    // The control plane goes first, then the key; the namespace was gone already, so it is not deleted again.
    expect(cluster.calls.filter((c) => c.startsWith('delete')).slice(-3)).toEqual([
      `delete Istio ${REVISION}`,
      `delete IstioOperator ${REVISION}`,
      'delete Secret cacerts',
    ]);
    expect(cluster.get('Istio', REVISION)).toBeUndefined();
    expect(cluster.get('IstioOperator', REVISION, NS)).toBeUndefined();
    expect(stores.intermediates.size).toBe(0);
    // Mesh off and nothing stored: the cluster holds nothing of it.
    expect(await caController.holds(contextFor(cluster, null))).toBe(false);
  });
});
