/**
 * Issue 28 item 6: EMCO's CLI `emcoctl` running its own example resource file for the DCM
 * (`src/tools/emcoctl/examples/dcm.yaml` of onap/multicloud-k8s, less its first document: an rsync
 * controller entry for EMCO's orchestrator) end to end against a DCM on the real test clusters, every
 * service address of emcoctl's configuration pointed at the DCM.
 *
 * The requests are what emcoctl (cmd/utils.go, go-resty v2.3.0 over Go's net/http) puts on the wire,
 * sent over a socket to the DCM listening on 127.0.0.1:
 * - each YAML document → `POST http://<host>:<port>/v2/<resourceContext.anchor>` (the URL's `v2` is
 *   emcoctl's constant; the document's `version` is not used); the body is Go's `json.Marshal` of
 *   `{metadata, label-name (omitempty), spec (omitempty)}`: the metadata struct's fields in order,
 *   map keys sorted, Go's string escapes; `Content-Type: application/json`, and resty's
 *   `Accept: application/json` (resty copies a JSON Content-Type into a missing Accept);
 * - a document with `file` → multipart/form-data (resty's `SetFormDataFromValues` + `SetFileReader`):
 *   the `metadata` field first, then the `file` part named `filename`, its Content-Type what Go's
 *   `http.DetectContentType` says of its first 512 bytes (text/plain; charset=utf-8 for a kubeconfig);
 *   Go's 60-hex-digit boundary, CRLF;
 * - `get -f`: `GET <anchor>/<metadata.name>` for each document, with `Accept: application/json` where
 *   the segment before the name is `clusters`, `apps` or `profiles`, no Accept otherwise;
 * - `apply <anchor>` (instantiate, terminate): POST with an empty body and the JSON headers;
 *   `get <anchor>`: GET, no Accept;
 * - `delete -f`: `DELETE <anchor>/<metadata.name>` in reverse order, no body.
 * Every request carries Host, resty's User-Agent and Go's `Accept-Encoding: gzip` (answers are
 * decompressed as Go's transport does).
 */
import fs from 'node:fs';
import http, { type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import yaml from 'js-yaml';
import { kubectl } from '../support/backends.js';
import { startTestDcm, type TestDcm } from '../support/dcm.js';
import { fingerprint, kubeconfigText } from '../support/rest.js';
import { core, namespaceExists, removeLeftovers, statusOf } from './apply-helpers.js';

const FIXTURE = path.join(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/emcoctl/dcm.yaml');
/** The example's names. Its namespace `ns1` and logical cloud `lc1` are used by no other test file. */
const PROJECT = 'proj1';
const LC = 'lc1';
const NS = 'ns1';
const REFERENCE = 'lc-cl-1';
/** resty v2.3.0's default User-Agent (hdrUserAgentValue). */
const USER_AGENT = 'go-resty/2.3.0 (https://github.com/go-resty/resty)';

/** One YAML document as emcoctl decodes it (its `emcoRes`). */
interface EmcoRes {
  version: string;
  resourceContext: { anchor: string };
  metadata: { name: string; description?: string; userData1?: string; userData2?: string };
  spec?: Record<string, unknown>;
  file?: string;
  'label-name'?: string;
}

/** A resource as emcoctl's readResources makes it: the anchor, the JSON body, the file path. */
interface Resource {
  anchor: string;
  body: string;
  file?: string;
}

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  /** The request as sent: method, path, header lines in order. */
  sent: { method: string; path: string; headers: [string, string][] };
}

/** A string as Go's encoding/json writes it (HTML-safe escapes, \u00XX for other control characters). */
function goString(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '"' || ch === '\\') out += `\\${ch}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (c < 0x20 || ch === '<' || ch === '>' || ch === '&' || c === 0x2028 || c === 0x2029)
      out += `\\u${c.toString(16).padStart(4, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}

/** A value decoded from YAML into `interface{}`, as Go's json.Marshal writes it: maps with their keys sorted. */
function goJson(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'string') return goString(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return `[${value.map(goJson).join(',')}]`;
  const map = value as Record<string, unknown>;
  const keys = Object.keys(map).sort();
  return `{${keys.map((k) => `${goString(k)}:${goJson(map[k])}`).join(',')}}`;
}

/** emcoctl's emcoBody: Metadata (a struct: fields in order, empty ones omitted), label-name and spec omitted when empty. */
function emcoBody(doc: EmcoRes): string {
  const meta = (['name', 'description', 'userData1', 'userData2'] as const)
    .filter((k, i) => i === 0 || (doc.metadata[k] ?? '') !== '')
    .map((k) => `${goString(k)}:${goString(doc.metadata[k] ?? '')}`);
  const fields = [`"metadata":{${meta.join(',')}}`];
  if (doc['label-name']) fields.push(`"label-name":${goString(doc['label-name'])}`);
  if (doc.spec && Object.keys(doc.spec).length > 0) fields.push(`"spec":${goJson(doc.spec)}`);
  return `{${fields.join(',')}}`;
}

/** emcoctl's readResources over the fixture. */
function readResources(text: string): { docs: EmcoRes[]; resources: Resource[] } {
  const docs = yaml.loadAll(text).filter((d) => d !== null && d !== undefined) as EmcoRes[];
  const resources = docs.map((doc) => ({
    anchor: doc.resourceContext.anchor,
    body: emcoBody(doc),
    ...(doc.file ? { file: doc.file } : {}),
  }));
  return { docs, resources };
}

/** The Content-Type Go's http.DetectContentType gives resty's 512-byte sniff buffer (zero-padded) of a text file. */
function detectContentType(file: Buffer): string {
  const head = Buffer.alloc(512);
  file.copy(head, 0, 0, 512);
  const binary = head.some((b) => b <= 0x08 || b === 0x0b || (b >= 0x0e && b <= 0x1a) || (b >= 0x1c && b <= 0x1f));
  return binary ? 'application/octet-stream' : 'text/plain; charset=utf-8';
}

/** resty's multipart body: the form values (the `metadata` field), then the file reader's part; Go's mime/multipart bytes. */
function restyMultipart(metadata: string, file: Buffer): { contentType: string; body: Buffer } {
  const boundary = randomBytes(30).toString('hex');
  const body = Buffer.concat([
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="metadata"\r\n\r\n${metadata}`),
    Buffer.from(
      `\r\n--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="filename"\r\n` +
        `Content-Type: ${detectContentType(file)}\r\n\r\n`,
    ),
    file,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  return { contentType: `multipart/form-data; boundary=${boundary}`, body };
}

describe("emcoctl's DCM example (examples/dcm.yaml) end to end", () => {
  let t: TestDcm;
  let server: Server;
  let port: number;
  const agent = new http.Agent({ keepAlive: true });
  const { docs, resources } = readResources(fs.readFileSync(FIXTURE, 'utf8'));
  /** The files the documents name, by the path emcoctl reads: the example's `kubeconfig` is test cluster 1's. */
  const files: Record<string, Buffer> = { kubeconfig: Buffer.from(kubeconfigText(1)) };
  const clientKey = /client-key-data:\s*(\S+)/.exec(kubeconfigText(1))?.[1] ?? '';

  /** One request as Go's net/http writes it: Host, User-Agent, Content-Length, the rest sorted, Accept-Encoding. */
  const send = (
    method: 'GET' | 'POST' | 'DELETE',
    anchor: string,
    headers: Record<string, string> = {},
    body?: Buffer,
  ): Promise<Answer> =>
    new Promise((resolve, reject) => {
      const lines: [string, string][] = [
        ['Host', `127.0.0.1:${port}`],
        ['User-Agent', USER_AGENT],
        ...(body !== undefined ? [['Content-Length', String(body.length)] as [string, string]] : []),
        ...Object.entries(headers).sort(([a], [b]) => (a < b ? -1 : 1)),
        ['Accept-Encoding', 'gzip'],
      ];
      const req = http.request({
        host: '127.0.0.1',
        port,
        method,
        path: `/v2/${anchor}`,
        setHost: false,
        headers: Object.fromEntries(lines),
        agent,
      });
      // Go's transport keeps connections alive without saying so: no Connection header.
      req.removeHeader('Connection');
      req.on('error', reject);
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const raw = Buffer.concat(chunks);
          const text = (res.headers['content-encoding'] === 'gzip' ? zlib.gunzipSync(raw) : raw).toString('utf8');
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            text,
            sent: { method, path: `/v2/${anchor}`, headers: lines },
          });
        });
      });
      req.end(body);
    });

  const emcoctl = {
    /** RestClientPost: the JSON body as bytes. */
    post: (anchor: string, body: string) =>
      send('POST', anchor, { Accept: 'application/json', 'Content-Type': 'application/json' }, Buffer.from(body)),
    /** RestClientMultipartPost. */
    multipartPost: (anchor: string, body: string, file: string) => {
      const bytes = files[file];
      if (!bytes) throw new Error(`emcoctl reads ${file}: the test has no file for that path`);
      const multipart = restyMultipart(body, bytes);
      return send('POST', anchor, { 'Content-Type': multipart.contentType }, multipart.body);
    },
    /** `emcoctl apply -f`: each resource in order; emcoctl stops at the first answer outside 201-299. */
    applyFile: async () => {
      const answers: Answer[] = [];
      for (const res of resources) {
        const answer = res.file
          ? await emcoctl.multipartPost(res.anchor, res.body, res.file)
          : await emcoctl.post(res.anchor, res.body);
        answers.push(answer);
        if (answer.status < 201 || answer.status > 299) break;
      }
      return answers;
    },
    /** `emcoctl apply <anchor>`: a POST with an empty body. */
    apply: (anchor: string) => emcoctl.post(anchor, ''),
    /** RestClientGetAnchor (`emcoctl get <anchor>`). */
    getAnchor: (anchor: string) => {
      const s = anchor.split('/');
      const multipartKind = s.length >= 3 && ['apps', 'profiles', 'clusters'].includes(s[s.length - 2]!);
      return send('GET', anchor, multipartKind ? { Accept: 'application/json' } : {});
    },
    /** The anchor RestClientGet/RestClientDelete derive from a resource: `<anchor>/<metadata.name>` (or the label). */
    named: (res: Resource) => {
      const e = JSON.parse(res.body) as { metadata: { name: string }; 'label-name'?: string };
      return e.metadata.name ? `${res.anchor}/${e.metadata.name}` : `${res.anchor}/${e['label-name'] ?? ''}`;
    },
    /** `emcoctl get -f`. */
    getFile: async () => {
      const answers: Answer[] = [];
      for (const res of resources) answers.push(await emcoctl.getAnchor(emcoctl.named(res)));
      return answers;
    },
    /** `emcoctl delete -f`: reverse order, every resource (emcoctl goes on whatever the answer). */
    deleteFile: async () => {
      const answers: Answer[] = [];
      for (const res of [...resources].reverse()) answers.push(await send('DELETE', emcoctl.named(res)));
      return answers;
    },
  };
  const lcAnchor = `projects/${PROJECT}/logical-clouds/${LC}`;
  const summary = (answers: Answer[]) => answers.map((a) => `${a.sent.method} ${a.sent.path} → ${a.status}`);
  const settle = () => t.dcm.services.lifecycle.settled(PROJECT, LC);

  beforeAll(async () => {
    await removeLeftovers([NS], [LC]);
    t = await startTestDcm('emcoctl_example');
    server = await new Promise<Server>((resolve) => {
      const s = t.dcm.app.listen(0, '127.0.0.1', () => resolve(s));
    });
    port = (server.address() as AddressInfo).port;
  });

  afterAll(async () => {
    if (t) {
      const res = await t.http.post(`/v2/${lcAnchor}/terminate`);
      if (res.status === 202) await settle();
    }
    agent.destroy();
    await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
    await removeLeftovers([NS], [LC]).catch(() => undefined);
    await t?.close();
  });

  it('reads the example as emcoctl does: six documents, the bodies Go marshals, the 23-key quota', () => {
    expect(resources.map((r) => [r.anchor, r.file])).toEqual([
      ['cluster-providers', undefined],
      ['cluster-providers/cp-1/clusters', 'kubeconfig'],
      ['projects', undefined],
      ['projects/proj1/logical-clouds', undefined],
      ['projects/proj1/logical-clouds/lc1/cluster-references', undefined],
      ['projects/proj1/logical-clouds/lc1/cluster-quotas', undefined],
    ]);
    expect(docs.every((d) => d.version === 'emco/v2')).toBe(true);
    // Byte for byte what json.Marshal(emcoBody) gives: metadata first, map keys sorted, no spec when absent.
    expect(resources.slice(0, 5).map((r) => r.body)).toEqual([
      '{"metadata":{"name":"cp-1"}}',
      '{"metadata":{"name":"c1"}}',
      '{"metadata":{"name":"proj1"}}',
      '{"metadata":{"name":"lc1"},"spec":{"namespace":"ns1","user":{"type":"certificate","user-name":"user-1",' +
        '"user-permissions":[{"apiGroups":[""],"permission-name":"permission-1","resources":["secrets","pods"],' +
        '"verbs":["get","watch","list","create"]}]}}}',
      '{"metadata":{"name":"lc-cl-1"},"spec":{"cluster-name":"c1","cluster-provider":"cp-1","loadbalancer-ip":"0.0.0.0"}}',
    ]);
    expect(resources[5]!.body).toMatch(/^\{"metadata":\{"name":"quota-1"\},"spec":\{"configmaps":"1000","count\//);
    expect(Object.keys(docs[5]!.spec!)).toHaveLength(23);
    expect(goString('a<b>&"\\\u0008\n')).toBe('"a\\u003cb\\u003e\\u0026\\"\\\\\\u0008\\n"');
    // The kubeconfig is text beyond the sniffed 512 bytes: resty labels its part text/plain.
    expect(detectContentType(files.kubeconfig!)).toBe('text/plain; charset=utf-8');
  });

  it('`emcoctl apply -f dcm.yaml`: every document is created (201), the cluster from multipart', async () => {
    const answers = await emcoctl.applyFile();
    expect(summary(answers)).toEqual([
      'POST /v2/cluster-providers → 201',
      'POST /v2/cluster-providers/cp-1/clusters → 201',
      'POST /v2/projects → 201',
      'POST /v2/projects/proj1/logical-clouds → 201',
      'POST /v2/projects/proj1/logical-clouds/lc1/cluster-references → 201',
      'POST /v2/projects/proj1/logical-clouds/lc1/cluster-quotas → 201',
    ]);
    const cluster = answers[1]!;
    expect(cluster.sent.headers.map(([k]) => k)).toEqual([
      'Host',
      'User-Agent',
      'Content-Length',
      'Content-Type',
      'Accept-Encoding',
    ]);
    expect(cluster.sent.headers[3]![1]).toMatch(/^multipart\/form-data; boundary=[0-9a-f]{60}$/);
    expect(JSON.parse(cluster.text)).toMatchObject({ metadata: { name: 'c1' }, spec: { 'cluster-provider': 'cp-1' } });
    expect(cluster.text).not.toContain(fingerprint(clientKey, 100));
    for (const a of answers) expect(a.text).not.toMatch(/\n\s+at |node_modules/);
  });

  it('`emcoctl get -f dcm.yaml`: 200 for each resource, as created; the cluster by Accept: application/json', async () => {
    const answers = await emcoctl.getFile();
    expect(summary(answers)).toEqual([
      'GET /v2/cluster-providers/cp-1 → 200',
      'GET /v2/cluster-providers/cp-1/clusters/c1 → 200',
      'GET /v2/projects/proj1 → 200',
      'GET /v2/projects/proj1/logical-clouds/lc1 → 200',
      'GET /v2/projects/proj1/logical-clouds/lc1/cluster-references/lc-cl-1 → 200',
      'GET /v2/projects/proj1/logical-clouds/lc1/cluster-quotas/quota-1 → 200',
    ]);
    expect(answers.map((a) => a.sent.headers.find(([k]) => k === 'Accept')?.[1])).toEqual([
      undefined,
      'application/json',
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
    const bodies = answers.map((a) => JSON.parse(a.text) as { metadata: { name: string }; spec: unknown });
    expect(bodies.map((b) => b.metadata.name)).toEqual(['cp-1', 'c1', 'proj1', 'lc1', 'lc-cl-1', 'quota-1']);
    expect(answers[1]!.text).not.toContain(fingerprint(clientKey, 100));
    expect(bodies[3]!.spec).toMatchObject({
      namespace: NS,
      user: {
        'user-name': 'user-1',
        type: 'certificate',
        'user-permissions': [
          expect.objectContaining({
            'permission-name': 'permission-1',
            apiGroups: [''],
            resources: ['secrets', 'pods'],
            verbs: ['get', 'watch', 'list', 'create'],
          }),
        ],
      },
    });
    expect(bodies[4]!.spec).toMatchObject({ 'cluster-provider': 'cp-1', 'cluster-name': 'c1' });
    // All 23 quota keys accepted and kept as given.
    expect(bodies[5]!.spec).toEqual(docs[5]!.spec);
  });

  it('`emcoctl apply projects/proj1/logical-clouds/lc1/instantiate`: the logical cloud is applied on the cluster', async () => {
    const answer = await emcoctl.apply(`${lcAnchor}/instantiate`);
    expect({ status: answer.status, text: answer.status === 202 ? '' : answer.text }).toEqual({
      status: 202,
      text: '',
    });
    await settle();
    const status = await statusOf(t.http, PROJECT, LC);
    expect(status.state).toBe('Instantiated');
    expect(status.clusters.map((c) => [c['cluster-reference'], c.cluster, c.state, c['quota-status']])).toEqual([
      [REFERENCE, 'c1', 'Applied', 'Created'],
    ]);
    // The quota on the cluster carries the example's 23 keys.
    const quotas = await core(0).listNamespacedResourceQuota({ namespace: NS });
    expect(quotas.items).toHaveLength(1);
    expect(Object.keys(quotas.items[0]!.spec!.hard!).sort()).toEqual(Object.keys(docs[5]!.spec!).sort());
  });

  it('`emcoctl get …/cluster-references/lc-cl-1/kubeconfig` answers a kubeconfig that works with kubectl', async () => {
    const answer = await emcoctl.getAnchor(`${lcAnchor}/cluster-references/${REFERENCE}/kubeconfig`);
    expect(answer.sent.headers.find(([k]) => k === 'Accept')).toBeUndefined();
    expect({ status: answer.status, type: answer.headers['content-type'] }).toEqual({
      status: 200,
      type: expect.stringMatching(/^application\/yaml/),
    });
    expect(answer.text).not.toContain(fingerprint(clientKey, 100));
    const kubeconfig = { text: answer.text };
    const canI = async (...args: string[]) => (await kubectl(kubeconfig, ['auth', 'can-i', ...args])).stdout.trim();
    expect(await canI('list', 'pods', '-n', NS)).toBe('yes');
    expect(await canI('create', 'secrets', '-n', NS)).toBe('yes');
    expect(await canI('delete', 'pods', '-n', NS)).toBe('no');
    expect(await canI('list', 'secrets', '-n', 'kube-system')).toBe('no');
    const pods = await kubectl(kubeconfig, ['get', 'pods', '-n', NS, '-o', 'name']);
    expect({ code: pods.code, stderr: pods.stderr }).toEqual({ code: 0, stderr: expect.any(String) });
  });

  it('`emcoctl apply …/lc1/terminate` removes what the DCM created on the cluster', async () => {
    const answer = await emcoctl.apply(`${lcAnchor}/terminate`);
    expect(answer.status).toBe(202);
    await settle();
    expect((await statusOf(t.http, PROJECT, LC)).state).toBe('Terminated');
    expect(await namespaceExists(0, NS)).toBe(false);
  });

  it('`emcoctl delete -f dcm.yaml` removes everything (204, reverse order); `get -f` then finds nothing', async () => {
    const answers = await emcoctl.deleteFile();
    expect(summary(answers)).toEqual([
      'DELETE /v2/projects/proj1/logical-clouds/lc1/cluster-quotas/quota-1 → 204',
      'DELETE /v2/projects/proj1/logical-clouds/lc1/cluster-references/lc-cl-1 → 204',
      'DELETE /v2/projects/proj1/logical-clouds/lc1 → 204',
      'DELETE /v2/projects/proj1 → 204',
      'DELETE /v2/cluster-providers/cp-1/clusters/c1 → 204',
      'DELETE /v2/cluster-providers/cp-1 → 204',
    ]);
    expect(answers[0]!.sent.headers.map(([k]) => k)).toEqual(['Host', 'User-Agent', 'Accept-Encoding']);
    expect((await emcoctl.getFile()).map((a) => a.status)).toEqual([404, 404, 404, 404, 404, 404]);
  });
});
