import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { KubeConfig } from '@kubernetes/client-node';
import yaml from 'js-yaml';
import {
  KubeconfigError,
  buildKubeconfig,
  kubeconfigToJson,
  kubeconfigToYaml,
  type KubeconfigEntry,
} from '../../src/kubeconfig/kubeconfig.js';
import { privateKeyPemProblem } from '../../src/kubeconfig/private-key-pem.js';
import { parseAdminKubeconfig } from '../../src/kubeconfig/registered-kubeconfig.js';

const pem = (label: string, fill: string) =>
  `-----BEGIN ${label}-----\n${fill.repeat(64)}\n${fill.repeat(64)}\n-----END ${label}-----\n`;
const CA_DATA = Buffer.from(pem('CERTIFICATE', 'C')).toString('base64');
/** Real keys: a registered kubeconfig's client-key-data must be a readable private key. */
const EC_KEY = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const REAL_KEY = EC_KEY.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
const RSA_KEY = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey;

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
      clusters: [
        { name: 'east', cluster: { server: 'https://east.example.com:6443', 'certificate-authority-data': CA_DATA } },
      ],
      users: [
        {
          name: 'tenant-a@east',
          user: {
            'client-certificate-data': Buffer.from(e.clientCertificatePem!).toString('base64'),
            'client-key-data': Buffer.from(e.clientKeyPem!).toString('base64'),
          },
        },
      ],
      contexts: [
        { name: 'tenant-a@east', context: { cluster: 'east', user: 'tenant-a@east', namespace: 'tenant-a-ns' } },
      ],
      'current-context': 'tenant-a@east',
      preferences: {},
    });
  });

  it('keeps one user per cluster so that certificates do not collide', () => {
    const k = buildKubeconfig([
      entry('east'),
      entry('west', { contextName: 'west', certificateAuthorityData: undefined, insecureSkipTlsVerify: true }),
    ]);
    expect(k.clusters.map((c) => c.name)).toEqual(['east', 'west']);
    expect(k.clusters[1]!.cluster).toEqual({
      server: 'https://west.example.com:6443',
      'insecure-skip-tls-verify': true,
    });
    expect(k.users.map((u) => u.name)).toEqual(['tenant-a@east', 'tenant-a@west']);
    const certificateOf = (u: (typeof k.users)[number]) =>
      'client-certificate-data' in u.user ? u.user['client-certificate-data'] : undefined;
    expect(certificateOf(k.users[0]!)).toBeDefined();
    expect(certificateOf(k.users[0]!)).not.toBe(certificateOf(k.users[1]!));
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
    expectError(
      () => buildKubeconfig([entry('east')], 'nope'),
      /current context "nope" is not one of the contexts: tenant-a@east/,
    );
    expectError(() => buildKubeconfig([entry('east', { insecureSkipTlsVerify: true })]), /cannot be combined/);
    expectError(() => buildKubeconfig([entry('east', { server: '' })]), /server is missing/);
    expectError(() => buildKubeconfig([entry('east', { clientKeyPem: 'x' })]), /clientKeyPem is not a PEM private key/);
    expectError(
      () => buildKubeconfig([entry('east'), entry('west', { contextName: 'tenant-a@east' })]),
      /two different contexts would both be named "tenant-a@east"/,
    );
    expectError(
      () => buildKubeconfig([entry('east'), entry('east', { server: 'https://other:6443' })]),
      /two different clusters/,
    );
  });
});

describe('serialisation', () => {
  it('writes a token user (no certificate) and refuses an entry with both', () => {
    const { clientCertificatePem: _c, clientKeyPem: _k, ...rest } = entry('east');
    const k = buildKubeconfig([{ ...rest, token: 'a-bound-token' }]);
    expect(k.users).toEqual([{ name: 'tenant-a@east', user: { token: 'a-bound-token' } }]);
    expect(() => buildKubeconfig([{ ...entry('east'), token: 'a-bound-token' }])).toThrow(
      /a token or a client certificate, not both/,
    );
  });

  it('writes YAML without line wrapping that parses back', () => {
    const k = buildKubeconfig([entry('east')]);
    const text = kubeconfigToYaml(k);
    expect(text).toMatch(/^apiVersion: v1\nkind: Config\n/);
    const user = k.users[0]!.user;
    expect(text).toContain(
      `client-certificate-data: ${'client-certificate-data' in user ? user['client-certificate-data'] : 'none'}\n`,
    );
    expect(yaml.load(text)).toEqual(k);
    expect(JSON.parse(kubeconfigToJson(k))).toEqual(k);
  });

  it('round-trips through parseAdminKubeconfig from YAML and JSON', () => {
    const k = buildKubeconfig(
      [
        entry('east', { clientKeyPem: REAL_KEY }),
        entry('west', { clientKeyPem: REAL_KEY, certificateAuthorityData: undefined, insecureSkipTlsVerify: true }),
      ],
      'tenant-a@west',
    );
    const expected = { clusterName: 'west', server: 'https://west.example.com:6443', insecureSkipTlsVerify: true };
    expect(parseAdminKubeconfig(kubeconfigToYaml(k), { allowInsecure: true })).toEqual(expected);
    expect(parseAdminKubeconfig(kubeconfigToJson(k), { allowInsecure: true })).toEqual(expected);
    expect(
      parseAdminKubeconfig(kubeconfigToYaml(buildKubeconfig([entry('east', { clientKeyPem: REAL_KEY })]))),
    ).toEqual({
      clusterName: 'east',
      server: 'https://east.example.com:6443',
      certificateAuthorityData: CA_DATA,
    });
  });
});

describe('parseAdminKubeconfig', () => {
  const CERT_DATA = Buffer.from(pem('CERTIFICATE', 'D')).toString('base64');
  const KEY_DATA = Buffer.from(REAL_KEY).toString('base64');
  /** Markers standing for secret content: no message may quote them. */
  const SECRET = 'SeCrEtMaRkEr';

  interface Parts {
    cluster?: Record<string, unknown>;
    user?: Record<string, unknown>;
    context?: Record<string, unknown>;
    top?: Record<string, unknown>;
  }
  /** A valid admin kubeconfig (client certificate and key), with fields added, changed or (undefined) removed. */
  const admin = (parts: Parts = {}) =>
    yaml.dump(
      {
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [
          {
            name: 'c',
            cluster: { server: 'https://10.0.0.1:6443', 'certificate-authority-data': CA_DATA, ...parts.cluster },
          },
        ],
        users: [
          { name: 'admin', user: { 'client-certificate-data': CERT_DATA, 'client-key-data': KEY_DATA, ...parts.user } },
        ],
        contexts: [{ name: 'admin@c', context: { cluster: 'c', user: 'admin', ...parts.context } }],
        'current-context': 'admin@c',
        ...parts.top,
      },
      { skipInvalid: true },
    );
  /** The refusal's problems (and checks that none of them quotes a secret). */
  const problemsOf = (text: string, options = {}): string[] => {
    try {
      parseAdminKubeconfig(text, options);
    } catch (error) {
      expect(error).toBeInstanceOf(KubeconfigError);
      const { message, problems } = error as KubeconfigError;
      expect(message).toBe(problems.join('; '));
      for (const needle of [
        SECRET,
        KEY_DATA.slice(20, 60),
        CERT_DATA.slice(20, 60),
        CA_DATA.slice(20, 60),
        'BEGIN',
        '/bin/sh',
      ]) {
        expect(message).not.toContain(needle);
      }
      return problems;
    }
    throw new Error('the kubeconfig was accepted');
  };

  it('accepts inline credentials: client-certificate-data with client-key-data, or token; answers the current context’s cluster', () => {
    const expected = { clusterName: 'c', server: 'https://10.0.0.1:6443', certificateAuthorityData: CA_DATA };
    expect(parseAdminKubeconfig(admin())).toEqual(expected);
    expect(
      parseAdminKubeconfig(
        admin({
          user: { 'client-certificate-data': undefined, 'client-key-data': undefined, token: 'abc.def-123_XYZ' },
        }),
      ),
    ).toEqual(expected);
    // PKCS#1 RSA, SEC1 EC and PKCS#8 keys; data fields, extensions, preferences, tls-server-name, proxy-url and namespaces are data.
    for (const key of [
      RSA_KEY.export({ type: 'pkcs1', format: 'pem' }),
      EC_KEY.privateKey.export({ type: 'sec1', format: 'pem' }),
    ] as string[]) {
      expect(parseAdminKubeconfig(admin({ user: { 'client-key-data': Buffer.from(key).toString('base64') } }))).toEqual(
        expected,
      );
    }
    const extras = admin({
      cluster: {
        'tls-server-name': 'kubernetes',
        'proxy-url': 'socks5://proxy:1080',
        extensions: [{ name: 'x', extension: { provider: 'minikube' } }],
      },
      context: { namespace: 'default' },
      top: { preferences: {} },
    });
    expect(parseAdminKubeconfig(extras)).toEqual(expected);
    expect(parseAdminKubeconfig(JSON.stringify(yaml.load(extras)))).toEqual(expected);
    // What is accepted loads into @kubernetes/client-node with the inline credentials and nothing else.
    const kc = new KubeConfig();
    kc.loadFromString(extras);
    expect(kc.getCurrentUser()).toMatchObject({
      certData: CERT_DATA,
      keyData: KEY_DATA,
      exec: undefined,
      authProvider: undefined,
      keyFile: undefined,
    });
  });

  it.each([
    [
      'exec',
      { apiVersion: 'client.authentication.k8s.io/v1', command: '/bin/sh', args: ['-c', `echo ${SECRET}`] },
      /would run a program inside the DCM/,
    ],
    ['auth-provider', { name: 'oidc', config: { 'id-token': SECRET } }, /would run an authentication plugin/],
    ['token-file', '/var/run/secrets/dcm/encryption.keys', /names a file/],
    ['tokenFile', '/var/run/secrets/dcm/encryption.keys', /names a file/],
    ['client-certificate', '/etc/dcm/tls.crt', /names a file/],
    ['client-key', '/etc/dcm/tls.key', /names a file/],
    ['username', 'admin', /basic authentication is not accepted/],
    ['password', SECRET, /basic authentication is not accepted/],
    ['as', 'system:admin', /impersonation is not accepted/],
    ['as-groups', ['system:masters'], /impersonation is not accepted/],
    ['some-new-field', SECRET, /not a field the DCM accepts/],
  ])('refuses users[].user.%s, naming the field and quoting nothing', (field, value, why) => {
    const problems = problemsOf(admin({ user: { [field]: value } }));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(new RegExp(`^users\\[0\\]\\.user\\.${field} is not accepted: `));
    expect(problems[0]).toMatch(why);
  });

  it.each([
    ['certificate-authority', '/etc/dcm/ca.crt', /names a file/],
    ['ca-file', '/etc/dcm/ca.crt', /names a file/],
    ['exec', { command: '/bin/sh' }, /would run a program/],
  ])('refuses clusters[].cluster.%s', (field, value, why) => {
    const [problem, ...rest] = problemsOf(admin({ cluster: { [field]: value } }));
    expect(rest).toEqual([]);
    expect(problem).toMatch(new RegExp(`^clusters\\[0\\]\\.cluster\\.${field} is not accepted: `));
    expect(problem).toMatch(why);
  });

  it('refuses such a field on every entry, not only on those the current context uses, and inside extensions and preferences', () => {
    const document = yaml.load(admin()) as { users: unknown[]; clusters: unknown[]; contexts: unknown[] } & Record<
      string,
      unknown
    >;
    document.users.push(
      { name: 'other', user: { exec: { command: '/bin/sh' } } },
      { name: 'third', user: { 'token-file': '/etc/keys' } },
    );
    document.clusters.push({
      name: 'other',
      cluster: { server: 'https://10.0.0.2', 'certificate-authority': '/etc/ca' },
    });
    document.contexts.push({
      name: 'other',
      context: { cluster: 'other', user: 'other', extensions: [{ name: 'e', extension: { 'token-file': '/x' } }] },
    });
    document.preferences = { extensions: [{ name: 'p', extension: { exec: { command: '/bin/sh' } } }] };
    document.extensions = [{ name: 'e', extension: { nested: { 'client-key': '/etc/key' } } }];
    const problems = problemsOf(yaml.dump(document));
    expect(problems).toHaveLength(6);
    expect(problems).toEqual(
      expect.arrayContaining([
        'preferences.extensions[0].extension.exec is not accepted: it would run a program inside the DCM; a registered kubeconfig carries only inline credentials (client-certificate-data and client-key-data, or token)',
        expect.stringMatching(/^extensions\[0\]\.extension\.nested\.client-key is not accepted: it names a file/),
        expect.stringMatching(/^users\[1\]\.user\.exec is not accepted: /),
        expect.stringMatching(/^users\[2\]\.user\.token-file is not accepted: /),
        expect.stringMatching(/^contexts\[1\]\.context\.extensions\[0\]\.extension\.token-file is not accepted: /),
        expect.stringMatching(/^clusters\[1\]\.cluster\.certificate-authority is not accepted: /),
      ]),
    );
    // Unknown top-level and entry-level fields are refused too.
    expect(problemsOf(admin({ top: { 'x-run': 'me' } }))).toEqual([
      expect.stringMatching(/^x-run is not accepted: it is not a field/),
    ]);
    // A key is kubeconfig text too: one that is not a plain name is not quoted.
    expect(problemsOf(admin({ user: { [`${SECRET}${'x'.repeat(40)}`]: 1, [`${SECRET} with spaces`]: 2 } }))).toEqual([
      'users[0].user.(a field with an unusual name) is not accepted: it is not a field the DCM accepts in a registered kubeconfig',
      'users[0].user.(a field with an unusual name) is not accepted: it is not a field the DCM accepts in a registered kubeconfig',
    ]);
  });

  it('sees what @kubernetes/client-node would load: a YAML merge key cannot hide exec', () => {
    const text = [
      'apiVersion: v1',
      'clusters:',
      '- name: c',
      '  cluster:',
      '    server: https://10.0.0.1:6443',
      `    certificate-authority-data: ${CA_DATA}`,
      'users:',
      '- name: admin',
      '  user:',
      '    <<: {exec: {command: /bin/sh, apiVersion: client.authentication.k8s.io/v1}}',
      `    client-certificate-data: ${CERT_DATA}`,
      `    client-key-data: ${KEY_DATA}`,
      'contexts:',
      '- name: admin@c',
      '  context: {cluster: c, user: admin}',
      'current-context: admin@c',
      '',
    ].join('\n');
    const kc = new KubeConfig();
    kc.loadFromString(text);
    expect(kc.getCurrentUser()?.exec).toMatchObject({ command: '/bin/sh' }); // the library would run it
    expect(problemsOf(text)).toEqual([
      expect.stringMatching(/^users\[0\]\.user\.exec is not accepted: it would run a program/),
    ]);
  });

  it('checks free-form sections in time linear in their text: an alias bomb costs nothing, an oversized one is refused', () => {
    // Nine levels of ten aliases each: 10^9 paths, 10 distinct nodes per level; the exec at the bottom is still found.
    const levels = ['extensions:', '- name: bomb', '  extension:', '    l0: &l0 {exec: {command: /bin/sh}}'];
    for (let i = 1; i <= 9; i++)
      levels.push(`    l${i}: &l${i} [${Array.from({ length: 10 }, () => `*l${i - 1}`).join(', ')}]`);
    const bomb = admin().replace(/\n$/, '') + '\n' + levels.join('\n') + '\n';
    const started = performance.now();
    const problems = problemsOf(bomb);
    expect(performance.now() - started).toBeLessThan(1000);
    expect(problems).toEqual([expect.stringMatching(/^extensions\[0\]\.extension\.l0\.exec is not accepted: /)]);

    const wide = admin({ top: { extensions: Array.from({ length: 10_001 }, (_, i) => ({ name: `e${i}` })) } });
    expect(problemsOf(wide)).toEqual(['extensions is too large (more than 10000 lists and mappings)']);

    // However many problems, the refusal tells the first 20 and counts the rest.
    const many = problemsOf(admin({ user: Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`x-${i}`, 'v'])) }));
    expect(many).toHaveLength(21);
    expect(many[0]).toMatch(/^users\[0\]\.user\.x-0 is not accepted/);
    expect(many[20]).toBe('and 10 more problems');
  });

  it('refuses insecure-skip-tls-verify: true and http servers unless insecure clusters are allowed', () => {
    expect(
      problemsOf(admin({ cluster: { 'insecure-skip-tls-verify': true, 'certificate-authority-data': undefined } })),
    ).toEqual([
      expect.stringMatching(
        /^clusters\[0\]\.cluster\.insecure-skip-tls-verify is not accepted: the DCM verifies every cluster .*DCM_ALLOW_INSECURE_CLUSTERS=true/,
      ),
    ]);
    expect(
      parseAdminKubeconfig(
        admin({ cluster: { 'insecure-skip-tls-verify': true, 'certificate-authority-data': undefined } }),
        { allowInsecure: true },
      ),
    ).toEqual({
      clusterName: 'c',
      server: 'https://10.0.0.1:6443',
      insecureSkipTlsVerify: true,
    });
    expect(parseAdminKubeconfig(admin({ cluster: { 'insecure-skip-tls-verify': false } }))).toMatchObject({
      insecureSkipTlsVerify: false,
    });
    // A second cluster entry the context does not use: refused all the same.
    const document = yaml.load(admin()) as { clusters: unknown[] };
    document.clusters.push({ name: 'lax', cluster: { server: 'https://10.0.0.9', 'insecure-skip-tls-verify': true } });
    expect(problemsOf(yaml.dump(document))).toEqual([
      expect.stringMatching(/^clusters\[1\]\.cluster\.insecure-skip-tls-verify is not accepted/),
    ]);
    expect(problemsOf(admin({ cluster: { 'insecure-skip-tls-verify': 'yes please' } }))).toEqual([
      'clusters[0].cluster.insecure-skip-tls-verify must be true or false',
    ]);
    expect(problemsOf(admin({ cluster: { server: 'http://10.0.0.1:8080' } }))).toEqual([
      expect.stringMatching(/^clusters\[0\]\.cluster\.server must be an https URL/),
    ]);
    expect(
      parseAdminKubeconfig(admin({ cluster: { server: 'http://10.0.0.1:8080' } }), { allowInsecure: true }),
    ).toMatchObject({ server: 'http://10.0.0.1:8080' });
  });

  it('needs inline credentials on the user of the current context', () => {
    const INLINE = /a registered kubeconfig carries only inline credentials/;
    expect(problemsOf(admin({ user: { 'client-certificate-data': undefined, 'client-key-data': undefined } }))).toEqual(
      [expect.stringMatching(/^users\[0\]\.user has no credentials: /)],
    );
    expect(problemsOf(admin({ context: { user: undefined } }))).toEqual([expect.stringMatching(INLINE)]);
    expect(problemsOf(admin({ context: { user: 'nobody' } }))).toEqual([
      'contexts[0].context.user names a user that does not exist',
    ]);
    expect(problemsOf(admin({ user: { 'client-key-data': undefined } }))).toEqual([
      'users[0].user has client-certificate-data without client-key-data',
    ]);
    expect(problemsOf(admin({ user: { 'client-certificate-data': undefined } }))).toEqual([
      'users[0].user has client-key-data without client-certificate-data',
    ]);
    expect(problemsOf(admin({ user: { 'client-key-data': `${SECRET}!!` } }))).toEqual([
      'users[0].user.client-key-data is not base64',
    ]);
    expect(
      problemsOf(
        admin({
          user: {
            'client-key-data': Buffer.from(
              `-----BEGIN PRIVATE KEY-----\n${SECRET}\n-----END PRIVATE KEY-----\n`,
            ).toString('base64'),
          },
        }),
      ),
    ).toEqual([
      'users[0].user.client-key-data is not base64 of a PEM private key: it is not a readable PEM private key',
    ]);
    expect(
      problemsOf(admin({ user: { 'client-key-data': Buffer.from('/etc/dcm/tls.key').toString('base64') } })),
    ).toEqual([
      expect.stringMatching(
        /^users\[0\]\.user\.client-key-data is not base64 of a PEM private key: it must be one inline PEM private key/,
      ),
    ]);
    expect(problemsOf(admin({ user: { 'client-certificate-data': Buffer.from(SECRET).toString('base64') } }))).toEqual([
      'users[0].user.client-certificate-data is not base64 of a PEM certificate',
    ]);
    expect(
      problemsOf(
        admin({
          user: {
            'client-certificate-data': undefined,
            'client-key-data': undefined,
            token: `${SECRET}\nX-Injected: 1`,
          },
        }),
      ),
    ).toEqual(['users[0].user.token must be a non-empty string of printable characters without spaces']);
  });

  it('says what is missing, naming the field and no value', () => {
    expect(problemsOf(admin({ top: { clusters: [] } }))).toEqual(
      expect.arrayContaining(['clusters is missing or empty: kubeconfig has no clusters']),
    );
    expect(problemsOf(admin({ top: { clusters: null } }))).toEqual([
      'clusters is missing or empty: kubeconfig has no clusters',
    ]);
    expect(problemsOf(admin({ cluster: { server: undefined } }))).toEqual(['clusters[0].cluster.server is missing']);
    expect(problemsOf(admin({ top: { 'current-context': undefined } }))).toEqual([
      'current-context is missing: the DCM connects as the user of the current context',
    ]);
    expect(problemsOf(admin({ top: { 'current-context': SECRET } }))).toEqual([
      'current-context names a context that does not exist',
    ]);
    expect(problemsOf(admin({ context: { cluster: SECRET } }))).toEqual([
      'contexts[0].context.cluster names a cluster that does not exist',
    ]);
    expect(problemsOf(admin({ cluster: { server: `not a url ${SECRET}` } }))).toEqual([
      'clusters[0].cluster.server is not a URL',
    ]);
    expect(problemsOf(admin({ cluster: { server: `https://admin:${SECRET}@10.0.0.1` } }))).toEqual([
      'clusters[0].cluster.server must not carry credentials (user:password@)',
    ]);
    expect(problemsOf(admin({ cluster: { server: 'ftp://x' } }))).toEqual([
      'clusters[0].cluster.server must be a URL with https, http',
    ]);
    expect(problemsOf(admin({ cluster: { 'certificate-authority-data': `${SECRET}!` } }))).toEqual([
      'clusters[0].cluster.certificate-authority-data is not base64',
    ]);
  });

  it('reports malformed documents with the path of the problem, quoting nothing', () => {
    expectError(
      () => parseAdminKubeconfig('clusters: [\n  - oops'),
      /^kubeconfig is neither YAML nor JSON: .* \(line 2, column \d+\)$/,
    );
    expectError(() => parseAdminKubeconfig(`a: !${SECRET} x`), /neither YAML nor JSON: unknown tag …/);
    expect(() => parseAdminKubeconfig(`a: !${SECRET} x`)).not.toThrow(new RegExp(SECRET));
    expectError(() => parseAdminKubeconfig('just text'), /not a mapping/);
    expect(problemsOf(admin({ top: { clusters: 'x' } }))).toEqual(expect.arrayContaining(['clusters must be a list']));
    expect(problemsOf(admin({ cluster: { server: 42 } }))).toEqual(['clusters[0].cluster.server is missing']);
    expect(problemsOf(admin({ top: { users: [{ name: 'admin', user: 'text' }] } }))).toEqual(
      expect.arrayContaining(['users[0].user must be a mapping']),
    );
  });
});

describe('privateKeyPemProblem (a cluster CA key)', () => {
  it('accepts one inline unencrypted PEM private key: PKCS#8, PKCS#1, SEC1', () => {
    expect(privateKeyPemProblem(REAL_KEY)).toBeUndefined();
    expect(privateKeyPemProblem(RSA_KEY.export({ type: 'pkcs1', format: 'pem' }) as string)).toBeUndefined();
    expect(privateKeyPemProblem(EC_KEY.privateKey.export({ type: 'sec1', format: 'pem' }) as string)).toBeUndefined();
  });

  it('refuses a path, other PEM blocks with it, an encrypted key and text that is no key', () => {
    const encrypted = RSA_KEY.export({
      type: 'pkcs8',
      format: 'pem',
      cipher: 'aes-256-cbc',
      passphrase: 'pass-phrase',
    }) as string;
    const legacyEncrypted = RSA_KEY.export({
      type: 'pkcs1',
      format: 'pem',
      cipher: 'aes-256-cbc',
      passphrase: 'pass-phrase',
    }) as string;
    for (const text of [
      '/etc/dcm/ca.key',
      `file://${REAL_KEY}`,
      `${pem('CERTIFICATE', 'C')}${REAL_KEY}`,
      `${REAL_KEY}${REAL_KEY}`,
      encrypted,
      legacyEncrypted,
      'PRIVATE KEY',
      '',
    ]) {
      expect(privateKeyPemProblem(text)).toMatch(/^must be one inline PEM private key/);
    }
    expect(privateKeyPemProblem(pem('PRIVATE KEY', 'K'))).toBe('is not a readable PEM private key');
    expect(privateKeyPemProblem(42)).toMatch(/^must be one inline PEM private key/);
  });
});
