/**
 * Secrets at rest (issue 7, point 4): the admin kubeconfig and CA key of a registered cluster
 * and the tenant's private key are stored sealed (AES-256-GCM, with the id of the key that
 * sealed them). The raw MongoDB documents hold none of them in clear, and yet the DCM uses
 * them: it reaches the cluster, signs with its CA key, and hands out a working kubeconfig.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import yaml from 'js-yaml';
import { generateEncryptionKey, parseEncryptionKeys, SecretCipher } from '../../src/security/secret-cipher.js';
import { kubectl } from '../support/backends.js';
import { startTestDcm, testEncryptionKey, type TestDcm } from '../support/dcm.js';
import { caKeyText, createProject, createProvider, fingerprint, kubeconfigText, lcPath } from '../support/rest.js';
import {
  applyAndSettle,
  composeDcm,
  removeLeftovers,
  tenantKubeconfig,
  tenantLogicalCloud,
  terminateAndSettle,
} from './apply-helpers.js';

const PROJECT = 'project-at-rest';
const PROVIDER = 'provider-at-rest';
const LC = 'lc-at-rest';
const NS = 'ns-at-rest';

const userField = (kubeconfig: string, field: 'client-key-data' | 'client-certificate-data'): string =>
  Buffer.from(
    (yaml.load(kubeconfig) as { users: { user: Record<string, string> }[] }).users[0]!.user[field]!,
    'base64',
  ).toString('utf8');

describe('secrets at rest', () => {
  let t: TestDcm;
  const adminKubeconfig = kubeconfigText(1);
  const caKey = caKeyText(1)!;
  let tenantKey = '';

  beforeAll(async () => {
    expect(caKey).toContain('PRIVATE KEY');
    await removeLeftovers([NS], [LC]);
    t = await startTestDcm('at_rest');
    await createProject(t, PROJECT);
    await createProvider(t, PROVIDER);
    await t.http
      .post(`/v2/cluster-providers/${PROVIDER}/clusters`)
      .send({ metadata: { name: 'cluster-1' }, spec: { kubeconfig: adminKubeconfig, 'ca-key': caKey } })
      .expect(201);
    await t.http
      .post(`/v2/projects/${PROJECT}/logical-clouds`)
      .send(tenantLogicalCloud(LC, NS, 'user-at-rest'))
      .expect(201);
    await t.http
      .post(`${lcPath(PROJECT, LC)}/cluster-references`)
      .send({ metadata: { name: 'cluster-1' }, spec: { 'cluster-provider': PROVIDER, 'cluster-name': 'cluster-1' } })
      .expect(201);
  });

  afterAll(async () => {
    if (t) await terminateAndSettle(t, PROJECT, LC).catch(() => undefined);
    await t?.close();
    await removeLeftovers([NS], [LC]);
  });

  it('uses the sealed secrets: reaches the cluster, signs with its CA key, and the kubeconfig works', async () => {
    const status = await applyAndSettle(t, PROJECT, LC);
    expect(status.status).toBe('Created');
    const kubeconfig = await tenantKubeconfig(t.http, PROJECT, LC, 'cluster-1');
    tenantKey = userField(kubeconfig, 'client-key-data');
    expect(tenantKey).toContain('PRIVATE KEY');
    expect((await kubectl({ text: kubeconfig }, ['auth', 'can-i', 'create', 'configmaps'])).stdout.trim()).toBe('yes');
  });

  it('stores every secret sealed with AES-256-GCM under the configured key id', async () => {
    const db = t.mongo.db(t.databaseName);
    const cluster = await db.collection('clusters').findOne({ name: 'cluster-1' });
    const secrets = (
      cluster as unknown as { data: { secrets: Record<string, { alg: string; kid: string; ct: string }> } }
    ).data.secrets;
    expect(Object.keys(secrets).sort()).toEqual(['caKey', 'kubeconfig']);
    for (const sealed of Object.values(secrets))
      expect(sealed).toMatchObject({ alg: 'aes-256-gcm', kid: 'test-1', ct: expect.any(String) });
    const credentials = await db.collection('userCredentials').findOne({});
    expect(credentials?.privateKey).toMatchObject({ alg: 'aes-256-gcm', kid: 'test-1' });
  });

  it('no raw document of any collection holds a private key or a kubeconfig in clear', async () => {
    expect(tenantKey).not.toBe('');
    const adminClientKey = Buffer.from(/client-key-data:\s*(\S+)/.exec(adminKubeconfig)![1]!, 'base64').toString(
      'utf8',
    );
    const needles = [
      'PRIVATE KEY',
      'client-key-data',
      'client-certificate-data',
      fingerprint(adminClientKey, 100),
      fingerprint(caKey, 20),
      fingerprint(tenantKey, 60),
      // the same secrets as base64 (a kubeconfig carries its keys that way)
      fingerprint(/client-key-data:\s*(\S+)/.exec(adminKubeconfig)![1]!, 40),
    ];
    for (const needle of needles) expect(needle.length).toBeGreaterThanOrEqual(11);
    const db = t.mongo.db(t.databaseName);
    const collections = (await db.listCollections().toArray()).map((c) => c.name);
    expect(collections).toEqual(expect.arrayContaining(['clusters', 'userCredentials', 'lifecycle']));
    const leaks: string[] = [];
    for (const name of collections) {
      for (const doc of await db.collection(name).find({}).toArray()) {
        const text = JSON.stringify(doc);
        for (const needle of needles)
          if (text.includes(needle)) leaks.push(`${name}/${String(doc._id)}: ${needle.slice(0, 20)}…`);
      }
    }
    expect(leaks).toEqual([]);
  });
});

describe('rotating the encryption key', () => {
  let t: TestDcm;
  const kid = (sealed: unknown) => (sealed as { kid: string }).kid;

  beforeAll(async () => {
    t = await startTestDcm('reseal');
    await createProject(t, PROJECT);
    await createProvider(t, PROVIDER);
    await t.http
      .post(`/v2/cluster-providers/${PROVIDER}/clusters`)
      .send({ metadata: { name: 'cluster-1' }, spec: { kubeconfig: kubeconfigText(1), 'ca-key': caKeyText(1) } })
      .expect(201);
    await t.dcm.stores.credentials.prepareGeneration('lc-reseal', 2048, async () => caKeyText(2)!);
  });

  afterAll(async () => {
    await t?.close();
  });

  it('seals every secret again under a new first key; the old key can then be dropped', async () => {
    const db = t.mongo.db(t.databaseName);
    const clusterSecrets = async () =>
      (
        (await db.collection('clusters').findOne({ name: 'cluster-1' })) as unknown as {
          data: { secrets: Record<string, unknown> };
        }
      ).data.secrets;
    const before = await clusterSecrets();
    expect([kid(before.kubeconfig), kid(before.caKey)]).toEqual(['test-1', 'test-1']);
    const revision = (await t.http.get(`/v2/cluster-providers/${PROVIDER}/clusters/cluster-1`).expect(200)).headers
      .etag;

    const newKey = generateEncryptionKey('test-2');
    const rotated = await composeDcm(
      db,
      10_000,
      new SecretCipher(parseEncryptionKeys(`${newKey},${testEncryptionKey}`)),
    );
    // the cluster's kubeconfig and CA key, the tenant key, the DCM's root CA key
    expect(await rotated.dcm.services.resealSecrets()).toBe(4);
    expect(await rotated.dcm.services.resealSecrets()).toBe(0);

    const after = await clusterSecrets();
    expect([kid(after.kubeconfig), kid(after.caKey)]).toEqual(['test-2', 'test-2']);
    expect(kid((await db.collection('userCredentials').findOne({ _id: 'lc-reseal' as never }))?.privateKey)).toBe(
      'test-2',
    );
    expect(kid((await db.collection('caRoot').findOne({}))?.privateKey)).toBe('test-2');
    // The record did not change for its users: same ETag.
    expect(
      (await rotated.http.get(`/v2/cluster-providers/${PROVIDER}/clusters/cluster-1`).expect(200)).headers.etag,
    ).toBe(revision);

    // Only the new key is needed now.
    const newOnly = await composeDcm(db, 10_000, new SecretCipher(parseEncryptionKeys(newKey)));
    const cluster = await newOnly.dcm.services.clusters.get(PROVIDER, 'cluster-1');
    expect(newOnly.dcm.services.clusters.secretsOf(cluster)).toEqual({
      kubeconfig: kubeconfigText(1),
      caKey: caKeyText(1),
    });
    expect((await newOnly.dcm.stores.credentials.get('lc-reseal'))?.privateKey).toBe(caKeyText(2));
  });
});
