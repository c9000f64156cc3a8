/**
 * CA key distribution and per-logical-cloud Istio control planes on both real test clusters
 * (the Sail Operator's Istio CRD installed from test/fixtures/crds, the test playing the
 * operator: it reports each Istio resource Ready): the `cacerts` Secret of each cluster holds its
 * own intermediate, whose chain `openssl verify` accepts up to the DCM's root; the Istio resource
 * of each cluster carries the logical cloud's revision, namespace, version, discovery selectors,
 * cluster name and network; mesh-status is Ready once the resource is; re-apply keeps the intermediate, rotate-ca replaces it, turning the
 * mesh off or terminating removes everything; a logical cloud without a mesh gets none of it;
 * no REST body and no MongoDB document holds a private key in clear.
 */
import { X509Certificate, createPrivateKey } from 'node:crypto';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { CustomObjectsApi, type V1Secret } from '@kubernetes/client-node';
import type { Response } from 'supertest';
import { testCipher, startTestDcm, type TestDcm } from '../support/dcm.js';
import { json, startTestGrpc, type TestGrpc } from '../support/grpc.js';
import { testClusters } from '../support/backends.js';
import { expectError, fieldsOf, lcPath, setUpProjectAndClusters } from '../support/rest.js';
import {
  admin,
  applyAndSettle,
  clusterEntry,
  core,
  readNamespace,
  removeLeftovers,
  statusOf,
  tenantLogicalCloud,
  terminateAndSettle,
  type ClusterIndex,
} from './apply-helpers.js';
import { ISTIO, installSailIstioCrd, playSail } from './ca-mesh-helpers.js';
import { OpensslWorkspace, pemsOf } from '../support/openssl.js';

const PROJECT = 'camesh-project';
const LC_A = 'camesh-lc-a';
const LC_B = 'camesh-lc-b';
const LC_PLAIN = 'camesh-lc-plain';
const NS = { [LC_A]: 'camesh-ns-a', [LC_B]: 'camesh-ns-b', [LC_PLAIN]: 'camesh-ns-plain' } as const;
const CLUSTERS = [0, 1] as const;

interface CaBody {
  'service-mesh': boolean;
  revision: string;
  'trust-domain': string;
  'control-plane-namespace': string;
  'root-certificate': string;
  clusters: {
    'cluster-reference': string;
    cluster: string;
    certificate: string;
    'cert-chain': string;
    'serial-number': string;
    'not-before': string;
    'not-after': string;
    'rotation-requested': boolean;
  }[];
}

interface Cacerts {
  caCert: string;
  caKey: string;
  root: string;
  chain: string[];
  resourceVersion: string;
}

interface IstioResource {
  metadata: { name: string; namespace?: string; resourceVersion: string; labels: Record<string, string> };
  spec: {
    version: string;
    namespace: string;
    updateStrategy: { type: string };
    values: {
      meshConfig: { trustDomain: string; discoverySelectors: { matchLabels: Record<string, string> }[] };
      global: { meshID: string; istioNamespace: string; network: string; multiCluster: { clusterName: string } };
    };
  };
}

let openssl: OpensslWorkspace;
const file = (content: string): string => openssl.file(content);

const absentOn404 = <T>(call: Promise<T>): Promise<T | undefined> =>
  call.then(
    (value) => value,
    (error: { code?: number }) => (error.code === 404 ? undefined : Promise.reject(error)),
  );
const customObjects = (i: ClusterIndex) => admin(i).makeApiClient(CustomObjectsApi);

async function readCacerts(i: ClusterIndex, namespace: string): Promise<Cacerts | undefined> {
  const secret: V1Secret | undefined = await absentOn404(core(i).readNamespacedSecret({ name: 'cacerts', namespace }));
  if (!secret) return undefined;
  const data = (key: string) => Buffer.from(secret.data![key]!, 'base64').toString('utf8');
  return {
    caCert: data('ca-cert.pem'),
    caKey: data('ca-key.pem'),
    root: data('root-cert.pem'),
    chain: pemsOf(data('cert-chain.pem')),
    resourceVersion: secret.metadata!.resourceVersion!,
  };
}

/** The Sail Operator's Istio resource: cluster-scoped, named after the revision. */
const readIstio = (i: ClusterIndex, name: string) =>
  absentOn404(customObjects(i).getClusterCustomObject({ ...ISTIO, name })) as Promise<IstioResource | undefined>;

/** `openssl verify -CAfile root.pem -untrusted <chain without the root> ca-cert.pem`. */
const verifyChain = (rootPem: string, cacerts: Cacerts) =>
  openssl.run([
    'verify',
    '-CAfile',
    file(rootPem),
    '-untrusted',
    file(cacerts.chain.slice(0, -1).join('')),
    file(cacerts.caCert),
  ]);

describe('CA key distribution and per-logical-cloud Istio control planes', () => {
  let t: TestDcm;
  let g: TestGrpc;
  let rootPem: string;
  let stopSail: (() => void) | undefined;
  /** Every REST body the tests received: none may hold a private key. */
  const bodies: string[] = [];
  const seen = (res: Response) => {
    bodies.push(res.text);
    return res;
  };
  const get = async (p: string) => seen(await t.http.get(p));
  const caOf = async (lc: string): Promise<CaBody> => {
    const res = await get(`${lcPath(PROJECT, lc)}/ca`);
    expect(res.status).toBe(200);
    return res.body as CaBody;
  };
  const idOf = async (lc: string) => (await t.dcm.stores.logicalClouds.get({ project: PROJECT }, lc))!.id;
  const intermediateDocs = async (lc: string) =>
    t.mongo
      .db(t.databaseName)
      .collection('caIntermediates')
      .find({ logicalCloudId: await idOf(lc) })
      .toArray();
  const ca: Partial<Record<string, CaBody>> = {};

  /** Namespaces these tests (or an interrupted earlier run) put on the clusters: tenant and control-plane namespaces. */
  async function cleanClusters(): Promise<void> {
    const namespaces = new Set<string>(Object.values(NS));
    for (const i of CLUSTERS) {
      const ours = await core(i).listNamespace({
        labelSelector: `app.kubernetes.io/managed-by=dcm,dcm.onap.org/logical-cloud in (${LC_A},${LC_B},${LC_PLAIN})`,
      });
      for (const ns of ours.items) namespaces.add(ns.metadata!.name!);
    }
    await removeLeftovers([...namespaces], [LC_A, LC_B, LC_PLAIN]);
  }

  beforeAll(async () => {
    openssl = new OpensslWorkspace('dcm-camesh-');
    // The Istio CRD, from this repository's fixture; ready once the API server says Established.
    await installSailIstioCrd();
    await cleanClusters();
    // The operator's part: every Istio resource of these logical clouds is reported Ready.
    stopSail = await playSail([LC_A, LC_B, LC_PLAIN]);
    t = await startTestDcm('camesh');
    g = await startTestGrpc(t);
    await setUpProjectAndClusters(t, PROJECT);
  });

  afterAll(async () => {
    stopSail?.();
    await g?.close();
    await t?.dcm.services.lifecycle.idle();
    await cleanClusters();
    await t?.close();
    openssl?.remove();
  });

  it('serves the root it generated at start: a self-signed CA whose key is stored sealed', async () => {
    const res = await get('/v2/ca/root');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ source: 'generated', 'signer-chain': [] });
    rootPem = res.body['root-certificate'];
    const root = new X509Certificate(rootPem);
    expect(root.ca).toBe(true);
    expect(root.checkIssued(root)).toBe(true);
    expect(res.body['serial-number']).toMatch(/^[0-9a-f]+$/);

    const stored = await t.mongo
      .db(t.databaseName)
      .collection('caRoot')
      .findOne({ _id: 'root' as never });
    expect(JSON.stringify(stored)).not.toMatch(/PRIVATE KEY/);
    expect(stored!.privateKey).toMatchObject({ alg: 'aes-256-gcm', kid: 'test-1' });
    expect(root.checkPrivateKey(createPrivateKey(testCipher.open(stored!.privateKey, 'dcm-ca/root/private-key')))).toBe(
      true,
    );
  });

  it('validates spec.serviceMesh and names the field; nothing is written on error', async () => {
    const lcs = `/v2/projects/${PROJECT}/logical-clouds`;
    const body = (spec: Record<string, unknown>) => {
      const lc = tenantLogicalCloud('camesh-bad', 'camesh-ns-bad', 'camesh-bad-user');
      return { ...lc, spec: { ...lc.spec, ...spec } };
    };
    const cases: [Record<string, unknown>, string][] = [
      [{ serviceMesh: { enabled: 'yes' } }, 'spec.serviceMesh.enabled'],
      [{ serviceMesh: {} }, 'spec.serviceMesh.enabled'],
      [{ serviceMesh: { enabled: true, network: 'not a name!' } }, 'spec.serviceMesh.network'],
      [{ serviceMesh: { enabled: true, mtls: 'strict' } }, 'spec.serviceMesh.mtls'],
      [{ serviceMesh: { enabled: true, nameConstraints: 'no' } }, 'spec.serviceMesh.nameConstraints'],
      [{ serviceMesh: { enabled: true }, labels: { 'istio.io/rev': 'other' } }, 'spec.labels.istio.io/rev'],
    ];
    for (const [spec, field] of cases) {
      const res = seen(await t.http.post(lcs).send(body(spec)));
      expectError(res, 400);
      expect(fieldsOf(res)).toContain(field);
    }
    const admin0 = seen(
      await t.http
        .post(lcs)
        .send({ metadata: { name: 'camesh-admin' }, spec: { level: '0', serviceMesh: { enabled: true } } }),
    );
    expectError(admin0, 400, /level 1/);
    expect(fieldsOf(admin0)).toEqual(['spec.serviceMesh.enabled']);
    expect((await get(lcs)).headers['x-total-count']).toBe('0');
  });

  it('creates two mesh-enabled logical clouds and one without; views and OpenAPI show serviceMesh', async () => {
    const lcs = `/v2/projects/${PROJECT}/logical-clouds`;
    const withMesh = (name: keyof typeof NS, serviceMesh?: Record<string, unknown>) => {
      const lc = tenantLogicalCloud(name, NS[name], `${name}-user`);
      return serviceMesh ? { ...lc, spec: { ...lc.spec, serviceMesh } } : lc;
    };
    expect(seen(await t.http.post(lcs).send(withMesh(LC_A, { enabled: true, network: 'camesh-net' }))).status).toBe(
      201,
    );
    expect(seen(await t.http.post(lcs).send(withMesh(LC_B, { enabled: true }))).status).toBe(201);
    expect(seen(await t.http.post(lcs).send(withMesh(LC_PLAIN))).status).toBe(201);
    for (const cluster of testClusters)
      expect(seen(await t.http.post(`${lcs}/${LC_A}/cluster-references`).send({ name: cluster.name })).status).toBe(
        201,
      );
    for (const lc of [LC_B, LC_PLAIN])
      expect(seen(await t.http.post(`${lcs}/${lc}/cluster-references`).send({ name: 'cluster-1' })).status).toBe(201);

    expect((await get(`${lcs}/${LC_A}`)).body.spec.serviceMesh).toEqual({
      enabled: true,
      network: 'camesh-net',
      nameConstraints: true,
    });
    expect((await get(`${lcs}/${LC_B}`)).body.spec.serviceMesh).toEqual({ enabled: true, nameConstraints: true });
    expect((await get(`${lcs}/${LC_PLAIN}`)).body.spec.serviceMesh).toEqual({ enabled: false, nameConstraints: true });
    const openapi = (await t.http.get('/openapi.json')).body;
    const createSpec =
      openapi.paths['/v2/projects/{project}/logical-clouds'].post.requestBody.content['application/json'].schema
        .properties.spec;
    expect(createSpec.properties.serviceMesh.properties).toMatchObject({
      enabled: { type: 'boolean' },
      network: { type: 'string' },
    });
    expect(Object.keys(openapi.paths)).toEqual(
      expect.arrayContaining([
        '/v2/ca/root',
        '/v2/projects/{project}/logical-clouds/{logicalCloud}/ca',
        '/v2/projects/{project}/logical-clouds/{logicalCloud}/rotate-ca',
      ]),
    );
    // Not applied yet: nothing to rotate.
    expectError(seen(await t.http.post(`${lcPath(PROJECT, LC_A)}/rotate-ca`)), 409, /not applied/);
  });

  it('applies: CA Created and mesh Ready on every cluster of a mesh-enabled logical cloud, None without a mesh', async () => {
    await Promise.all([LC_A, LC_B, LC_PLAIN].map((lc) => applyAndSettle(t, PROJECT, lc)));
    for (const lc of [LC_A, LC_B]) {
      const status = await statusOf(t.http, PROJECT, lc);
      expect(status.status).toBe('Created');
      for (const c of status.clusters) {
        expect(c).toMatchObject({ state: 'Applied', 'ca-status': 'Created', 'mesh-status': 'Ready' });
        expect(c.resources.find((r) => r.kind === 'Istio')?.message).toMatch(
          /Istio v1\.28\.4.*: the Istio resource is Ready/,
        );
      }
    }
    expect(
      clusterEntry(await statusOf(t.http, PROJECT, LC_A), 'cluster-1').resources.find(
        (r) => r.kind === 'IntermediateCA',
      )?.message,
    ).toMatch(/intermediate issued/);
    const plain = await statusOf(t.http, PROJECT, LC_PLAIN);
    expect(plain.status).toBe('Created');
    expect(clusterEntry(plain, 'cluster-1')).toMatchObject({ 'ca-status': 'None', 'mesh-status': 'None' });
    for (const lc of [LC_A, LC_B, LC_PLAIN]) ca[lc] = await caOf(lc);
  });

  it('delivers cacerts on both clusters: different intermediates whose chains openssl verifies to the same DCM root', async () => {
    const a = ca[LC_A]!;
    const delivered: Cacerts[] = [];
    for (const i of CLUSTERS) {
      const cacerts = (await readCacerts(i, a['control-plane-namespace']))!;
      expect(cacerts).toBeDefined();
      delivered.push(cacerts);
      expect(cacerts.root).toBe(rootPem);
      expect(cacerts.chain[0]).toBe(cacerts.caCert);
      expect(cacerts.chain.at(-1)).toBe(rootPem);
      expect(verifyChain(rootPem, cacerts)).toMatchObject({ code: 0, output: expect.stringMatching(/: OK/) });
      const x509 = new X509Certificate(cacerts.caCert);
      expect(x509.checkPrivateKey(createPrivateKey(cacerts.caKey))).toBe(true);
      expect(x509.ca).toBe(true);
      const text = openssl.run(['x509', '-noout', '-text', '-in', file(cacerts.caCert)]).output;
      expect(text).toMatch(/X509v3 Basic Constraints: critical\s+CA:TRUE, pathlen:0/);
      expect(text).toMatch(/X509v3 Key Usage: critical\s+Certificate Sign, CRL Sign/);
      expect(x509.subjectAltName).toBe(`URI:spiffe://${a['trust-domain']}/ns/${NS[LC_A]}/cluster/cluster-${i + 1}`);
      expect(x509.subject).toMatch(new RegExp(`OU=${PROJECT}/${LC_A}`));
      // The key is this cluster's own: it does not fit the other cluster's certificate.
    }
    expect(delivered[0]!.caCert).not.toBe(delivered[1]!.caCert);
    expect(new X509Certificate(delivered[0]!.caCert).checkPrivateKey(createPrivateKey(delivered[1]!.caKey))).toBe(
      false,
    );
    // Another DCM root would not do.
    const foreign = openssl.run([
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      path.join(openssl.dir, 'foreign.key'),
      '-subj',
      '/CN=DCM service mesh root CA',
      '-days',
      '1',
    ]);
    expect(
      verifyChain(
        foreign.output.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----\n/)![0],
        delivered[0]!,
      ).code,
    ).not.toBe(0);
    // REST shows each cluster's chain, serial and validity — the same certificate as on the cluster.
    for (const i of CLUSTERS) {
      const entry = a.clusters.find((c) => c['cluster-reference'] === `cluster-${i + 1}`)!;
      expect(entry.certificate).toBe(delivered[i]!.caCert);
      expect(pemsOf(entry['cert-chain'])).toEqual(delivered[i]!.chain);
      expect(entry['serial-number']).toBe(
        new X509Certificate(delivered[i]!.caCert).serialNumber.toLowerCase().replace(/^(00)+/, ''),
      );
      expect(new Date(entry['not-after']).getTime()).toBeGreaterThan(Date.now() + 300 * 86400_000);
    }
  });

  it('declares a Sail Istio resource per cluster: revision, namespace, version, discovery selectors, cluster name, network and trust domain; the namespace is labelled', async () => {
    const a = ca[LC_A]!;
    const b = ca[LC_B]!;
    expect(a.revision).not.toBe(b.revision);
    expect(a['control-plane-namespace']).not.toBe(b['control-plane-namespace']);
    for (const revision of [a.revision, b.revision]) {
      expect(revision).toMatch(/^[a-z]([-a-z0-9]*[a-z0-9])?$/);
      expect(`istiod-${revision}`.length).toBeLessThanOrEqual(63);
    }
    for (const i of CLUSTERS) {
      const istio = (await readIstio(i, a.revision))!;
      expect(istio.metadata.namespace).toBeUndefined();
      expect(istio.metadata.labels).toMatchObject({
        'app.kubernetes.io/managed-by': 'dcm',
        'dcm.onap.org/logical-cloud': LC_A,
      });
      expect(istio.spec).toMatchObject({
        version: 'v1.28.4',
        namespace: a['control-plane-namespace'],
        updateStrategy: { type: 'InPlace' },
        values: {
          meshConfig: { trustDomain: a['trust-domain'] },
          global: {
            meshID: a.revision,
            istioNamespace: a['control-plane-namespace'],
            network: 'camesh-net',
            multiCluster: { clusterName: `cluster-${i + 1}` },
          },
        },
      });
      expect(istio.spec.values.meshConfig.discoverySelectors).toEqual([
        { matchLabels: { 'kubernetes.io/metadata.name': NS[LC_A] } },
        { matchLabels: { 'kubernetes.io/metadata.name': a['control-plane-namespace'] } },
      ]);
      expect((await readNamespace(i, NS[LC_A]))!.metadata!.labels).toMatchObject({ 'istio.io/rev': a.revision });
    }
    const istioB = (await readIstio(0, b.revision))!;
    expect(istioB.spec.namespace).toBe(b['control-plane-namespace']);
    expect(istioB.spec.values.meshConfig.discoverySelectors[0]).toEqual({
      matchLabels: { 'kubernetes.io/metadata.name': NS[LC_B] },
    });
    // No network given: each cluster is its own network, named after it.
    expect(istioB.spec.values.global.network).toBe('cluster-1');
    expect(await readIstio(1, b.revision)).toBeUndefined();
    expect((await readNamespace(0, NS[LC_B]))!.metadata!.labels).toMatchObject({ 'istio.io/rev': b.revision });
    // B is on cluster-1 only, and its intermediate is not A's.
    expect(await readNamespace(1, b['control-plane-namespace'])).toBeUndefined();
    expect((await readCacerts(0, b['control-plane-namespace']))!.caCert).not.toBe(
      (await readCacerts(0, a['control-plane-namespace']))!.caCert,
    );
  });

  it('a logical cloud without a mesh gets none of it', async () => {
    const plain = ca[LC_PLAIN]!;
    expect(plain).toMatchObject({ 'service-mesh': false, clusters: [] });
    const id = await idOf(LC_PLAIN);
    const namespaces = await core(0).listNamespace({ labelSelector: `dcm.onap.org/logical-cloud-id=${id}` });
    expect(namespaces.items.map((n) => n.metadata!.name)).toEqual([NS[LC_PLAIN]]);
    expect(namespaces.items[0]!.metadata!.labels!['istio.io/rev']).toBeUndefined();
    const istios = (await customObjects(0).listClusterCustomObject({
      ...ISTIO,
      labelSelector: `dcm.onap.org/logical-cloud-id=${id}`,
    })) as { items: unknown[] };
    expect(istios.items).toEqual([]);
    expect(await intermediateDocs(LC_PLAIN)).toEqual([]);
    expectError(seen(await t.http.post(`${lcPath(PROJECT, LC_PLAIN)}/rotate-ca`)), 409, /no service mesh/);
  });

  it('never answers a private key, and MongoDB holds the intermediate keys sealed only', async () => {
    const docs = await intermediateDocs(LC_A);
    expect(docs).toHaveLength(2);
    for (const doc of docs) {
      expect(doc.privateKey).toMatchObject({ alg: 'aes-256-gcm', kid: 'test-1' });
      const key = testCipher.open(
        doc.privateKey,
        `dcm-ca/intermediate/${doc.logicalCloudId}/${doc.provider}/${doc.cluster}/private-key`,
      );
      const onCluster = (await readCacerts(doc.cluster === 'cluster-1' ? 0 : 1, ca[LC_A]!['control-plane-namespace']))!;
      expect(key).toBe(onCluster.caKey);
    }
    // No document of any collection of the DCM's database holds a PEM private key in clear.
    const db = t.mongo.db(t.databaseName);
    for (const { name } of await db.listCollections().toArray()) {
      for (const doc of await db.collection(name).find({}).toArray())
        expect({ collection: name, clear: /PRIVATE KEY/.test(JSON.stringify(doc)) }).toEqual({
          collection: name,
          clear: false,
        });
    }
    await get(`${lcPath(PROJECT, LC_A)}/status`);
    await get(`${lcPath(PROJECT, LC_A)}`);
    expect(bodies.length).toBeGreaterThan(10);
    for (const body of bodies) expect(body).not.toMatch(/PRIVATE KEY/);
  });

  it('re-apply keeps the intermediate: the Secret and the Istio resource are not even written', async () => {
    const a = ca[LC_A]!;
    const before = await Promise.all(
      CLUSTERS.map(async (i) => ({
        secret: (await readCacerts(i, a['control-plane-namespace']))!,
        istio: (await readIstio(i, a.revision))!,
      })),
    );
    const status = await applyAndSettle(t, PROJECT, LC_A);
    for (const c of status.clusters) {
      expect(c).toMatchObject({ 'ca-status': 'Created', 'mesh-status': 'Ready' });
      expect(c.resources.find((r) => r.kind === 'IntermediateCA')?.message).toMatch(/valid intermediate reused/);
    }
    for (const i of CLUSTERS) {
      const secret = (await readCacerts(i, a['control-plane-namespace']))!;
      expect(secret.resourceVersion).toBe(before[i]!.secret.resourceVersion);
      expect(secret.caCert).toBe(before[i]!.secret.caCert);
      expect((await readIstio(i, a.revision))!.metadata.resourceVersion).toBe(
        before[i]!.istio.metadata.resourceVersion,
      );
    }
    expect((await caOf(LC_A)).clusters.map((c) => c['serial-number'])).toEqual(
      a.clusters.map((c) => c['serial-number']),
    );
  });

  it("rotate-ca re-issues one cluster's intermediate (or all of them) under the same root", async () => {
    const a = ca[LC_A]!;
    const path_ = `${lcPath(PROJECT, LC_A)}/rotate-ca`;
    expectError(seen(await t.http.post(`${path_}?cluster-reference=cluster-9`)), 404, /cluster-9/);
    const misspelt = seen(await t.http.post(`${path_}?cluster=cluster-1`));
    expectError(misspelt, 400);
    expect(fieldsOf(misspelt)).toEqual(['query.cluster']);
    const before = await Promise.all(CLUSTERS.map(async (i) => (await readCacerts(i, a['control-plane-namespace']))!));

    const one = seen(await t.http.post(`${path_}?cluster-reference=cluster-1`));
    expect(one.status).toBe(202);
    expect(one.body).toMatchObject({ status: 'Creation in Progress', 'rotate-ca': ['cluster-1'] });
    await t.dcm.services.lifecycle.settled(PROJECT, LC_A);
    const status = await statusOf(t.http, PROJECT, LC_A);
    expect(status.status).toBe('Created');
    expect(clusterEntry(status, 'cluster-1').resources.find((r) => r.kind === 'IntermediateCA')?.message).toMatch(
      /intermediate issued/,
    );
    const rotated = (await readCacerts(0, a['control-plane-namespace']))!;
    expect(rotated.caCert).not.toBe(before[0]!.caCert);
    expect(rotated.resourceVersion).not.toBe(before[0]!.resourceVersion);
    expect(verifyChain(rootPem, rotated)).toMatchObject({ code: 0 });
    expect((await readCacerts(1, a['control-plane-namespace']))!.resourceVersion).toBe(before[1]!.resourceVersion);
    const after = await caOf(LC_A);
    expect(after.clusters.find((c) => c['cluster-reference'] === 'cluster-1')).toMatchObject({
      certificate: rotated.caCert,
      'rotation-requested': false,
    });

    const all = seen(await t.http.post(path_));
    expect(all.status).toBe(202);
    expect(all.body['rotate-ca']).toEqual(['cluster-1', 'cluster-2']);
    await t.dcm.services.lifecycle.settled(PROJECT, LC_A);
    for (const i of CLUSTERS) {
      const now = (await readCacerts(i, a['control-plane-namespace']))!;
      expect(now.caCert).not.toBe(i === 0 ? rotated.caCert : before[1]!.caCert);
      expect(verifyChain(rootPem, now)).toMatchObject({ code: 0 });
    }
  });

  it('gRPC: status carries ca-status and mesh-status; the CA reads and rotation are there too, without keys', async () => {
    const status = await g.call<{ body: never }>('GetStatus', { project: PROJECT, logical_cloud: LC_A });
    const clusters = json(status.body).clusters as Record<string, unknown>[];
    for (const c of clusters) expect(c).toMatchObject({ 'ca-status': 'Created', 'mesh-status': 'Ready' });
    const root = await g.call<{ body: never }>('GetRootCa', {});
    expect(json(root.body)['root-certificate']).toBe(rootPem);
    const lcCa = await g.call<{ body: never }>('GetLogicalCloudCa', { project: PROJECT, logical_cloud: LC_A });
    expect(JSON.stringify(json(lcCa.body))).not.toMatch(/PRIVATE KEY/);
    expect((json(lcCa.body).clusters as unknown[]).length).toBe(2);
    const rotate = await g.call<{ state: string; body: never }>('RotateCa', {
      project: PROJECT,
      logical_cloud: LC_A,
      cluster_reference: 'cluster-2',
    });
    expect(rotate.state).toBe('Instantiating');
    expect(json(rotate.body)['rotate-ca']).toEqual(['cluster-2']);
    await t.dcm.services.lifecycle.settled(PROJECT, LC_A);
    await expect(
      g.call('RotateCa', { project: PROJECT, logical_cloud: LC_A, cluster_reference: 'no such/ref' }),
    ).rejects.toMatchObject({ details: expect.stringMatching(/cluster_reference/) });
  });

  it('turning the mesh off while applied removes the CA and the control plane at the next apply', async () => {
    const b = ca[LC_B]!;
    const lc = tenantLogicalCloud(LC_B, NS[LC_B], `${LC_B}-user`);
    const { metadata, ...rest } = lc;
    const put = seen(
      await t.http.put(lcPath(PROJECT, LC_B)).send({
        metadata: { description: metadata.description },
        spec: { ...rest.spec, serviceMesh: { enabled: false } },
      }),
    );
    expect(put.status).toBe(200);
    const status = await applyAndSettle(t, PROJECT, LC_B);
    expect(clusterEntry(status, 'cluster-1')).toMatchObject({
      state: 'Applied',
      'ca-status': 'Deleted',
      'mesh-status': 'Deleted',
    });
    expect(await readNamespace(0, b['control-plane-namespace'])).toBeUndefined();
    expect(await readIstio(0, b.revision)).toBeUndefined();
    expect((await readNamespace(0, NS[LC_B]))!.metadata!.labels!['istio.io/rev']).toBeUndefined();
    expect(await intermediateDocs(LC_B)).toEqual([]);
    expect(await caOf(LC_B)).toMatchObject({ 'service-mesh': false, clusters: [] });
  });

  it('terminate removes the Istio resource, the cacerts Secret, the control-plane namespace and the stored intermediates', async () => {
    const a = ca[LC_A]!;
    const results = await Promise.all([LC_A, LC_B, LC_PLAIN].map((lc) => terminateAndSettle(t, PROJECT, lc)));
    for (const status of results) expect(status.status).toBe('Terminated');
    for (const c of results[0]!.clusters)
      expect(c).toMatchObject({
        state: 'Terminated',
        'ca-status': 'Deleted',
        'mesh-status': 'Deleted',
        'namespace-status': 'Deleted',
      });
    for (const i of CLUSTERS) {
      expect(await readNamespace(i, a['control-plane-namespace'])).toBeUndefined();
      expect(await readIstio(i, a.revision)).toBeUndefined();
      expect(await readCacerts(i, a['control-plane-namespace'])).toBeUndefined();
      expect(await readNamespace(i, NS[LC_A])).toBeUndefined();
    }
    expect(await intermediateDocs(LC_A)).toEqual([]);
    for (const lc of [LC_A, LC_B, LC_PLAIN]) expect(seen(await t.http.delete(lcPath(PROJECT, lc))).status).toBe(204);
    for (const body of bodies) expect(body).not.toMatch(/PRIVATE KEY/);
  });
});
