/**
 * The cluster registry in EMCO clm's dialect (issue 28, items 1-5), on the real backends:
 * multipart registration as emcoctl sends it (Go's boundary format, the kubeconfig as YAML or
 * base64 in a `file` part) that an apply then works on; refused multipart bodies that store
 * nothing; GET by Accept (never the admin kubeconfig); clm's labels and `?label=`; a cluster's
 * kv-pairs; and the registry admin-only in this dialect too.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Response } from 'supertest';
import { startTestDcm, type TestDcm } from '../support/dcm.js';
import { createProject, createProvider, fingerprint, kubeconfigText } from '../support/rest.js';
import { applyAndSettle, removeLeftovers, terminateAndSettle } from './apply-helpers.js';
import { startAuthDcm, TOKENS, type AuthTestDcm } from './auth-fixtures.js';

interface Part {
  name: string;
  /** A file part (as Go's `CreateFormFile` writes it: filename and application/octet-stream). */
  filename?: string;
  data: string | Buffer;
}

/** A multipart/form-data body as Go's mime/multipart writes it (emcoctl through resty): a 60-hex-digit boundary, CRLF. */
function goMultipart(parts: Part[]): { contentType: string; body: Buffer } {
  const boundary = randomBytes(30).toString('hex');
  const chunks: Buffer[] = [];
  for (const part of parts) {
    const headers = part.filename
      ? `Content-Disposition: form-data; name="${part.name}"; filename="${part.filename}"\r\nContent-Type: application/octet-stream\r\n`
      : `Content-Disposition: form-data; name="${part.name}"\r\n`;
    chunks.push(Buffer.from(`--${boundary}\r\n${headers}\r\n`), Buffer.from(part.data), Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { contentType: `multipart/form-data; boundary=${boundary}`, body: Buffer.concat(chunks) };
}

const CLUSTERS = '/v2/cluster-providers/cp-1/clusters';
const PROJECT = 'clm-proj';
const NAMESPACE = 'ns-clm-dialect';
const LC = 'lc-clm';

const fieldsOf = (res: Response): string[] => (res.body.details as { field: string }[]).map((d) => d.field);

describe('the cluster registry in clm dialect', () => {
  let t: TestDcm;
  const kubeconfig1 = kubeconfigText(1);
  const kubeconfig2 = kubeconfigText(2);
  const clientKey = /client-key-data:\s*(\S+)/.exec(kubeconfig1)?.[1] ?? '';
  const send = (method: 'post' | 'put', path: string, parts: Part[]) => {
    const { contentType, body } = goMultipart(parts);
    return t.http[method](path).set('Content-Type', contentType).send(body);
  };
  const emcoctlMetadata = (name: string) => JSON.stringify({ metadata: { name } });
  const registered = async (name: string) => (await t.http.get(`${CLUSTERS}/${name}`)).status;

  beforeAll(async () => {
    t = await startTestDcm('clm_dialect');
    await removeLeftovers([NAMESPACE], [LC]);
    await createProvider(t, 'cp-1');
    await createProject(t, PROJECT);
  });

  afterAll(async () => {
    await removeLeftovers([NAMESPACE], [LC]).catch(() => undefined);
    await t.close();
  });

  it('registers a cluster from a multipart body with its kubeconfig as YAML, as emcoctl sends it', async () => {
    const res = await send('post', CLUSTERS, [
      { name: 'metadata', data: emcoctlMetadata('c1') },
      { name: 'file', filename: 'filename', data: kubeconfig1 },
    ]);
    expect({ status: res.status, body: res.body as unknown }).toMatchObject({
      status: 201,
      body: { metadata: { name: 'c1' }, spec: { 'cluster-provider': 'cp-1', labels: {}, 'has-ca-key': false } },
    });
    expect(res.headers.location).toBe(`${CLUSTERS}/c1`);
    expect(JSON.stringify(res.body)).not.toContain(fingerprint(clientKey, 100));
  });

  it('registers a cluster from base64 of its kubeconfig, with metadata and labels in the metadata part', async () => {
    const metadata = {
      metadata: { name: 'c2', description: 'site 2', userData1: 'u1', userData2: 'u2' },
      spec: { labels: { zone: 'east' } },
    };
    const res = await send('post', CLUSTERS, [
      { name: 'metadata', data: JSON.stringify(metadata) },
      { name: 'file', filename: 'kubeconfig', data: Buffer.from(kubeconfig2).toString('base64') },
    ]);
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ metadata: metadata.metadata, spec: { labels: { zone: 'east' } } });
  });

  it('applies a logical cloud on the clusters registered that way', async () => {
    await t.http
      .post(`/v2/projects/${PROJECT}/logical-clouds`)
      .send({
        metadata: { name: LC },
        spec: {
          namespace: NAMESPACE,
          user: {
            'user-name': 'user-1',
            type: 'certificate',
            'user-permissions': [
              { 'permission-name': 'permission-1', apiGroups: [''], resources: ['pods'], verbs: ['get', 'list'] },
            ],
          },
        },
      })
      .expect(201);
    for (const c of ['c1', 'c2'])
      await t.http
        .post(`/v2/projects/${PROJECT}/logical-clouds/${LC}/cluster-references`)
        .send({ metadata: { name: `lc-${c}` }, spec: { 'cluster-provider': 'cp-1', 'cluster-name': c } })
        .expect(201);
    const status = await applyAndSettle(t, PROJECT, LC);
    expect(status.status).toBe('Created');
    expect(status.clusters.map((c) => [c.cluster, c.state, c['namespace-status']]).sort()).toEqual([
      ['c1', 'Applied', 'Created'],
      ['c2', 'Applied', 'Created'],
    ]);
    expect((await terminateAndSettle(t, PROJECT, LC)).status).toBe('Terminated');
  });

  it('answers GET by Accept: JSON (or none) as always; never the admin kubeconfig (406)', async () => {
    for (const accept of [undefined, 'application/json', '*/*']) {
      const req = t.http.get(`${CLUSTERS}/c1`);
      const res = accept ? await req.set('Accept', accept) : await req;
      expect({ accept, status: res.status, name: res.body.metadata?.name }).toEqual({
        accept,
        status: 200,
        name: 'c1',
      });
    }
    for (const accept of ['multipart/form-data', 'application/octet-stream']) {
      const res = await t.http.get(`${CLUSTERS}/c1`).set('Accept', accept);
      expect({ accept, status: res.status }).toEqual({ accept, status: 406 });
      expect(res.body.message).toMatch(/never hands out a cluster's admin credentials/);
      expect(res.text).not.toContain(fingerprint(clientKey, 100));
    }
  });

  it('refuses bad multipart bodies with a 4xx naming the problem, and stores nothing', async () => {
    const exec = [
      'apiVersion: v1',
      'kind: Config',
      'clusters: [{name: c, cluster: {server: "https://127.0.0.1:6443"}}]',
      'users: [{name: u, user: {exec: {apiVersion: client.authentication.k8s.io/v1, command: /bin/sh}}}]',
      'contexts: [{name: x, context: {cluster: c, user: u}}]',
      'current-context: x',
    ].join('\n');
    const cases: { what: string; parts: Part[]; status: number; field?: string; message: RegExp }[] = [
      {
        what: 'missing file',
        parts: [{ name: 'metadata', data: emcoctlMetadata('bad') }],
        status: 400,
        field: 'file',
        message: /file: is required/,
      },
      {
        // Schemathesis found it: a part with an empty name crashed the process (busboy names it undefined).
        what: 'a part without a name, before the others',
        parts: [
          { name: '', data: '1.26e+61' },
          { name: 'metadata', data: emcoctlMetadata('bad') },
          { name: 'file', filename: 'file', data: kubeconfig1 },
        ],
        status: 400,
        field: '(part)',
        message: /\(part\): has no name/,
      },
      {
        what: 'two files',
        parts: [
          { name: 'metadata', data: emcoctlMetadata('bad') },
          { name: 'file', filename: 'a', data: kubeconfig1 },
          { name: 'file', filename: 'b', data: kubeconfig2 },
        ],
        status: 400,
        field: 'file',
        message: /more than once/,
      },
      {
        what: 'oversize file',
        parts: [
          { name: 'metadata', data: emcoctlMetadata('bad') },
          { name: 'file', filename: 'big', data: `${kubeconfig1}\n#${'x'.repeat(512 * 1024)}` },
        ],
        status: 400,
        field: 'file',
        message: /at most 524288 bytes/,
      },
      {
        what: 'exec kubeconfig',
        parts: [
          { name: 'metadata', data: emcoctlMetadata('bad') },
          { name: 'file', filename: 'f', data: exec },
        ],
        status: 400,
        field: 'file',
        message: /exec/,
      },
      {
        what: 'non-JSON metadata',
        parts: [
          { name: 'metadata', data: 'name: bad' },
          { name: 'file', filename: 'f', data: kubeconfig1 },
        ],
        status: 400,
        field: 'metadata',
        message: /metadata: is not a JSON object/,
      },
      {
        what: 'a part that is neither',
        parts: [
          { name: 'metadata', data: emcoctlMetadata('bad') },
          { name: 'file', filename: 'f', data: kubeconfig1 },
          { name: 'extra', data: 'x' },
        ],
        status: 400,
        field: 'extra',
        message: /not a part of this body/,
      },
      {
        what: 'a bad name in the metadata',
        parts: [
          { name: 'metadata', data: JSON.stringify({ metadata: { name: 'bad name!' } }) },
          { name: 'file', filename: 'f', data: kubeconfig1 },
        ],
        status: 400,
        field: 'metadata.name',
        message: /name/,
      },
      {
        what: 'a kubeconfig in the metadata as well',
        parts: [
          { name: 'metadata', data: JSON.stringify({ metadata: { name: 'bad' }, spec: { kubeconfig: kubeconfig1 } }) },
          { name: 'file', filename: 'f', data: kubeconfig1 },
        ],
        status: 400,
        field: 'spec.kubeconfig',
        message: /file part/,
      },
    ];
    for (const c of cases) {
      const res = await send('post', CLUSTERS, c.parts);
      expect({ what: c.what, status: res.status }).toEqual({ what: c.what, status: c.status });
      expect(res.body.message).toMatch(c.message);
      if (c.field) expect({ what: c.what, fields: fieldsOf(res) }).toEqual({ what: c.what, fields: [c.field] });
      expect(res.text).not.toContain(fingerprint(clientKey, 100));
    }
    // A body far beyond every part: 413, not read.
    const huge = await send('post', CLUSTERS, [
      { name: 'metadata', data: emcoctlMetadata('bad') },
      { name: 'file', filename: 'f', data: Buffer.alloc(2 * 1024 * 1024, 'a') },
    ]);
    expect(huge.status).toBe(413);
    // A multipart type without a boundary.
    const noBoundary = await t.http.post(CLUSTERS).set('Content-Type', 'multipart/form-data').send('x');
    expect(noBoundary.status).toBe(400);
    expect(await registered('bad')).toBe(404);
    expect((await t.http.get(CLUSTERS)).body.map((c: { metadata: { name: string } }) => c.metadata.name)).toEqual([
      'c1',
      'c2',
    ]);
    // A JSON-only route still refuses multipart (415), as before.
    const elsewhere = await send('post', '/v2/projects', [{ name: 'metadata', data: '{}' }]);
    expect(elsewhere.status).toBe(415);
  });

  it('replaces a cluster by multipart PUT: the file alone, the metadata alone (the rest stays)', async () => {
    const fileOnly = await send('put', `${CLUSTERS}/c2`, [{ name: 'file', filename: 'f', data: kubeconfig2 }]);
    expect(fileOnly.status).toBe(200);
    expect(fileOnly.body).toMatchObject({ metadata: { description: 'site 2' }, spec: { labels: { zone: 'east' } } });
    const metadataOnly = await send('put', `${CLUSTERS}/c2`, [
      {
        name: 'metadata',
        data: JSON.stringify({ metadata: { description: 'site two' }, spec: { labels: { zone: 'west' } } }),
      },
    ]);
    expect(metadataOnly.status).toBe(200);
    expect(metadataOnly.body).toMatchObject({
      metadata: { description: 'site two' },
      spec: { labels: { zone: 'west' } },
    });
    const renamed = await send('put', `${CLUSTERS}/c2`, [
      { name: 'metadata', data: JSON.stringify({ metadata: { name: 'other' } }) },
    ]);
    expect(fieldsOf(renamed)).toEqual(['metadata.name']);
    const empty = await send('put', `${CLUSTERS}/c2`, []);
    expect(empty.status).toBe(400);
    // The stored kubeconfig still works: the cluster's server is unchanged and it still reads.
    expect((await t.http.get(`${CLUSTERS}/c2`)).body.metadata.description).toBe('site two');
  });

  it("keeps one set of labels: clm's names and the JSON body's key/value labels", async () => {
    const labels = `${CLUSTERS}/c2/labels`;
    const added = await t.http.post(labels).send({ metadata: { name: '' }, 'label-name': 'edge' });
    expect({ status: added.status, body: added.body as unknown }).toEqual({
      status: 201,
      body: { 'label-name': 'edge' },
    });
    expect(added.headers.location).toBe(`${labels}/edge`);
    expect((await t.http.get(labels)).body).toEqual([{ 'label-name': 'zone' }, { 'label-name': 'edge' }]);
    expect((await t.http.get(`${CLUSTERS}/c2`)).body.spec.labels).toEqual({ zone: 'west', edge: '' });
    expect((await t.http.get(`${labels}/zone`)).body).toEqual({ 'label-name': 'zone' });
    expect((await t.http.get(`${labels}/edge`)).status).toBe(200);
    expect((await t.http.get(`${labels}/core`)).status).toBe(404);
    expect((await t.http.post(labels).send({ 'label-name': 'edge' })).status).toBe(409);
    for (const bad of ['bad label', '-edge', 'a/b/c', 'x'.repeat(64), ''])
      expect({ bad, fields: fieldsOf(await t.http.post(labels).send({ 'label-name': bad })) }).toEqual({
        bad,
        fields: ['label-name'],
      });
    expect((await t.http.post(labels).send({ 'label-name': 'example.com/edge' })).status).toBe(201);

    const withEdge = await t.http.get(`${CLUSTERS}?label=edge`);
    expect(withEdge.body.map((c: { metadata: { name: string } }) => c.metadata.name)).toEqual(['c2']);
    expect(withEdge.headers['x-total-count']).toBe('1');
    expect((await t.http.get(`${CLUSTERS}?label=core`)).body).toEqual([]);
    expect(fieldsOf(await t.http.get(`${CLUSTERS}?label=bad%20label`))).toEqual(['query.label']);

    expect((await t.http.delete(`${labels}/zone`)).status).toBe(204);
    expect((await t.http.delete(`${labels}/example.com%2Fedge`)).status).toBe(204);
    expect((await t.http.delete(`${labels}/zone`)).status).toBe(404);
    expect((await t.http.get(`${CLUSTERS}/c2`)).body.spec.labels).toEqual({ edge: '' });
    expect((await t.http.get(`${CLUSTERS}/nope/labels`)).status).toBe(404);
  });

  it("stores, answers and deletes a cluster's kv-pairs as clm takes them", async () => {
    const kv = `${CLUSTERS}/c1/kv-pairs`;
    const body = { metadata: { name: 'kv-1', description: 'd' }, spec: { kv: [{ key1: 'val1' }, { key2: 'val2' }] } };
    const created = await t.http.post(kv).send(body);
    expect(created.status).toBe(201);
    expect(created.body).toEqual({ metadata: { ...body.metadata, userData1: '', userData2: '' }, spec: body.spec });
    expect((await t.http.get(`${kv}/kv-1`)).body.spec).toEqual(body.spec);
    expect((await t.http.get(kv)).body).toHaveLength(1);
    expect((await t.http.post(kv).send(body)).status).toBe(409);
    expect(
      fieldsOf(await t.http.post(kv).send({ metadata: { name: 'kv-2' }, spec: { kv: [{ a: 1, b: 2 }] } })),
    ).toEqual(['spec.kv.0']);
    expect((await t.http.post(`${CLUSTERS}/nope/kv-pairs`).send(body)).status).toBe(404);
    expect((await t.http.delete(`${kv}/kv-1`)).status).toBe(204);
    expect((await t.http.get(`${kv}/kv-1`)).status).toBe(404);
  });

  it('documents the multipart body and the new paths in OpenAPI', async () => {
    const doc = (await t.http.get('/openapi.json')).body;
    const post = doc.paths['/v2/cluster-providers/{provider}/clusters'].post;
    expect(Object.keys(post.requestBody.content).sort()).toEqual(['application/json', 'multipart/form-data']);
    expect(post.requestBody.content['multipart/form-data'].schema.required.sort()).toEqual(['file', 'metadata']);
    expect(doc.paths['/v2/cluster-providers/{provider}/clusters/{cluster}'].get.responses['406']).toBeDefined();
    expect(doc.paths['/v2/cluster-providers/{provider}/clusters/{cluster}/labels/{label}'].delete).toBeDefined();
    expect(doc.paths['/v2/cluster-providers/{provider}/clusters/{cluster}/kv-pairs/{kvPair}'].get).toBeDefined();
  });
});

describe('the clm dialect is admin-only', () => {
  let t: AuthTestDcm;

  beforeAll(async () => {
    t = await startAuthDcm('clm_dialect_auth');
    await t
      .as(TOKENS.admin)
      .post('/v2/cluster-providers')
      .send({ metadata: { name: 'cp-1' } })
      .expect(201);
    await t
      .as(TOKENS.admin)
      .post('/v2/cluster-providers/cp-1/clusters')
      .send({ metadata: { name: 'c1' }, spec: { kubeconfig: kubeconfigText(1) } })
      .expect(201);
  });

  afterAll(async () => {
    await t.close();
  });

  it('refuses a project caller every write of it (multipart included) and a tenant even reads; audits the writes', async () => {
    const { contentType, body } = goMultipart([
      { name: 'metadata', data: JSON.stringify({ metadata: { name: 'c9' } }) },
      { name: 'file', filename: 'f', data: kubeconfigText(1) },
    ]);
    const team = () => t.as(TOKENS.team1);
    const attempts: [string, () => Promise<Response>][] = [
      ['multipart POST', () => team().post(CLUSTERS).set('Content-Type', contentType).send(body)],
      ['multipart PUT', () => team().put(`${CLUSTERS}/c1`).set('Content-Type', contentType).send(body)],
      ['label POST', () => team().post(`${CLUSTERS}/c1/labels`).send({ 'label-name': 'edge' })],
      ['label DELETE', () => team().delete(`${CLUSTERS}/c1/labels/edge`)],
      [
        'kv POST',
        () =>
          team()
            .post(`${CLUSTERS}/c1/kv-pairs`)
            .send({ metadata: { name: 'k' }, spec: { kv: [] } }),
      ],
      ['kv DELETE', () => team().delete(`${CLUSTERS}/c1/kv-pairs/k`)],
      ['tenant labels GET', () => t.as(TOKENS.tenant).get(`${CLUSTERS}/c1/labels`)],
      ['tenant ?label=', () => t.as(TOKENS.tenant).get(`${CLUSTERS}?label=edge`)],
      ['tenant kv GET', () => t.as(TOKENS.tenant).get(`${CLUSTERS}/c1/kv-pairs`)],
    ];
    for (const [what, attempt] of attempts)
      expect({ what, status: (await attempt()).status }).toEqual({ what, status: 403 });
    // Reads are the registry's: a project caller may read it (as it reads clusters), never write it.
    expect((await team().get(`${CLUSTERS}/c1/labels`)).status).toBe(200);
    expect((await team().get(`${CLUSTERS}?label=edge`)).status).toBe(200);
    expect((await t.as(TOKENS.admin).get(`${CLUSTERS}/c9`)).status).toBe(404);
    expect((await t.as(TOKENS.admin).get(`${CLUSTERS}/c1/labels`)).body).toEqual([]);

    const admin = await t.as(TOKENS.admin).post(`${CLUSTERS}/c1/labels`).send({ 'label-name': 'edge' });
    expect(admin.status).toBe(201);
    const audit = t.logs.records().filter((r) => r.audit === true && String(r.path).includes('/labels'));
    expect(audit.map((r) => r.status)).toEqual(expect.arrayContaining([403, 201]));
  });
});
