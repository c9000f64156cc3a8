import { describe, expect, it } from '@jest/globals';
import { KubeConfig } from '@kubernetes/client-node';
import yaml from 'js-yaml';
import {
  KubeconfigError,
  buildKubeconfig,
  kubeconfigToJson,
  kubeconfigToYaml,
  parseAdminKubeconfig,
  type KubeconfigEntry,
} from '../../src/kubeconfig/kubeconfig.js';

const pem = (label: string, fill: string) => `-----BEGIN ${label}-----\n${fill.repeat(64)}\n${fill.repeat(64)}\n-----END ${label}-----\n`;
const CA_DATA = Buffer.from(pem('CERTIFICATE', 'C')).toString('base64');

function entry(clusterName: string, overrides: Partial<KubeconfigEntry> = {}): KubeconfigEntry {
  return {
    clusterName,
    server: `https://${clusterName}.example.com:6443`,
    certificateAuthorityData: CA_DATA,
    userName: 'tenant-a',
    clientCertificatePem: pem('CERTIFICATE', clusterName[0]!.toUpperCase()),
    clientKeyPem: pem('RSA PRIVATE KEY', 'K'),
    namespace: 'tenant-a-ns',
    ...overrides,
  };
}

const expectError = (fn: () => unknown, message: RegExp) => {
  expect(fn).toThrow(KubeconfigError);
  expect(fn).toThrow(message);
};

describe('buildKubeconfig', () => {
  it('builds the standard shape for one cluster', () => {
    const e = entry('east');
    expect(buildKubeconfig([e])).toEqual({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'east', cluster: { server: 'https://east.example.com:6443', 'certificate-authority-data': CA_DATA } }],
      users: [
        {
          name: 'tenant-a@east',
          user: {
            'client-certificate-data': Buffer.from(e.clientCertificatePem).toString('base64'),
            'client-key-data': Buffer.from(e.clientKeyPem).toString('base64'),
          },
        },
      ],
      contexts: [{ name: 'tenant-a@east', context: { cluster: 'east', user: 'tenant-a@east', namespace: 'tenant-a-ns' } }],
      'current-context': 'tenant-a@east',
      preferences: {},
    });
  });

  it('keeps one user per cluster so that certificates do not collide', () => {
    const k = buildKubeconfig([entry('east'), entry('west', { contextName: 'west', certificateAuthorityData: undefined, insecureSkipTlsVerify: true })]);
    expect(k.clusters.map((c) => c.name)).toEqual(['east', 'west']);
    expect(k.clusters[1]!.cluster).toEqual({ server: 'https://west.example.com:6443', 'insecure-skip-tls-verify': true });
    expect(k.users.map((u) => u.name)).toEqual(['tenant-a@east', 'tenant-a@west']);
    expect(k.users[0]!.user['client-certificate-data']).not.toBe(k.users[1]!.user['client-certificate-data']);
    expect(k.contexts.map((c) => [c.name, c.context.cluster, c.context.user])).toEqual([
      ['tenant-a@east', 'east', 'tenant-a@east'],
      ['west', 'west', 'tenant-a@west'],
    ]);
    expect(k['current-context']).toBe('tenant-a@east');
    expect(buildKubeconfig([entry('east'), entry('west')], 'tenant-a@west')['current-context']).toBe('tenant-a@west');

    // @kubernetes/client-node reads it the way kubectl would.
    const kc = new KubeConfig();
    kc.loadFromString(kubeconfigToYaml(k));
    expect(kc.getCurrentCluster()?.server).toBe('https://east.example.com:6443');
    kc.setCurrentContext('west');
    expect(kc.getCurrentUser()?.name).toBe('tenant-a@west');
    expect(kc.getCurrentCluster()?.skipTLSVerify).toBe(true);
  });

  it('refuses inconsistent entries', () => {
    expectError(() => buildKubeconfig([]), /at least one entry/);
    expectError(() => buildKubeconfig([entry('east')], 'nope'), /current context "nope" is not one of the contexts: tenant-a@east/);
    expectError(() => buildKubeconfig([entry('east', { insecureSkipTlsVerify: true })]), /cannot be combined/);
    expectError(() => buildKubeconfig([entry('east', { server: '' })]), /server is missing/);
    expectError(() => buildKubeconfig([entry('east', { clientKeyPem: 'x' })]), /clientKeyPem is not a PEM private key/);
    expectError(() => buildKubeconfig([entry('east'), entry('west', { contextName: 'tenant-a@east' })]), /two different contexts would both be named "tenant-a@east"/);
    expectError(() => buildKubeconfig([entry('east'), entry('east', { server: 'https://other:6443' })]), /two different clusters/);
  });
});

describe('serialisation', () => {
  it('writes YAML without line wrapping that parses back', () => {
    const k = buildKubeconfig([entry('east')]);
    const text = kubeconfigToYaml(k);
    expect(text).toMatch(/^apiVersion: v1\nkind: Config\n/);
    expect(text).toContain(`client-certificate-data: ${k.users[0]!.user['client-certificate-data']}\n`);
    expect(yaml.load(text)).toEqual(k);
    expect(JSON.parse(kubeconfigToJson(k))).toEqual(k);
  });

  it('round-trips through parseAdminKubeconfig from YAML and JSON', () => {
    const k = buildKubeconfig([entry('east'), entry('west', { certificateAuthorityData: undefined, insecureSkipTlsVerify: true })], 'tenant-a@west');
    const expected = { clusterName: 'west', server: 'https://west.example.com:6443', insecureSkipTlsVerify: true };
    expect(parseAdminKubeconfig(kubeconfigToYaml(k))).toEqual(expected);
    expect(parseAdminKubeconfig(kubeconfigToJson(k))).toEqual(expected);
    expect(parseAdminKubeconfig(kubeconfigToYaml(buildKubeconfig([entry('east')])))).toEqual({
      clusterName: 'east',
      server: 'https://east.example.com:6443',
      certificateAuthorityData: CA_DATA,
    });
  });
});

describe('parseAdminKubeconfig', () => {
  const cluster = (name: string, fields: Record<string, unknown>) => ({ name, cluster: fields });
  const doc = (d: Record<string, unknown>) => yaml.dump({ apiVersion: 'v1', kind: 'Config', ...d });

  it('takes the only cluster when there is no current context', () => {
    expect(parseAdminKubeconfig(doc({ clusters: [cluster('solo', { server: 'https://10.0.0.1:6443' })] }))).toEqual({
      clusterName: 'solo',
      server: 'https://10.0.0.1:6443',
    });
  });

  it('says what is missing', () => {
    expectError(() => parseAdminKubeconfig(doc({})), /kubeconfig has no clusters/);
    expectError(() => parseAdminKubeconfig(doc({ clusters: null })), /kubeconfig has no clusters/);
    expectError(() => parseAdminKubeconfig(doc({ clusters: [cluster('c', {})] })), /cluster "c" has no server/);
    expectError(
      () => parseAdminKubeconfig(doc({ clusters: [cluster('c', { server: 'https://x' })], 'current-context': 'admin' })),
      /current-context "admin" names a context that does not exist/,
    );
    expectError(
      () =>
        parseAdminKubeconfig(
          doc({
            clusters: [cluster('c', { server: 'https://x' })],
            contexts: [{ name: 'admin', context: { cluster: 'gone', user: 'u' } }],
            'current-context': 'admin',
          }),
        ),
      /cluster "gone" \(of the current context\) does not exist/,
    );
    expectError(
      () => parseAdminKubeconfig(doc({ clusters: [cluster('a', { server: 'https://a' }), cluster('b', { server: 'https://b' })] })),
      /2 clusters and no current-context/,
    );
    expectError(
      () => parseAdminKubeconfig(doc({ clusters: [cluster('c', { server: 'https://x', 'certificate-authority': '/etc/ca.crt' })] })),
      /refers to a CA file/,
    );
    expectError(() => parseAdminKubeconfig(doc({ clusters: [cluster('c', { server: 'not a url' })] })), /server "not a url" is not a URL/);
  });

  it('reports malformed documents with the path of the problem', () => {
    expectError(() => parseAdminKubeconfig('clusters: [\n  - oops'), /neither YAML nor JSON/);
    expectError(() => parseAdminKubeconfig('just text'), /not a mapping/);
    expectError(() => parseAdminKubeconfig(doc({ clusters: 'x' })), /malformed: clusters: /);
    expectError(() => parseAdminKubeconfig(doc({ clusters: [{ name: 'c', cluster: { server: 42 } }] })), /clusters\[0\]\.cluster\.server: /);
  });
});
