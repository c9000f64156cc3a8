/**
 * Reserved namespaces over REST (issue 29 item 6): by default a logical cloud cannot take the
 * namespace of a common cluster add-on (409 naming its owner, on create and on update), and
 * DCM_RESERVED_NAMESPACES replaces that list.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { defaultConfig, loadConfig } from '../../src/config.js';
import { design, startTestDcm, type TestDcm } from '../support/dcm.js';
import { createProject, expectError, lcPath } from '../support/rest.js';

const PROJECT = 'p-reserved';
const lcs = `/v2/projects/${PROJECT}/logical-clouds`;

const logicalCloud = (name: string, namespace: string) => {
  const body = design.logicalCloud();
  return { ...body, metadata: { ...body.metadata, name }, spec: { ...body.spec, namespace } };
};

describe('reserved namespaces, by default', () => {
  let t: TestDcm;

  beforeAll(async () => {
    t = await startTestDcm('reserved_ns');
    await createProject(t, PROJECT);
  });

  afterAll(async () => {
    await t.close();
  });

  it.each([
    ['cert-manager', /namespace cert-manager belongs to cert-manager/],
    ['argocd', /belongs to Argo CD/],
    ['flux-system', /belongs to Flux/],
    ['sail-operator', /belongs to the Sail Operator/],
    ['istio-ingress', /belongs to Istio/],
    ['kyverno', /belongs to Kyverno/],
  ])('a logical cloud in %s is refused with 409 naming the owner', async (namespace, owner) => {
    const res = await t.http.post(lcs).send(logicalCloud('lc-reserved', namespace));
    expectError(res, 409, owner);
    expect((res.body as { details: { field: string }[] }).details[0]?.field).toBe('spec.namespace');
    expect((await t.http.get(`${lcs}/lc-reserved`)).status).toBe(404);
  });

  it('moving a logical cloud into one is refused too', async () => {
    await t.http.post(lcs).send(logicalCloud('lc-free', 'team-ns')).expect(201);
    expectError(
      await t.http.put(lcPath(PROJECT, 'lc-free')).send(logicalCloud('lc-free', 'cert-manager')),
      409,
      /cert-manager/,
    );
    expect((await t.http.get(`${lcs}/lc-free`)).body.spec.namespace).toBe('team-ns');
  });
});

describe('reserved namespaces, set by DCM_RESERVED_NAMESPACES', () => {
  let t: TestDcm;

  beforeAll(async () => {
    const { DCM_RESERVED_NAMESPACES } = loadConfig({ DCM_RESERVED_NAMESPACES: 'vault,ops-*' });
    t = await startTestDcm('reserved_ns_set', {
      config: { ...defaultConfig(), DCM_CLUSTER_TIMEOUT_MS: 10_000, DCM_RESERVED_NAMESPACES },
    });
    await createProject(t, PROJECT);
  });

  afterAll(async () => {
    await t.close();
  });

  it('replaces the default list', async () => {
    expectError(
      await t.http.post(lcs).send(logicalCloud('lc-vault', 'vault')),
      409,
      /namespace vault belongs to the cluster's operators/,
    );
    expectError(await t.http.post(lcs).send(logicalCloud('lc-ops', 'ops-logging')), 409, /ops-logging belongs to/);
    await t.http.post(lcs).send(logicalCloud('lc-cm', 'cert-manager')).expect(201);
  });

  it("keeps Kubernetes' own namespaces reserved", async () => {
    expectError(await t.http.post(lcs).send(logicalCloud('lc-kube', 'kube-system')), 409, /Kubernetes/);
  });
});
