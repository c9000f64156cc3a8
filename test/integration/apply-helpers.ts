/**
 * Shared by the apply-* integration tests (not a test file itself): fixtures over HTTP,
 * the status body, admin access to the test clusters, and the clean-up of whatever a test
 * that failed half-way left on them. Every name these tests use on the shared clusters is
 * their own (ns-faults-*, user-conv, lc-sign…), so clean-up can never touch another file's objects.
 */
import net from 'node:net';
import { expect } from '@jest/globals';
import { CertificatesV1Api, CoreV1Api, RbacAuthorizationV1Api, type KubeConfig } from '@kubernetes/client-node';
import yaml from 'js-yaml';
import type { Db } from 'mongodb';
import { pino } from 'pino';
import supertest from 'supertest';
import { createDcm, type Dcm } from '../../src/composition-root.js';
import { defaultConfig } from '../../src/config.js';
import { waitForObject } from '../../src/kubernetes/wait-for-object.js';
import { adminKubeConfig, testClusters } from '../support/backends.js';
import { design, testCipher, type TestDcm } from '../support/dcm.js';
import { lcPath } from '../support/rest.js';

/** 0 = test cluster 1, 1 = test cluster 2 (as in `testClusters`). */
export type ClusterIndex = 0 | 1;

export const admin = (i: ClusterIndex): KubeConfig => adminKubeConfig(testClusters[i].kubeconfigPath());
export const core = (i: ClusterIndex): CoreV1Api => admin(i).makeApiClient(CoreV1Api);
export const rbac = (i: ClusterIndex): RbacAuthorizationV1Api => admin(i).makeApiClient(RbacAuthorizationV1Api);
export const certificatesApi = (i: ClusterIndex): CertificatesV1Api => admin(i).makeApiClient(CertificatesV1Api);

const absentOn404 = <T>(call: Promise<T>): Promise<T | undefined> =>
  call.then(
    (value) => value,
    (error: { code?: number }) => (error.code === 404 ? undefined : Promise.reject(error)),
  );

export const readNamespace = (i: ClusterIndex, name: string) => absentOn404(core(i).readNamespace({ name }));
export const readRole = (i: ClusterIndex, namespace: string, name: string) =>
  absentOn404(rbac(i).readNamespacedRole({ name, namespace }));
export const namespaceExists = async (i: ClusterIndex, name: string): Promise<boolean> =>
  (await readNamespace(i, name)) !== undefined;

/** Label selector of everything the DCM created for a logical cloud of that name (any project, any id). */
export const logicalCloudSelector = (lc: string): string =>
  `app.kubernetes.io/managed-by=dcm,dcm.onap.org/logical-cloud=${lc}`;

/** The design's logical cloud (its two permissions included) under names of the test's own. */
export function tenantLogicalCloud(name: string, namespace: string, user: string) {
  const body = design.logicalCloud();
  body.metadata.name = name;
  body.spec.namespace = namespace;
  body.spec.user['user-name'] = user;
  return body;
}

export interface ResourceLine {
  category: string;
  kind: string;
  name: string;
  status: string;
  message?: string;
}

export interface ClusterStatusBody {
  'cluster-reference': string;
  'cluster-provider': string;
  cluster: string;
  state: string;
  'namespace-status': string;
  'user-certificate-status': string;
  'role-status': string;
  'role-binding-status': string;
  'quota-status': string;
  resources: ResourceLine[];
  warnings: string[];
  errors: string[];
}

export interface StatusBody {
  status: string;
  state: string;
  operation: { kind: string; inProgress: boolean } | null;
  clusters: ClusterStatusBody[];
}

export async function statusOf(http: TestDcm['http'], project: string, lc: string): Promise<StatusBody> {
  const res = await http.get(`${lcPath(project, lc)}/status`);
  expect(res.status).toBe(200);
  return res.body as StatusBody;
}

export function clusterEntry(status: StatusBody, reference: string): ClusterStatusBody {
  const entry = status.clusters.find((c) => c['cluster-reference'] === reference);
  if (!entry)
    throw new Error(
      `no status entry for cluster reference ${reference} in ${JSON.stringify(status.clusters.map((c) => c['cluster-reference']))}`,
    );
  return entry;
}

/** Starts an apply (design 14), checks the immediate answer, and waits until its background work is done. */
export async function applyAndSettle(
  t: Pick<TestDcm, 'http' | 'dcm'>,
  project: string,
  lc: string,
): Promise<StatusBody> {
  const res = await t.http.post(`${lcPath(project, lc)}/apply`);
  expect({ status: res.status, body: res.body as unknown }).toMatchObject({
    status: 200,
    body: { status: 'Creation in Progress' },
  });
  await t.dcm.services.lifecycle.settled(project, lc);
  return statusOf(t.http, project, lc);
}

export async function terminateAndSettle(
  t: Pick<TestDcm, 'http' | 'dcm'>,
  project: string,
  lc: string,
): Promise<StatusBody> {
  const res = await t.http.post(`${lcPath(project, lc)}/terminate`);
  expect({ status: res.status, body: res.body as unknown }).toMatchObject({
    status: 202,
    body: { status: 'Termination in Progress' },
  });
  await t.dcm.services.lifecycle.settled(project, lc);
  return statusOf(t.http, project, lc);
}

/** The tenant's kubeconfig (YAML) for one cluster reference; fails the test unless it is there. */
export async function tenantKubeconfig(
  http: TestDcm['http'],
  project: string,
  lc: string,
  reference: string,
): Promise<string> {
  const res = await http.get(`${lcPath(project, lc)}/kubeconfig?cluster-reference=${reference}`);
  expect({ status: res.status, text: res.status === 200 ? '' : res.text }).toEqual({ status: 200, text: '' });
  return res.text;
}

/** A localhost port nothing listens on: bound once by the system's choice, then released. */
export function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** An admin kubeconfig (YAML text) whose every cluster entry points at another server. */
export function withServer(kubeconfig: string, server: string): string {
  const config = yaml.load(kubeconfig) as { clusters: { cluster: { server: string } }[] };
  for (const entry of config.clusters) entry.cluster.server = server;
  return yaml.dump(config);
}

/**
 * A DCM composed by the composition root on a given database, with its own cluster timeout
 * (startTestDcm's is 10 s): a second process on the same database, or a short timeout.
 */
export async function composeDcm(
  db: Db,
  clusterTimeoutMs = 10_000,
  cipher = testCipher,
): Promise<{ dcm: Dcm; http: ReturnType<typeof supertest> }> {
  const dcm = await createDcm({
    db,
    logger: pino({ level: process.env.DCM_TEST_LOG_LEVEL ?? 'silent' }),
    config: { ...defaultConfig(), DCM_CLUSTER_TIMEOUT_MS: clusterTimeoutMs, DCM_METRICS_REFRESH_MS: 0 },
    cipher,
    bodyLimit: '1mb',
    ready: async () => true,
    auth: { mode: 'development' },
  });
  return { dcm, http: supertest(dcm.app) };
}

/**
 * Removes from both test clusters what these tests may have left: the namespaces (waiting
 * until they are gone), and the cluster-scoped roles, bindings and CSRs of the named logical clouds.
 */
export async function removeLeftovers(namespaces: string[], logicalClouds: string[]): Promise<void> {
  for (const i of [0, 1] as const) {
    const selector = (lc: string) => ({ labelSelector: logicalCloudSelector(lc) });
    for (const lc of logicalClouds) {
      for (const b of (await rbac(i).listClusterRoleBinding(selector(lc))).items)
        await absentOn404(rbac(i).deleteClusterRoleBinding({ name: b.metadata!.name! }));
      for (const r of (await rbac(i).listClusterRole(selector(lc))).items)
        await absentOn404(rbac(i).deleteClusterRole({ name: r.metadata!.name! }));
      for (const c of (await certificatesApi(i).listCertificateSigningRequest(selector(lc))).items) {
        await absentOn404(certificatesApi(i).deleteCertificateSigningRequest({ name: c.metadata!.name! }));
      }
    }
    for (const name of namespaces) {
      if (!(await namespaceExists(i, name))) continue;
      await absentOn404(core(i).deleteNamespace({ name }));
      await waitForObject({
        kubeConfig: admin(i),
        collectionPath: '/api/v1/namespaces',
        name,
        condition: () => false,
        timeoutMs: 120_000,
        untilDeleted: { exists: () => namespaceExists(i, name) },
      });
    }
  }
}
