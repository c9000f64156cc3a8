/**
 * Labels only an admin could set: a logical cloud's labels land on its Namespace with admin
 * credentials, so keys Kubernetes, Istio or the DCM reserve are refused (400 naming the key),
 * for admins too, until an admin allows the prefix in the project's policy. REST only.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startTestDcm, type TestDcm } from '../support/dcm.js';
import { createProject, expectError, lcPath } from '../support/rest.js';

const PROJECT = 'labels-p1';

function logicalCloud(name: string, labels: Record<string, string>) {
  return {
    metadata: { name },
    spec: { namespace: `ns-${name}`, labels, user: { 'user-name': 'user-1', type: 'certificate' } },
  };
}

const fieldsOf = (body: unknown): string[] =>
  ((body as { details: { field: string }[] }).details ?? []).map((d) => d.field);

describe('reserved label keys on logical clouds', () => {
  let t: TestDcm;

  beforeAll(async () => {
    t = await startTestDcm('labels');
    await createProject(t, PROJECT);
  });

  afterAll(async () => {
    await t?.close();
  });

  it.each([
    ['pod-security.kubernetes.io/enforce', 'privileged'],
    ['kubernetes.io/metadata.name', 'kube-system'],
    ['k8s.io/x', 'y'],
    ['topology.istio.io/network', 'n1'],
    ['istio.io/rev', 'other-revision'],
    ['dcm.onap.org/logical-cloud', 'someone-else'],
    ['app.kubernetes.io/managed-by', 'me'],
  ])('refuses %s with a 400 naming the key', async (key, value) => {
    const res = await t.http
      .post(`/v2/projects/${PROJECT}/logical-clouds`)
      .send(logicalCloud('lc-refused', { team: 'a', [key]: value }));
    expectError(res, 400);
    expect(fieldsOf(res.body)).toEqual([`spec.labels.${key}`]);
    expect(res.text).toMatch(/reserved|set by the DCM/);
    expect((await t.http.get(lcPath(PROJECT, 'lc-refused'))).status).toBe(404);
  });

  it('names every refused key at once and accepts ordinary and recommended labels', async () => {
    const res = await t.http
      .post(`/v2/projects/${PROJECT}/logical-clouds`)
      .send(logicalCloud('lc-two', { 'k8s.io/a': 'b', 'istio.io/c': 'd', 'app.kubernetes.io/name': 'web' }));
    expectError(res, 400);
    expect(fieldsOf(res.body).sort()).toEqual(['spec.labels.istio.io/c', 'spec.labels.k8s.io/a']);
    const ok = await t.http
      .post(`/v2/projects/${PROJECT}/logical-clouds`)
      .send(logicalCloud('lc-plain', { team: 'a', 'app.kubernetes.io/name': 'web' }));
    expect(ok.status).toBe(201);
  });

  it('refuses a reserved key on update too', async () => {
    const res = await t.http
      .put(lcPath(PROJECT, 'lc-plain'))
      .send({ spec: logicalCloud('lc-plain', { 'pod-security.kubernetes.io/enforce': 'privileged' }).spec });
    expectError(res, 400);
    expect(fieldsOf(res.body)).toEqual(['spec.labels.pod-security.kubernetes.io/enforce']);
  });

  it("an admin's policy allows a prefix for that project's logical clouds, and only that prefix", async () => {
    const body = logicalCloud('lc-psa', { 'pod-security.kubernetes.io/enforce': 'baseline' });
    expectError(await t.http.post(`/v2/projects/${PROJECT}/logical-clouds`).send(body), 400);

    const refusedPrefix = await t.http
      .put(`/v2/projects/${PROJECT}/policy`)
      .send({ spec: { allowedLabelPrefixes: ['dcm.onap.org/'] } });
    expectError(refusedPrefix, 400);
    expect(fieldsOf(refusedPrefix.body).join(' ')).toMatch(/allowedLabelPrefixes/);

    const policy = await t.http
      .put(`/v2/projects/${PROJECT}/policy`)
      .send({ spec: { allowedLabelPrefixes: ['pod-security.kubernetes.io/'] } });
    expect(policy.status).toBe(200);
    expect((await t.http.get(`/v2/projects/${PROJECT}/policy`)).body.spec.allowedLabelPrefixes).toEqual([
      'pod-security.kubernetes.io/',
    ]);

    const created = await t.http.post(`/v2/projects/${PROJECT}/logical-clouds`).send(body);
    expect(created.status).toBe(201);
    expect(created.body.spec.labels).toEqual({ 'pod-security.kubernetes.io/enforce': 'baseline' });

    const other = await t.http
      .post(`/v2/projects/${PROJECT}/logical-clouds`)
      .send(logicalCloud('lc-other', { 'pod-security.kubernetes.io/enforce': 'baseline', 'kubernetes.io/x': 'y' }));
    expectError(other, 400);
    expect(fieldsOf(other.body)).toEqual(['spec.labels.kubernetes.io/x']);
  });
});
