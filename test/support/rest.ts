/** Small helpers shared by the REST integration tests: fixtures over HTTP and error-body checks. */
import fs from 'node:fs';
import { expect } from '@jest/globals';
import type { Response } from 'supertest';
import { clusterCaKeyPath, testClusters } from './backends.js';
import { design, type TestDcm } from './dcm.js';

export const lcPath = (project: string, lc: string): string => `/v2/projects/${project}/logical-clouds/${lc}`;

/** The admin kubeconfig (text) of test cluster 1 or 2. */
export const kubeconfigText = (index: 1 | 2): string =>
  fs.readFileSync((index === 1 ? testClusters[0] : testClusters[1]).kubeconfigPath(), 'utf8');

/** The CA key (PEM) of test cluster 1 or 2, when the test backends have one. */
export function caKeyText(index: 1 | 2): string | undefined {
  const file = clusterCaKeyPath(index);
  return file ? fs.readFileSync(file, 'utf8') : undefined;
}

export async function createProject(t: Pick<TestDcm, 'http'>, name: string): Promise<void> {
  const res = await t.http.post('/v2/projects').send({ metadata: { name } });
  expect(res.status).toBe(201);
}

export async function createProvider(t: Pick<TestDcm, 'http'>, name: string): Promise<void> {
  const res = await t.http.post('/v2/cluster-providers').send({ metadata: { name } });
  expect(res.status).toBe(201);
}

/** Registers test cluster `index` under `provider` as `name`, with its admin kubeconfig. */
export async function registerCluster(
  t: Pick<TestDcm, 'http'>,
  provider: string,
  name: string,
  index: 1 | 2,
): Promise<Response> {
  const res = await t.http
    .post(`/v2/cluster-providers/${provider}/clusters`)
    .send({ metadata: { name }, spec: { kubeconfig: kubeconfigText(index) } });
  expect(res.status).toBe(201);
  return res;
}

/** A project, `provider-1`, and both test clusters registered as cluster-1 and cluster-2: the set-up of the apply and gRPC tests. */
export async function setUpProjectAndClusters(t: Pick<TestDcm, 'http'>, project: string): Promise<void> {
  await createProject(t, project);
  await createProvider(t, 'provider-1');
  await registerCluster(t, 'provider-1', 'cluster-1', 1);
  await registerCluster(t, 'provider-1', 'cluster-2', 2);
}

/**
 * Creates the design's logical cloud (endpoint 1) in `project`, optionally under another name;
 * a namespace of its own unless it is lc-1 (the DCM refuses two logical clouds one namespace).
 */
export async function createDesignLogicalCloud(
  t: Pick<TestDcm, 'http'>,
  project: string,
  name = 'lc-1',
  namespace = name === 'lc-1' ? 'ns-1' : `ns-${name}`,
): Promise<Response> {
  const body = design.logicalCloud();
  body.metadata.name = name;
  body.spec.namespace = namespace;
  const res = await t.http.post(`/v2/projects/${project}/logical-clouds`).send(body);
  expect(res.status).toBe(201);
  return res;
}

/** A distinctive piece of a secret: a run of its base64 body, long enough to be found only if leaked. */
export function fingerprint(secret: string, from: number): string {
  const body = secret.replace(/-----[A-Z ]+-----|\s/g, '');
  return body.slice(from, from + 40);
}

/** The fields an error body names, in order. */
export const fieldsOf = (res: Response): string[] =>
  (res.body as { details: { field: string }[] }).details.map((d) => d.field);

/** An error answer: the status, the `{name, message, details}` shape, and nothing of the internals. */
export function expectError(res: Response, status: number, message?: RegExp): void {
  expect({ status: res.status, body: res.body as unknown }).toMatchObject({
    status,
    body: { name: expect.any(String), message: expect.any(String), details: expect.any(Array) },
  });
  if (message) expect((res.body as { message: string }).message).toMatch(message);
  expectNoStackTrace(res);
}

export function expectNoStackTrace(res: Response): void {
  expect(res.text).not.toMatch(/\n\s+at |\bat .+:\d+:\d+|node_modules|\.ts:\d+|\/src\//);
}
