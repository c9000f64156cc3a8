/**
 * Cluster providers and clusters. A cluster is registered with its admin kubeconfig (and
 * optionally its CA key); neither may ever come back in a response body.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Response } from 'supertest';
import { parseAdminKubeconfig } from '../../src/kubeconfig/registered-kubeconfig.js';
import { startTestDcm, type TestDcm } from '../support/dcm.js';
import {
  caKeyText,
  createDesignLogicalCloud,
  createProject,
  createProvider,
  expectError,
  fingerprint,
  kubeconfigText,
  lcPath,
  registerCluster,
} from '../support/rest.js';

const CA_KEY_FALLBACK =
  '-----BEGIN PRIVATE KEY-----\nTUlJRXZnSUJBREFOQmdrcWhraUc5dzBCQVFFRkFBU0NCS2d3Z2dTa0FnRUFBb0lCQVFD\n-----END PRIVATE KEY-----\n';

describe('REST cluster registry', () => {
  let t: TestDcm;
  const kubeconfig = kubeconfigText(1);
  const caKey = caKeyText(1) ?? CA_KEY_FALLBACK;
  const clientKey = /client-key-data:\s*(\S+)/.exec(kubeconfig)?.[1] ?? '';
  const secrets = [fingerprint(clientKey, 100), fingerprint(caKey, 20), 'PRIVATE KEY'];
  const responses: Response[] = [];

  /** Every response of this file is kept, and none may carry a secret. */
  const keep = (res: Response): Response => {
    responses.push(res);
    return res;
  };

  beforeAll(async () => {
    t = await startTestDcm('rest_registry');
  });

  afterAll(async () => {
    await t.close();
  });

  it('the secrets to look for are distinctive', () => {
    expect(clientKey.length).toBeGreaterThan(200);
    for (const secret of secrets) expect(secret.length).toBeGreaterThanOrEqual(11);
  });

  it('creates, reads, lists, updates and deletes a cluster provider', async () => {
    const metadata = { name: 'provider-1', description: 'edge sites', userData1: '', userData2: '' };
    const created = keep(await t.http.post('/v2/cluster-providers').send({ metadata }));
    expect(created.status).toBe(201);
    expect(created.headers.location).toBe('/v2/cluster-providers/provider-1');
    expect(created.body).toEqual({ metadata });
    expect(keep(await t.http.get('/v2/cluster-providers/provider-1')).body).toEqual({ metadata });
    expect(keep(await t.http.get('/v2/cluster-providers')).body).toEqual([{ metadata }]);

    const updated = keep(
      await t.http.put('/v2/cluster-providers/provider-1').send({ metadata: { description: 'all sites' } }),
    );
    expect(updated.status).toBe(200);
    expect(updated.body.metadata.description).toBe('all sites');

    expect(keep(await t.http.delete('/v2/cluster-providers/provider-1')).status).toBe(204);
    expectError(
      keep(await t.http.get('/v2/cluster-providers/provider-1')),
      404,
      /Cluster provider provider-1 not found/,
    );
  });

  it('registers a cluster with its kubeconfig and CA key, and answers only what they say publicly', async () => {
    await createProvider(t, 'provider-2');
    const body = {
      metadata: { name: 'cluster-1', description: 'site 1' },
      spec: { kubeconfig, labels: { site: 'one' }, 'ca-key': caKey },
    };
    const created = keep(await t.http.post('/v2/cluster-providers/provider-2/clusters').send(body));
    expect(created.status).toBe(201);
    expect(created.headers.location).toBe('/v2/cluster-providers/provider-2/clusters/cluster-1');
    const expected = {
      metadata: { name: 'cluster-1', description: 'site 1', userData1: '', userData2: '' },
      spec: {
        'cluster-provider': 'provider-2',
        server: parseAdminKubeconfig(kubeconfig).server,
        labels: { site: 'one' },
        'has-ca-key': true,
      },
    };
    expect(created.body).toEqual(expected);

    const got = keep(await t.http.get('/v2/cluster-providers/provider-2/clusters/cluster-1'));
    expect(got.status).toBe(200);
    expect(got.body).toEqual(expected);
    expect(got.headers.etag).toMatch(/^"\d+"$/);

    const listed = keep(await t.http.get('/v2/cluster-providers/provider-2/clusters'));
    expect(listed.body).toEqual([expected]);

    const updated = keep(
      await t.http
        .put('/v2/cluster-providers/provider-2/clusters/cluster-1')
        .send({ ...body, spec: { ...body.spec, labels: { site: 'uno' } } }),
    );
    expect(updated.status).toBe(200);
    expect(updated.body.spec.labels).toEqual({ site: 'uno' });

    expectError(keep(await t.http.post('/v2/cluster-providers/provider-2/clusters').send(body)), 409);
    const badKey = keep(
      await t.http
        .post('/v2/cluster-providers/provider-2/clusters')
        .send({ metadata: { name: 'cluster-9' }, spec: { kubeconfig, 'ca-key': 'not a key' } }),
    );
    expectError(badKey, 400);
    expect(badKey.body.details.map((d: { field: string }) => d.field)).toEqual(['spec.ca-key']);
  });

  it('registers a cluster given its kubeconfig base64-encoded, without a CA key', async () => {
    await createProvider(t, 'provider-3');
    const res = keep(
      await t.http
        .post('/v2/cluster-providers/provider-3/clusters')
        .send({ metadata: { name: 'cluster-2' }, spec: { kubeconfig: Buffer.from(kubeconfig).toString('base64') } }),
    );
    expect(res.status).toBe(201);
    expect(res.body.spec).toMatchObject({ server: parseAdminKubeconfig(kubeconfig).server, 'has-ca-key': false });
  });

  it('answers 404 naming what is missing, 409 for a duplicate', async () => {
    expectError(
      keep(await t.http.get('/v2/cluster-providers/nowhere/clusters')),
      404,
      /Cluster provider nowhere not found/,
    );
    expectError(
      keep(await t.http.get('/v2/cluster-providers/provider-2/clusters/nothing')),
      404,
      /Cluster nothing not found in cluster provider provider-2/,
    );
    expectError(
      keep(await t.http.post('/v2/cluster-providers').send({ metadata: { name: 'provider-2' } })),
      409,
      /already exists/,
    );
    expectError(
      keep(
        await t.http
          .post('/v2/cluster-providers/provider-2/clusters')
          .send({ metadata: { name: 'cluster-1' }, spec: { kubeconfig } }),
      ),
      409,
      /Cluster cluster-1 already exists/,
    );
  });

  it('refuses a kubeconfig that is not one (400 naming spec.kubeconfig)', async () => {
    const res = keep(
      await t.http
        .post('/v2/cluster-providers/provider-2/clusters')
        .send({ metadata: { name: 'bad' }, spec: { kubeconfig: 'just: text' } }),
    );
    expectError(res, 400);
    // One detail per problem, each naming spec.kubeconfig (and the kubeconfig's own field).
    expect(res.body.details).toEqual([
      {
        field: 'spec.kubeconfig',
        message: 'just is not accepted: it is not a field the DCM accepts in a registered kubeconfig',
      },
      { field: 'spec.kubeconfig', message: 'clusters is missing or empty: kubeconfig has no clusters' },
    ]);
  });

  it('refuses to delete a referenced cluster or a provider that has clusters (409)', async () => {
    await createProvider(t, 'provider-4');
    await registerCluster(t, 'provider-4', 'edge-1', 1);
    await createProject(t, 'project-1');
    await createDesignLogicalCloud(t, 'project-1');
    const ref = await t.http
      .post(`${lcPath('project-1', 'lc-1')}/cluster-references`)
      .send({ metadata: { name: 'ref-1' }, spec: { clusterProvider: 'provider-4', cluster: 'edge-1' } });
    expect(ref.status).toBe(201);

    expectError(
      keep(await t.http.delete('/v2/cluster-providers/provider-4/clusters/edge-1')),
      409,
      /referenced by a logical cloud/,
    );
    expectError(keep(await t.http.delete('/v2/cluster-providers/provider-4')), 409, /still has clusters/);

    expect((await t.http.delete(`${lcPath('project-1', 'lc-1')}/cluster-references/ref-1`)).status).toBe(204);
    expect(keep(await t.http.delete('/v2/cluster-providers/provider-4/clusters/edge-1')).status).toBe(204);
    expectError(keep(await t.http.get('/v2/cluster-providers/provider-4/clusters/edge-1')), 404);
    expect(keep(await t.http.delete('/v2/cluster-providers/provider-4')).status).toBe(204);
  });

  it('never returned the kubeconfig or the CA key in any response body', () => {
    expect(responses.length).toBeGreaterThan(15);
    const leaking = responses.filter((res) => secrets.some((secret) => res.text.includes(secret)));
    expect(leaking.map((res) => `${res.status} ${res.text.slice(0, 300)}`)).toEqual([]);
  });
});
