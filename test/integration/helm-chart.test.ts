/**
 * The Helm chart in helm/dcm: `helm lint`, `helm template` for several value sets, and every
 * rendered object validated by a real API server (`kubectl apply --dry-run=server`, test
 * cluster 1) in a namespace of its own that warns about pods breaking the "restricted" Pod
 * Security Standard. The rendered pod's configuration is also fed to the service's own
 * start-up code (config, encryption keys, authentication, metrics token) with the files its
 * Secret volumes would hold. Helm is built from the Go module proxy on first use
 * (test/testenv/helm.ts).
 */
import { execFile } from 'node:child_process';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import yaml from 'js-yaml';
import { loadAuth, loadMetricsToken } from '../../src/auth/setup.js';
import { loadConfig } from '../../src/config.js';
import { createSecretCipher, loadEncryptionKeys } from '../../src/security/secret-cipher.js';
import { readTlsMaterial } from '../../src/security/tls.js';
import { testClusters, type CommandResult } from '../support/backends.js';
import { OpensslWorkspace } from '../support/openssl.js';
import { ensureHelmBinary } from '../testenv/helm.js';
import { repoRoot } from '../testenv/layout.js';

const CHART = path.join(repoRoot, 'helm/dcm');
const CRD = path.join(repoRoot, 'test/fixtures/crds/servicemonitor.yaml');
const CERTIFICATE_CRD = path.join(repoRoot, 'test/fixtures/crds/certificate.yaml');
const RELEASE = 'edge';
const FULLNAME = `${RELEASE}-dcm`;

/* eslint-disable @typescript-eslint/no-explicit-any -- rendered manifests are read loosely; every access is checked by an expectation */
interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  spec?: any;
  data?: Record<string, string>;
}

interface ValueSet {
  values: Record<string, any>;
  /** Secrets the operator created beforehand (name -> key -> text), for the existingSecret values. */
  existing?: Record<string, Record<string, string>>;
  /** The /metrics token the pod is given, if any. */
  metricsToken?: string;
}

/** A self-signed certificate and its key (PEM), from the openssl CLI: a server's with `dns` names, or a CA's. */
function selfSigned(cn: string, extensions: string[]): { cert: string; key: string } {
  const ws = new OpensslWorkspace('dcm-helm-tls-');
  try {
    const args = [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      'k.pem',
      '-out',
      'c.pem',
      '-subj',
      `/CN=${cn}`,
      '-days',
      '2',
    ];
    const r = ws.run([...args, ...extensions.flatMap((e) => ['-addext', e])]);
    if (r.code !== 0) throw new Error(r.output);
    return {
      cert: fs.readFileSync(path.join(ws.dir, 'c.pem'), 'utf8'),
      key: fs.readFileSync(path.join(ws.dir, 'k.pem'), 'utf8'),
    };
  } finally {
    ws.remove();
  }
}
const serverCertificate = selfSigned(`${RELEASE}-dcm`, [`subjectAltName=DNS:${RELEASE}-dcm,DNS:${RELEASE}-dcm-grpc`]);
const clientCa = selfSigned('sibling services CA', [
  'basicConstraints=critical,CA:TRUE',
  'keyUsage=critical,keyCertSign',
]);

const encryptionKey = (id: string, bytes = 32) => `${id}:${randomBytes(bytes).toString('base64')}`;
const sha256Hex = (text: string) => createHash('sha256').update(text).digest('hex');

function run(binary: string, args: string[], input?: string): Promise<CommandResult> {
  return new Promise((resolve) => {
    const child = execFile(binary, args, { timeout: 120_000, maxBuffer: 32 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
    child.stdin?.end(input ?? '');
  });
}

const find = (objects: K8sObject[], kind: string, name?: string): K8sObject[] =>
  objects.filter((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
function only(objects: K8sObject[], kind: string, name?: string): K8sObject {
  const found = find(objects, kind, name);
  if (found.length !== 1) throw new Error(`expected one ${kind}${name ? ` ${name}` : ''}, rendered ${found.length}`);
  return found[0]!;
}
const matches = (selector: Record<string, string>, labels: Record<string, string> = {}) =>
  Object.entries(selector).every(([k, v]) => labels[k] === v);

/**
 * The DCM container's environment as the kubelet would build it, with the files of its
 * Secret volumes written under `root` (from the rendered Secrets, else from `existing`) and
 * every *_FILE path moved there. Fails when a volume or reference names a missing Secret key.
 */
function podEnvironment(objects: K8sObject[], existing: ValueSet['existing'], root: string): Record<string, string> {
  const secretText = (name: string, key: string): string => {
    const rendered = find(objects, 'Secret', name)[0];
    const text = rendered
      ? rendered.data?.[key] && Buffer.from(rendered.data[key], 'base64').toString('utf8')
      : existing?.[name]?.[key];
    if (text === undefined || text === '') throw new Error(`Secret ${name} has no key ${key}`);
    return text;
  };
  const pod = only(objects, 'Deployment').spec.template.spec;
  const container = pod.containers[0];
  for (const mount of container.volumeMounts) {
    const volume = pod.volumes.find((v: { name: string }) => v.name === mount.name);
    for (const item of volume.secret?.items ?? []) {
      const file = path.join(root, mount.mountPath, item.path);
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, secretText(volume.secret.secretName, item.key));
    }
  }
  const env: Record<string, string> = {};
  for (const source of container.envFrom) Object.assign(env, only(objects, 'ConfigMap', source.configMapRef.name).data);
  for (const e of container.env) {
    if (e.value !== undefined) env[e.name] = e.name.endsWith('_FILE') ? path.join(root, e.value) : e.value;
    else if (e.valueFrom.secretKeyRef)
      env[e.name] = secretText(e.valueFrom.secretKeyRef.name, e.valueFrom.secretKeyRef.key);
    else if (e.valueFrom.fieldRef?.fieldPath === 'metadata.name') env[e.name] = `${FULLNAME}-5d4f9c7b8-x2x7q`;
    else throw new Error(`unexpected env source for ${e.name}`);
  }
  return env;
}

describe('Helm chart helm/dcm', () => {
  let helm: string;
  const kubectlBinary = process.env.KUBECTL ?? 'kubectl';
  const kubectl = (args: string[], input?: string) =>
    run(kubectlBinary, ['--kubeconfig', testClusters[0].kubeconfigPath(), ...args], input);
  const namespace = `helm-chart-${randomUUID().slice(0, 8)}`;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'dcm-helm-'));
  let files = 0;
  const tmpPath = (name: string) => path.join(tmp, `${++files}-${name}`);

  /** Values go through a file, as `-f` takes them (nested maps, lists, exact strings). */
  const template = (values: Record<string, unknown>, extra: string[] = []) => {
    const file = tmpPath('values.yaml');
    fs.writeFileSync(file, yaml.dump(values));
    return run(helm, ['template', RELEASE, CHART, '--namespace', namespace, '-f', file, ...extra]);
  };
  async function render(
    values: Record<string, unknown>,
    extra: string[] = [],
  ): Promise<{ manifest: string; objects: K8sObject[] }> {
    const result = await template(values, extra);
    if (result.code !== 0) throw new Error(`helm template failed (${result.code}): ${result.stderr}`);
    const objects = (yaml.loadAll(result.stdout) as (K8sObject | null)[]).filter((o): o is K8sObject => o !== null);
    return { manifest: result.stdout, objects };
  }

  const externalUrl = 'mongodb://dcm:pw@mongo-0.example:27017,mongo-1.example:27017/?replicaSet=rs0';
  const opsToken = randomBytes(24).toString('base64url');
  const valueSets: Record<string, ValueSet> = {
    'defaults with an external URL': {
      values: {
        mongodb: { url: externalUrl },
        encryption: { keys: `${encryptionKey('k2')},${encryptionKey('k1')}` },
        auth: {
          tokens: [
            { name: 'ops', sha256: sha256Hex(opsToken), role: 'admin' },
            { name: 'team-a', token: randomBytes(24).toString('base64url'), role: 'project', projects: ['p1'] },
          ],
        },
      },
    },
    'bundled MongoDB': {
      values: {
        mongodb: { bundled: { enabled: true, auth: { rootPassword: 'Root-pw_1' } } },
        encryption: { keys: encryptionKey('k1') },
        auth: {
          oidc: {
            issuer: 'https://login.example/realms/dcm',
            audience: 'dcm-api',
            rolesClaim: 'realm_access.roles',
            clockToleranceSeconds: 0,
          },
        },
      },
    },
    'replicas 3, PodDisruptionBudget and ServiceMonitor': {
      values: {
        replicaCount: 3,
        podDisruptionBudget: { enabled: true, minAvailable: 2 },
        metrics: {
          token: 'scrape-token-0123456789',
          serviceMonitor: { enabled: true, labels: { release: 'prometheus' }, interval: '15s' },
        },
        mongodb: { url: 'mongodb+srv://dcm.example/' },
        encryption: { keys: encryptionKey('k1') },
        auth: { tokens: `- name: ops\n  token: ${opsToken}\n  role: admin\n` },
        service: { grpc: { headless: true } },
      },
      metricsToken: 'scrape-token-0123456789',
    },
    'existing secrets': {
      values: {
        mongodb: { existingSecret: 'dcm-mongo', existingSecretKey: 'uri' },
        encryption: { existingSecret: 'dcm-keys', existingSecretKey: 'current' },
        auth: { existingSecret: 'dcm-tokens', oidc: { issuer: 'https://login.example', audience: 'dcm' } },
        metrics: { existingSecret: 'dcm-metrics' },
        ca: { existingSecret: 'dcm-intermediate-ca' },
      },
      existing: {
        'dcm-mongo': { uri: 'mongodb://mongo.example:27017/' },
        'dcm-keys': { current: encryptionKey('k7') },
        'dcm-tokens': { 'tokens.yaml': JSON.stringify([{ name: 'ops', sha256: sha256Hex(opsToken), role: 'admin' }]) },
        'dcm-metrics': { token: 'metrics-token-abcdefghij' },
        'dcm-intermediate-ca': { 'tls.crt': 'CERT', 'tls.key': 'KEY', 'ca.crt': 'CHAIN' },
      },
      metricsToken: 'metrics-token-abcdefghij',
    },
  };
  valueSets['TLS from an existing Secret with gRPC client certificates'] = {
    values: {
      mongodb: { url: externalUrl },
      encryption: { keys: encryptionKey('k1') },
      auth: { tokens: [{ name: 'ops', sha256: sha256Hex(opsToken), role: 'admin' }] },
      tls: { existingSecret: 'dcm-tls', clientCa: { existingSecret: 'dcm-grpc-clients', key: 'siblings.pem' } },
      metrics: {
        token: 'scrape-token-0123456789',
        serviceMonitor: {
          enabled: true,
          tlsConfig: { ca: { secret: { name: 'dcm-tls', key: 'ca.crt' } }, serverName: FULLNAME },
        },
      },
    },
    existing: {
      'dcm-tls': {
        'tls.crt': serverCertificate.cert,
        'tls.key': serverCertificate.key,
        'ca.crt': serverCertificate.cert,
      },
      'dcm-grpc-clients': { 'siblings.pem': clientCa.cert },
    },
    metricsToken: 'scrape-token-0123456789',
  };
  valueSets['TLS from a cert-manager Certificate'] = {
    values: {
      mongodb: { url: externalUrl },
      encryption: { keys: encryptionKey('k1') },
      auth: { tokens: [{ name: 'ops', sha256: sha256Hex(opsToken), role: 'admin' }] },
      tls: {
        certManager: {
          enabled: true,
          issuerRef: { name: 'internal-ca', kind: 'ClusterIssuer' },
          duration: '2160h',
          renewBefore: '360h',
        },
      },
    },
    // the Secret cert-manager issues
    existing: { [`${FULLNAME}-tls`]: { 'tls.crt': serverCertificate.cert, 'tls.key': serverCertificate.key } },
  };
  const tlsOn = (set: ValueSet) => Boolean(set.values.tls);
  const names = Object.keys(valueSets);

  beforeAll(async () => {
    helm = ensureHelmBinary();
    const created = await kubectl(['create', 'namespace', namespace]);
    expect(created.stderr).toBe('');
    // Pod templates breaking the "restricted" standard make the API server answer with warnings.
    const labelled = await kubectl([
      'label',
      'namespace',
      namespace,
      'pod-security.kubernetes.io/warn=restricted',
      'pod-security.kubernetes.io/warn-version=latest',
    ]);
    expect(labelled.code).toBe(0);
    // The ServiceMonitor's CRD, for real (a dry run would not serve the type). It stays
    // installed: a parallel run may rely on it, and it changes nothing else on the cluster.
    const crd = await kubectl(['apply', '-f', CRD]);
    expect(crd.code).toBe(0);
    const established = await kubectl([
      'wait',
      '--for=condition=Established',
      '--timeout=60s',
      'crd/servicemonitors.monitoring.coreos.com',
    ]);
    expect(established.stdout).toMatch(/condition met/);
    // The same for cert-manager's Certificate (tls.certManager).
    expect((await kubectl(['apply', '-f', CERTIFICATE_CRD])).code).toBe(0);
    const certificates = await kubectl([
      'wait',
      '--for=condition=Established',
      '--timeout=60s',
      'crd/certificates.cert-manager.io',
    ]);
    expect(certificates.stdout).toMatch(/condition met/);
  }, 30 * 60_000);

  afterAll(async () => {
    await kubectl(['delete', 'namespace', namespace, '--wait=false']);
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it.each(names)('lints cleanly (--strict) with %s', async (name) => {
    const file = tmpPath('lint-values.yaml');
    fs.writeFileSync(file, yaml.dump(valueSets[name]!.values));
    const result = await run(helm, ['lint', '--strict', CHART, '-f', file]);
    expect(result.stdout).toMatch(/1 chart\(s\) linted, 0 chart\(s\) failed/);
    expect(result.stdout).not.toMatch(/\[(WARNING|ERROR)\]/);
    expect(result.code).toBe(0);
  });

  it.each(names)('renders %s into objects the API server accepts, without Pod Security warnings', async (name) => {
    const { manifest, objects } = await render(valueSets[name]!.values);
    const result = await kubectl(['apply', '--dry-run=server', '--namespace', namespace, '-f', '-'], manifest);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const accepted = result.stdout.split('\n').filter((line) => line.endsWith(' created (server dry run)'));
    expect(accepted).toHaveLength(objects.length);
    for (const o of objects) expect(result.stdout).toContain(`/${o.metadata.name} created (server dry run)`);
  });

  it('the namespace does report Pod Security violations (so that their absence above means something)', async () => {
    const { manifest } = await render(valueSets['defaults with an external URL']!.values, [
      '--set',
      'securityContext.allowPrivilegeEscalation=true',
    ]);
    const result = await kubectl(['apply', '--dry-run=server', '--namespace', namespace, '-f', '-'], manifest);
    expect(result.stderr).toMatch(/would violate PodSecurity "restricted:latest": allowPrivilegeEscalation != false/);
  });

  describe.each(names)('the DCM Deployment rendered with %s', (name) => {
    const set = valueSets[name]!;
    let objects: K8sObject[];
    let deployment: K8sObject;
    let pod: any;
    let container: any;
    const env = (variable: string): any => container.env.find((e: { name: string }) => e.name === variable);

    beforeAll(async () => {
      ({ objects } = await render(set.values));
      deployment = only(objects, 'Deployment');
      pod = deployment.spec.template.spec;
      container = pod.containers[0];
    });

    it('has the configured replicas, rolling updates and a selector that matches its pods only', () => {
      expect(deployment.spec.replicas).toBe(set.values.replicaCount ?? 2);
      expect(deployment.spec.strategy.type).toBe('RollingUpdate');
      expect(matches(deployment.spec.selector.matchLabels, deployment.spec.template.metadata.labels)).toBe(true);
      for (const sts of find(objects, 'StatefulSet')) {
        expect(matches(deployment.spec.selector.matchLabels, sts.spec.template.metadata.labels)).toBe(false);
        expect(matches(sts.spec.selector.matchLabels, deployment.spec.template.metadata.labels)).toBe(false);
      }
    });

    it('runs non-root with a read-only root filesystem, no capabilities and the RuntimeDefault seccomp profile', () => {
      expect(pod.securityContext.runAsNonRoot).toBe(true);
      expect(pod.securityContext.seccompProfile).toEqual({ type: 'RuntimeDefault' });
      const sc = container.securityContext;
      expect(sc).toEqual(
        expect.objectContaining({ runAsNonRoot: true, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false }),
      );
      expect(sc.runAsUser).toBeGreaterThan(0);
      expect(sc.capabilities).toEqual({ drop: ['ALL'] });
      expect(pod.automountServiceAccountToken).toBe(false);
      // Service links would put e.g. EDGE_DCM_GRPC_PORT=tcp://… variables into the environment.
      expect(pod.enableServiceLinks).toBe(false);
      expect(container.volumeMounts).toEqual(expect.arrayContaining([expect.objectContaining({ mountPath: '/tmp' })]));
    });

    it('probes /healthz for liveness and /readyz for readiness on the HTTP port the service listens on (HTTPS with TLS)', () => {
      const httpPort = container.ports.find((p: { name: string }) => p.name === 'http');
      expect(String(httpPort.containerPort)).toBe(only(objects, 'ConfigMap').data!.DCM_HTTP_PORT);
      const scheme = tlsOn(set) ? { scheme: 'HTTPS' } : {};
      expect(container.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'http', ...scheme });
      expect(container.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'http', ...scheme });
      expect(container.startupProbe.httpGet).toEqual({ path: '/healthz', port: 'http', ...scheme });
    });

    it('names each replica after its pod and points DCM_ENCRYPTION_KEYS_FILE at the mounted key Secret', () => {
      expect(env('DCM_REPLICA_ID').valueFrom.fieldRef.fieldPath).toBe('metadata.name');
      const file: string = env('DCM_ENCRYPTION_KEYS_FILE').value;
      const mount = container.volumeMounts.find((m: { mountPath: string }) => m.mountPath === path.posix.dirname(file));
      expect(mount).toEqual(expect.objectContaining({ readOnly: true }));
      const volume = pod.volumes.find((v: { name: string }) => v.name === mount.name);
      const encryption = set.values.encryption as { existingSecret?: string; existingSecretKey?: string };
      expect(volume.secret.secretName).toBe(encryption.existingSecret ?? FULLNAME);
      const item = volume.secret.items.find((i: { path: string }) => i.path === path.posix.basename(file));
      expect(item.key).toBe(encryption.existingSecretKey ?? 'encryption-keys');
    });

    it('gives the service what it starts with: valid configuration, encryption keys, authentication, metrics token', () => {
      const root = tmpPath('pod');
      const environment = podEnvironment(objects, set.existing, root);
      expect(environment).not.toHaveProperty('DCM_DEVELOPMENT_MODE');
      expect(environment).not.toHaveProperty('DCM_ENCRYPTION_KEYS');
      const config = loadConfig(environment);
      expect(config.DCM_DEVELOPMENT_MODE).toBe(false);
      expect(config.DCM_HTTP_PORT).toBe(container.ports.find((p: { name: string }) => p.name === 'http').containerPort);
      expect(config.MONGO_URL).toMatch(/^mongodb(\+srv)?:\/\//);
      expect(createSecretCipher(config).encrypts).toBe(true);
      expect(loadAuth(config).mode).toBe('enforced');
      expect(loadMetricsToken(config)).toBe(set.metricsToken);
      // with TLS, the mounted certificate and key are what the service serves (loadConfig has checked them)
      expect(Boolean(config.DCM_TLS_CERT_FILE && config.DCM_TLS_KEY_FILE)).toBe(tlsOn(set));
      if (config.DCM_TLS_CERT_FILE && config.DCM_TLS_KEY_FILE) {
        expect(
          readTlsMaterial({ certFile: config.DCM_TLS_CERT_FILE, keyFile: config.DCM_TLS_KEY_FILE }).cert.toString(),
        ).toBe(serverCertificate.cert);
      }
      // Every setting of values.yaml's config section is one the service reads, and is passed on.
      const defaults = (
        yaml.load(fs.readFileSync(path.join(CHART, 'values.yaml'), 'utf8')) as { config: Record<string, unknown> }
      ).config;
      expect(Object.keys(defaults).length).toBeGreaterThan(5);
      for (const [key, value] of Object.entries(defaults)) {
        expect(Object.keys(config)).toContain(key);
        expect(environment[key]).toBe(String(value));
      }
    });

    it('has a REST and a gRPC Service over its pods', () => {
      const services = find(objects, 'Service').filter((s) =>
        matches(s.spec.selector, deployment.spec.template.metadata.labels),
      );
      const ports = services.flatMap((s) =>
        s.spec.ports.map(
          (p: { name: string; port: number; targetPort: string }) => `${p.name}:${p.port}->${p.targetPort}`,
        ),
      );
      expect(ports.sort()).toEqual(['grpc:9078->grpc', 'http:9077->http']);
      expect(container.ports.map((p: { name: string }) => p.name).sort()).toEqual(['grpc', 'http']);
    });
  });

  it('with an external URL: the URL, the keys in order and the token list reach the service as given; nothing bundled', async () => {
    const set = valueSets['defaults with an external URL']!;
    const { objects } = await render(set.values);
    const environment = podEnvironment(objects, undefined, tmpPath('pod'));
    expect(environment.MONGO_URL).toBe(externalUrl);
    expect(loadEncryptionKeys(loadConfig(environment)).map((k) => k.id)).toEqual(['k2', 'k1']);
    const auth = loadAuth(loadConfig(environment));
    expect(auth.mode === 'enforced' && auth.tokens?.size).toBe(2);
    expect(auth.mode === 'enforced' && auth.tokens?.lookup(opsToken)?.admin).toBe(true);
    expect(auth.mode === 'enforced' && auth.tokens?.lookup(`${opsToken}x`)).toBeUndefined();
    expect(find(objects, 'StatefulSet')).toHaveLength(0);
    expect(find(objects, 'ServiceMonitor')).toHaveLength(0);
    expect(find(objects, 'PodDisruptionBudget')).toHaveLength(0);
  });

  it('bundles a single MongoDB with a claim for its data, reachable from the DCM only', async () => {
    const { objects } = await render(valueSets['bundled MongoDB']!.values);
    const sts = only(objects, 'StatefulSet');
    expect(sts.spec.replicas).toBe(1);
    const mongo = sts.spec.template.spec.containers[0];
    expect(mongo.image).toMatch(/^mongo:/);
    expect(mongo.securityContext).toEqual(
      expect.objectContaining({ runAsNonRoot: true, readOnlyRootFilesystem: true }),
    );
    expect(mongo.volumeMounts).toEqual(expect.arrayContaining([{ name: 'data', mountPath: '/data/db' }]));
    expect(sts.spec.volumeClaimTemplates[0].metadata.name).toBe('data');
    expect(sts.spec.volumeClaimTemplates[0].spec.resources.requests.storage).toBe('8Gi');
    const service = only(objects, 'Service', sts.spec.serviceName);
    expect(service.spec.clusterIP).toBe('None');
    expect(matches(service.spec.selector, sts.spec.template.metadata.labels)).toBe(true);
    // The DCM connects to that Service with the root user MongoDB is initialized with.
    const environment = podEnvironment(objects, undefined, tmpPath('pod'));
    const password = mongo.env.find((e: { name: string }) => e.name === 'MONGO_INITDB_ROOT_PASSWORD').valueFrom
      .secretKeyRef;
    const secret = only(objects, 'Secret', password.name);
    expect(Buffer.from(secret.data![password.key]!, 'base64').toString()).toBe('Root-pw_1');
    expect(environment.MONGO_URL).toBe(
      `mongodb://root:Root-pw_1@${service.metadata.name}:${service.spec.ports[0].port}/?authSource=admin`,
    );
    const policy = only(objects, 'NetworkPolicy');
    expect(matches(policy.spec.podSelector.matchLabels, sts.spec.template.metadata.labels)).toBe(true);
    expect(
      matches(
        policy.spec.ingress[0].from[0].podSelector.matchLabels,
        only(objects, 'Deployment').spec.template.metadata.labels,
      ),
    ).toBe(true);
    expect(environment).toEqual(
      expect.objectContaining({ DCM_OIDC_ISSUER: 'https://login.example/realms/dcm', DCM_OIDC_AUDIENCE: 'dcm-api' }),
    );
    expect(loadConfig(environment)).toEqual(
      expect.objectContaining({ DCM_OIDC_ROLES_CLAIM: 'realm_access.roles', DCM_OIDC_CLOCK_TOLERANCE_SECONDS: 0 }),
    );
  });

  it('scales to 3 replicas with a PodDisruptionBudget and a ServiceMonitor that scrapes /metrics of the REST Service with the token', async () => {
    const { objects } = await render(valueSets['replicas 3, PodDisruptionBudget and ServiceMonitor']!.values);
    const deployment = only(objects, 'Deployment');
    const podLabels = deployment.spec.template.metadata.labels;
    expect(deployment.spec.replicas).toBe(3);
    const pdb = only(objects, 'PodDisruptionBudget');
    expect(pdb.spec.minAvailable).toBe(2);
    expect(matches(pdb.spec.selector.matchLabels, podLabels)).toBe(true);
    const monitor = only(objects, 'ServiceMonitor');
    expect(monitor.metadata.namespace).toBe(namespace);
    expect(monitor.metadata.labels).toEqual(expect.objectContaining({ release: 'prometheus' }));
    expect(monitor.spec.endpoints).toEqual([
      expect.objectContaining({ port: 'http', path: '/metrics', interval: '15s' }),
    ]);
    const credentials = monitor.spec.endpoints[0].authorization.credentials;
    expect(Buffer.from(only(objects, 'Secret', credentials.name).data![credentials.key]!, 'base64').toString()).toBe(
      'scrape-token-0123456789',
    );
    const scraped = find(objects, 'Service').filter((s) =>
      matches(monitor.spec.selector.matchLabels, s.metadata.labels),
    );
    expect(scraped.map((s) => s.spec.ports.map((p: { name: string }) => p.name))).toEqual([['http']]);
    expect(matches(scraped[0]!.spec.selector, podLabels)).toBe(true);
    expect(only(objects, 'Service', `${FULLNAME}-grpc`).spec.clusterIP).toBe('None');
  });

  it('with existing secrets creates no Secret and mounts the operator CA where the variables point', async () => {
    const { objects } = await render(valueSets['existing secrets']!.values);
    expect(find(objects, 'Secret')).toHaveLength(0);
    const root = tmpPath('pod');
    const environment = podEnvironment(objects, valueSets['existing secrets']!.existing, root);
    expect(fs.readFileSync(environment.DCM_CA_CERT_FILE!, 'utf8')).toBe('CERT');
    expect(fs.readFileSync(environment.DCM_CA_KEY_FILE!, 'utf8')).toBe('KEY');
    expect(fs.readFileSync(environment.DCM_CA_CHAIN_FILE!, 'utf8')).toBe('CHAIN');
    expect(environment.MONGO_URL).toBe('mongodb://mongo.example:27017/');
  });

  it('with TLS from an existing Secret: mounts tls.crt and tls.key and the gRPC client CA where the variables point; HTTPS scraping', async () => {
    const set = valueSets['TLS from an existing Secret with gRPC client certificates']!;
    const { objects } = await render(set.values);
    expect(find(objects, 'Certificate')).toHaveLength(0);
    const pod = only(objects, 'Deployment').spec.template.spec;
    const volume = pod.volumes.find((v: { name: string }) => v.name === 'tls');
    expect(volume.secret.secretName).toBe('dcm-tls');
    expect(volume.secret.items.map((i: { key: string }) => i.key).sort()).toEqual(['tls.crt', 'tls.key']);
    // no subPath: the kubelet updates the mounted files when the Secret is renewed
    expect(pod.containers[0].volumeMounts.every((m: { subPath?: string }) => m.subPath === undefined)).toBe(true);
    const environment = podEnvironment(objects, set.existing, tmpPath('pod'));
    expect(fs.readFileSync(environment.DCM_TLS_CERT_FILE!, 'utf8')).toBe(serverCertificate.cert);
    expect(fs.readFileSync(environment.DCM_TLS_KEY_FILE!, 'utf8')).toBe(serverCertificate.key);
    expect(fs.readFileSync(environment.DCM_GRPC_CLIENT_CA_FILE!, 'utf8')).toBe(clientCa.cert);
    const config = loadConfig(environment);
    expect(
      readTlsMaterial({
        certFile: config.DCM_TLS_CERT_FILE!,
        keyFile: config.DCM_TLS_KEY_FILE!,
        clientCaFile: config.DCM_GRPC_CLIENT_CA_FILE,
      }).clientCa?.toString(),
    ).toBe(clientCa.cert);
    const endpoint = only(objects, 'ServiceMonitor').spec.endpoints[0];
    expect(endpoint).toEqual(
      expect.objectContaining({
        scheme: 'https',
        tlsConfig: { ca: { secret: { name: 'dcm-tls', key: 'ca.crt' } }, serverName: FULLNAME },
      }),
    );
  });

  it("with cert-manager: a Certificate for the Services' names issued by the given issuer into the Secret the pods mount", async () => {
    const set = valueSets['TLS from a cert-manager Certificate']!;
    const { objects } = await render(set.values);
    const certificate = only(objects, 'Certificate');
    expect(certificate.apiVersion).toBe('cert-manager.io/v1');
    expect(certificate.spec.issuerRef).toEqual({
      name: 'internal-ca',
      kind: 'ClusterIssuer',
      group: 'cert-manager.io',
    });
    expect(certificate.spec).toEqual(
      expect.objectContaining({ duration: '2160h', renewBefore: '360h', usages: ['server auth', 'digital signature'] }),
    );
    for (const service of find(objects, 'Service').filter((s) => s.metadata.name.startsWith(FULLNAME))) {
      expect(certificate.spec.dnsNames).toEqual(
        expect.arrayContaining([
          service.metadata.name,
          `${service.metadata.name}.${namespace}.svc`,
          `${service.metadata.name}.${namespace}.svc.cluster.local`,
        ]),
      );
    }
    const pod = only(objects, 'Deployment').spec.template.spec;
    expect(pod.volumes.find((v: { name: string }) => v.name === 'tls').secret.secretName).toBe(
      certificate.spec.secretName,
    );
    expect(pod.containers[0].env.find((e: { name: string }) => e.name === 'DCM_GRPC_CLIENT_CA_FILE')).toBeUndefined();
    const environment = podEnvironment(objects, set.existing, tmpPath('pod'));
    expect(loadConfig(environment).DCM_TLS_KEY_FILE).toBe(environment.DCM_TLS_KEY_FILE);
  });

  it.each([
    [
      'no MongoDB is given',
      { mongodb: {} },
      /MongoDB is required: set mongodb\.url .*mongodb\.existingSecret .*mongodb\.bundled\.enabled/,
    ],
    [
      'two MongoDB sources are given',
      { mongodb: { url: externalUrl, bundled: { enabled: true } } },
      /set only one of mongodb\.url, mongodb\.existingSecret and mongodb\.bundled\.enabled/,
    ],
    [
      'the MongoDB URL is not one',
      { mongodb: { url: 'postgres://db/' } },
      /mongodb\.url must start with mongodb:\/\/ or mongodb\+srv:\/\//,
    ],
    [
      'no encryption key source is given',
      { encryption: {} },
      /encryption keys are required .*encryption\.keys .*encryption\.existingSecret/,
    ],
    [
      'an encryption key is 16 bytes',
      { encryption: { keys: encryptionKey('short', 16) } },
      /encryption\.keys: key "short" must be 32 bytes/,
    ],
    [
      'two encryption keys share an id',
      { encryption: { keys: `${encryptionKey('k1')},${encryptionKey('k1')}` } },
      /the id "k1" is used twice/,
    ],
    ['no API authentication is given', { auth: {} }, /API authentication is required/],
    [
      'an OIDC issuer has no audience',
      { auth: { oidc: { issuer: 'https://login.example' } } },
      /auth\.oidc\.audience is required/,
    ],
    ['the metrics token is short', { metrics: { token: 'short' } }, /metrics\.token must be at least 16 characters/],
    [
      'development mode is configured',
      { config: { DCM_DEVELOPMENT_MODE: 'true' } },
      /DCM_DEVELOPMENT_MODE must not be set/,
    ],
    [
      'TLS comes from both a Secret and cert-manager',
      { tls: { existingSecret: 'x', certManager: { enabled: true, issuerRef: { name: 'ca' } } } },
      /set only one of tls\.existingSecret and tls\.certManager\.enabled/,
    ],
    [
      'cert-manager has no issuer',
      { tls: { certManager: { enabled: true } } },
      /tls\.certManager\.issuerRef\.name is required/,
    ],
    [
      'a gRPC client CA is given without TLS',
      { tls: { clientCa: { existingSecret: 'ca' } } },
      /tls\.clientCa\.existingSecret needs TLS/,
    ],
    [
      'config sets a TLS file',
      { config: { DCM_TLS_CERT_FILE: '/x' } },
      /config\.DCM_TLS_CERT_FILE is set by the chart/,
    ],
    [
      'a PodDisruptionBudget has both limits',
      { podDisruptionBudget: { enabled: true, minAvailable: 1, maxUnavailable: 1 } },
      /set only one of minAvailable and maxUnavailable/,
    ],
  ])('refuses to render when %s', async (_case, override, message) => {
    // The override replaces whole sections of a value set that renders.
    const result = await template({ ...valueSets['defaults with an external URL']!.values, ...override });
    expect(result.stderr).toMatch(message);
    expect(result.code).not.toBe(0);
    expect(result.stdout).toBe('');
  });
});
