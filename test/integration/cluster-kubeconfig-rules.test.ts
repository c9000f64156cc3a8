/**
 * Registered kubeconfigs carry data, never instructions (issue 14, item 1). A kubeconfig is
 * loaded into @kubernetes/client-node, which runs `exec` plugins, reads `token-file` and key
 * paths from the DCM's own file system and sends what it read to the kubeconfig's server. So:
 *
 * - registering (POST/PUT) a kubeconfig with such a field, on any entry, answers 400 naming the
 *   field and quoting nothing of the kubeconfig; the same for a CA key that is not one inline
 *   PEM private key;
 * - a stored kubeconfig that does not pass (registered before these rules, here written straight
 *   into the database) is never loaded: an apply to its cluster ends Failed saying why, and the
 *   exec program it names never runs (it would create a marker file);
 * - with keys configured, a secret stored unsealed is refused in the same way (item 7).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import yaml from 'js-yaml';
import { ClusterService } from '../../src/features/cluster-registry/cluster.service.js';
import { EventBus } from '../../src/jobs/event-bus.js';
import { startTestDcm, testCipher, type TestDcm } from '../support/dcm.js';
import {
  caKeyText,
  createProject,
  createProvider,
  expectError,
  fingerprint,
  kubeconfigText,
  lcPath,
} from '../support/rest.js';
import { applyAndSettle, clusterEntry, namespaceExists, removeLeftovers, tenantLogicalCloud } from './apply-helpers.js';

const PROJECT = 'hard-project';
const PROVIDER = 'hard-provider';
const NAMESPACES = ['hard-ns-exec', 'hard-ns-cakey', 'hard-ns-unsealed'];
const LOGICAL_CLOUDS = ['hard-lc-exec', 'hard-lc-cakey', 'hard-lc-unsealed'];

interface KubeconfigDocument {
  clusters: { name: string; cluster: Record<string, unknown> }[];
  users: { name: string; user: Record<string, unknown> }[];
  contexts: { name: string; context: Record<string, unknown> }[];
  [key: string]: unknown;
}

/** Test cluster 1's admin kubeconfig, changed by `edit`. */
function edited(edit: (doc: KubeconfigDocument) => void): string {
  const doc = yaml.load(kubeconfigText(1)) as KubeconfigDocument;
  edit(doc);
  return yaml.dump(doc);
}

describe('registered kubeconfigs carry data, never instructions', () => {
  let t: TestDcm;
  let workdir: string;
  let marker: string;
  let script: string;
  const adminKubeconfig = kubeconfigText(1);
  const clientKeyData = /client-key-data:\s*(\S+)/.exec(adminKubeconfig)![1]!;
  const clientKey = Buffer.from(clientKeyData, 'base64').toString('utf8');
  /** Pieces of secrets that no answer may carry. */
  const needles = () => [
    fingerprint(clientKeyData, 40),
    fingerprint(clientKey, 60),
    'BEGIN',
    'client-key-data:',
    script,
    marker,
  ];
  const expectNoSecretIn = (text: string) => {
    for (const needle of needles()) expect(text).not.toContain(needle);
  };

  /** The kubeconfig whose user runs `script` (which creates `marker`) to get its credentials. */
  const execKubeconfig = () =>
    edited((doc) => {
      doc.users[0]!.user = {
        exec: { apiVersion: 'client.authentication.k8s.io/v1', command: script, args: [], interactiveMode: 'Never' },
      };
    });

  const register = (name: string, kubeconfig: string, caKey?: string) =>
    t.http
      .post(`/v2/cluster-providers/${PROVIDER}/clusters`)
      .send({ metadata: { name }, spec: { kubeconfig, ...(caKey !== undefined && { 'ca-key': caKey }) } });

  /** Replaces one stored secret of a cluster in the raw document, as an older DCM (or someone with database access) left it. */
  async function overwriteStored(cluster: string, field: 'kubeconfig' | 'caKey', value: unknown): Promise<void> {
    const result = await t.mongo
      .db(t.databaseName)
      .collection('clusters')
      .updateOne({ name: cluster }, { $set: { [`data.secrets.${field}`]: value } });
    expect(result.modifiedCount).toBe(1);
  }

  /** A logical cloud with one reference, to `cluster`. */
  async function logicalCloudOn(lc: string, namespace: string, cluster: string): Promise<void> {
    await t.http
      .post(`/v2/projects/${PROJECT}/logical-clouds`)
      .send(tenantLogicalCloud(lc, namespace, `user-${lc}`))
      .expect(201);
    await t.http
      .post(`${lcPath(PROJECT, lc)}/cluster-references`)
      .send({ metadata: { name: cluster }, spec: { 'cluster-provider': PROVIDER, 'cluster-name': cluster } })
      .expect(201);
  }

  beforeAll(async () => {
    workdir = fs.mkdtempSync(path.join(os.tmpdir(), 'dcm-hard-kubeconfig-'));
    marker = path.join(workdir, 'exec-ran');
    script = path.join(workdir, 'credential-plugin.sh');
    fs.writeFileSync(
      script,
      `#!/bin/sh\ntouch '${marker}'\necho '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"x"}}'\n`,
      { mode: 0o755 },
    );
    await removeLeftovers(NAMESPACES, LOGICAL_CLOUDS);
    t = await startTestDcm('hard_kubeconfig');
    await createProject(t, PROJECT);
    await createProvider(t, PROVIDER);
  });

  afterAll(async () => {
    await t?.close();
    await removeLeftovers(NAMESPACES, LOGICAL_CLOUDS);
    fs.rmSync(workdir, { recursive: true, force: true });
  });

  describe('registration', () => {
    /** Test cluster 1's kubeconfig whose user is `user`. */
    const withUser = (user: Record<string, unknown>) =>
      edited((doc) => {
        doc.users[0]!.user = user;
      });
    const cases: [string, () => string, RegExp][] = [
      [
        'an exec plugin',
        () => execKubeconfig(),
        /^users\[0\]\.user\.exec is not accepted: it would run a program inside the DCM/,
      ],
      [
        'an auth-provider',
        () => withUser({ 'auth-provider': { name: 'oidc', config: { 'id-token': 'x', 'refresh-token': 'y' } } }),
        /^users\[0\]\.user\.auth-provider is not accepted: /,
      ],
      [
        'a token-file (the DCM would send its own keys)',
        () => withUser({ 'token-file': '/var/run/secrets/dcm/encryption.keys' }),
        /^users\[0\]\.user\.token-file is not accepted: it names a file/,
      ],
      [
        'a tokenFile beside inline credentials',
        () =>
          edited((doc) => {
            doc.users[0]!.user.tokenFile = '/etc/dcm/keys';
          }),
        /^users\[0\]\.user\.tokenFile is not accepted: it names a file/,
      ],
      [
        'key and certificate paths',
        () => withUser({ 'client-certificate': '/etc/dcm/tls.crt', 'client-key': '/etc/dcm/tls.key' }),
        /^users\[0\]\.user\.client-certificate is not accepted: it names a file/,
      ],
      [
        'basic authentication',
        () => withUser({ username: 'admin', password: 'secret-password-1234' }),
        /^users\[0\]\.user\.username is not accepted: basic authentication/,
      ],
      [
        'a CA path',
        () =>
          edited((doc) => {
            doc.clusters[0]!.cluster['certificate-authority'] = '/etc/dcm/ca.crt';
          }),
        /^clusters\[0\]\.cluster\.certificate-authority is not accepted: it names a file/,
      ],
      [
        'insecure-skip-tls-verify: true',
        () =>
          edited((doc) => {
            doc.clusters[0]!.cluster = { server: doc.clusters[0]!.cluster.server, 'insecure-skip-tls-verify': true };
          }),
        /^clusters\[0\]\.cluster\.insecure-skip-tls-verify is not accepted: .*DCM_ALLOW_INSECURE_CLUSTERS=true/,
      ],
      [
        'an exec plugin on a user the current context does not use',
        () =>
          edited((doc) => {
            doc.users.push({
              name: 'spare',
              user: { exec: { command: script, apiVersion: 'client.authentication.k8s.io/v1' } },
            });
          }),
        /^users\[1\]\.user\.exec is not accepted: /,
      ],
      [
        'a CA path on a cluster the current context does not use',
        () =>
          edited((doc) => {
            doc.clusters.push({
              name: 'spare',
              cluster: { server: 'https://127.0.0.1:1', 'certificate-authority': '/etc/dcm/ca.crt' },
            });
          }),
        /^clusters\[1\]\.cluster\.certificate-authority is not accepted: /,
      ],
    ];

    it.each(cases)('refuses %s with a 400 naming the field, quoting nothing', async (_what, kubeconfig, message) => {
      const text = kubeconfig();
      for (const sent of [text, Buffer.from(text).toString('base64')]) {
        const res = await register('hard-refused', sent);
        expectError(res, 400, /^invalid request: spec\.kubeconfig: /);
        const details = res.body.details as { field: string; message: string }[];
        expect(details.map((d) => d.field)).toEqual(details.map(() => 'spec.kubeconfig'));
        expect(details[0]!.message).toMatch(message);
        expectNoSecretIn(res.text);
      }
      expectError(await t.http.get(`/v2/cluster-providers/${PROVIDER}/clusters/hard-refused`), 404);
      expect(fs.existsSync(marker)).toBe(false);
    });

    it('refuses the same on PUT, and the registered cluster stays as it was', async () => {
      await register('hard-put', adminKubeconfig).expect(201);
      const before = await t.http.get(`/v2/cluster-providers/${PROVIDER}/clusters/hard-put`).expect(200);
      const res = await t.http
        .put(`/v2/cluster-providers/${PROVIDER}/clusters/hard-put`)
        .send({ metadata: { name: 'hard-put' }, spec: { kubeconfig: execKubeconfig() } });
      expectError(res, 400, /spec\.kubeconfig: users\[0\]\.user\.exec is not accepted/);
      expectNoSecretIn(res.text);
      const after = await t.http.get(`/v2/cluster-providers/${PROVIDER}/clusters/hard-put`).expect(200);
      expect(after.headers.etag).toBe(before.headers.etag);
      await t.http.delete(`/v2/cluster-providers/${PROVIDER}/clusters/hard-put`).expect(204);
    });

    it('refuses a CA key that is not one inline PEM private key (400 naming spec.ca-key)', async () => {
      const caKey = caKeyText(1);
      const certificate = Buffer.from(
        (yaml.load(adminKubeconfig) as KubeconfigDocument).clusters[0]!.cluster['certificate-authority-data'] as string,
        'base64',
      ).toString('utf8');
      const bad = [
        '/etc/dcm/ca.key',
        'file:///etc/dcm/ca.key',
        'PRIVATE KEY',
        ...(caKey ? [`${certificate}${caKey}`, `${caKey}\n/etc/passwd`] : []),
      ];
      for (const value of bad) {
        const res = await register('hard-ca-key', adminKubeconfig, value);
        expectError(res, 400);
        expect(res.body.details).toEqual([
          { field: 'spec.ca-key', message: expect.stringMatching(/^must be one inline PEM private key/) },
        ]);
        expectNoSecretIn(res.text);
        if (caKey) expect(res.text).not.toContain(fingerprint(caKey, 40));
      }
      if (caKey) {
        await register('hard-ca-key', adminKubeconfig, caKey).expect(201);
        await t.http.delete(`/v2/cluster-providers/${PROVIDER}/clusters/hard-ca-key`).expect(204);
      }
    });

    it('accepts insecure clusters only when the operator allows them (DCM_ALLOW_INSECURE_CLUSTERS)', async () => {
      const insecure = edited((doc) => {
        doc.clusters[0]!.cluster = { server: doc.clusters[0]!.cluster.server, 'insecure-skip-tls-verify': true };
      });
      const { stores, services } = t.dcm;
      const lax = new ClusterService(stores.clusters, services.clusterProviders, new EventBus(), testCipher, {
        allowInsecureClusters: true,
      });
      const strict = new ClusterService(stores.clusters, services.clusterProviders, new EventBus(), testCipher);
      const input = { description: '', userData1: '', userData2: '', labels: [], kubeconfig: insecure };
      await expect(strict.create(PROVIDER, 'hard-insecure', input)).rejects.toThrow(
        /insecure-skip-tls-verify is not accepted/,
      );
      const record = await lax.create(PROVIDER, 'hard-insecure', input);
      expect(record.data.insecureSkipTlsVerify).toBe(true);
      // What the lax service stored, the strict one does not use.
      expect(() => strict.secretsOf(record)).toThrow(
        /its stored admin kubeconfig is refused: clusters\[0\]\.cluster\.insecure-skip-tls-verify is not accepted/,
      );
      expect(lax.secretsOf(record).kubeconfig).toBe(insecure);
      await t.http.delete(`/v2/cluster-providers/${PROVIDER}/clusters/hard-insecure`).expect(204);
    });
  });

  describe('a stored secret that does not pass', () => {
    it('an exec kubeconfig is never loaded: the apply fails on that cluster saying why, and the program never runs', async () => {
      await register('hard-exec', adminKubeconfig).expect(201);
      await logicalCloudOn('hard-lc-exec', 'hard-ns-exec', 'hard-exec');
      await overwriteStored(
        'hard-exec',
        'kubeconfig',
        testCipher.seal(execKubeconfig(), `cluster/${PROVIDER}/hard-exec/kubeconfig`),
      );

      const status = await applyAndSettle(t, PROJECT, 'hard-lc-exec');
      expect(status.status).toBe('Creation Failed');
      const entry = clusterEntry(status, 'hard-exec');
      expect(entry.state).toBe('Failed');
      expect(entry.errors.join('\n')).toMatch(
        /Cluster hard-exec of cluster provider hard-provider: its stored admin kubeconfig is refused: users\[0\]\.user\.exec is not accepted: it would run a program inside the DCM.*register the cluster again/,
      );
      expectNoSecretIn(JSON.stringify(status));
      expect(fs.existsSync(marker)).toBe(false);
      expect(await namespaceExists(0, 'hard-ns-exec')).toBe(false);

      // The program would have left its marker had anything run it: the absence above means something.
      execFileSync(script);
      expect(fs.existsSync(marker)).toBe(true);
      fs.rmSync(marker);
    });

    it('a CA key that is not an inline PEM private key is refused the same way', async () => {
      await register('hard-cakey', adminKubeconfig).expect(201);
      await logicalCloudOn('hard-lc-cakey', 'hard-ns-cakey', 'hard-cakey');
      await overwriteStored(
        'hard-cakey',
        'caKey',
        testCipher.seal('/etc/dcm/ca.key', `cluster/${PROVIDER}/hard-cakey/ca-key`),
      );

      const status = await applyAndSettle(t, PROJECT, 'hard-lc-cakey');
      const entry = clusterEntry(status, 'hard-cakey');
      expect(entry.state).toBe('Failed');
      expect(entry.errors.join('\n')).toMatch(
        /its stored CA key is refused: spec\.ca-key must be one inline PEM private key/,
      );
      expect(JSON.stringify(status)).not.toContain('/etc/dcm/ca.key');
      expect(await namespaceExists(0, 'hard-ns-cakey')).toBe(false);
    });

    it('with keys configured, an unsealed kubeconfig is refused, never opened, and not sealed again', async () => {
      await register('hard-unsealed', adminKubeconfig).expect(201);
      await logicalCloudOn('hard-lc-unsealed', 'hard-ns-unsealed', 'hard-unsealed');
      const unsealed = { alg: 'none', value: adminKubeconfig };
      await overwriteStored('hard-unsealed', 'kubeconfig', unsealed);

      // Re-sealing (as at start-up) skips it.
      await t.dcm.services.resealSecrets();
      const stored = await t.mongo.db(t.databaseName).collection('clusters').findOne({ name: 'hard-unsealed' });
      expect((stored as unknown as { data: { secrets: { kubeconfig: unknown } } }).data.secrets.kubeconfig).toEqual(
        unsealed,
      );

      const status = await applyAndSettle(t, PROJECT, 'hard-lc-unsealed');
      const entry = clusterEntry(status, 'hard-unsealed');
      expect(entry.state).toBe('Failed');
      expect(entry.errors.join('\n')).toMatch(
        /secret of cluster\/hard-provider\/hard-unsealed\/kubeconfig is stored unsealed \(alg "none"\) although encryption keys are configured: refused/,
      );
      expectNoSecretIn(JSON.stringify(status));
      expect(await namespaceExists(0, 'hard-ns-unsealed')).toBe(false);
    });
  });
});
