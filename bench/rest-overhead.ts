/**
 * REST overhead: the DCM's GET of a logical cloud and POST create, against a bare Node
 * `http` handler that does the same database work on the same database in the same run.
 *
 * Two bare handlers: "1 op" does the single read (findOne of the logical cloud) or write
 * (insertOne of it) the target is stated against; "same ops" does every database operation the
 * DCM's handler does (GET: the logical cloud, then its permissions and cluster references;
 * POST: two permissions in parallel, the logical cloud, each after its name entry, the project, then the
 * namespace claim), so the
 * difference to it is the framework alone (Express, zod validation, pino-http, views).
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type autocannon from 'autocannon';
import type { Db } from 'mongodb';
import { namesCollectionOf } from '../src/db/record-names.js';
import {
  createLogicalCloud,
  createProject,
  lcPath,
  logicalCloudBody,
  registerClusters,
  startInProcessDcm,
} from './dcm.js';
import type { Backends, BenchOptions, SectionResult, Target } from './env.js';
import { fmt, log, mean, ms, table } from './env.js';
import { assertHealthy, runLoad, type LoadResult } from './load.js';

const PROJECT = 'bench';
const GET_LC = 'lc-get';

/** The bare handler: plain node:http, the official driver, JSON in and out. */
function startBareServer(db: Db): Promise<http.Server> {
  type Doc = { _id: string } & Record<string, unknown>;
  const logicalClouds = db.collection<Doc>('logicalClouds');
  const permissions = db.collection<Doc>('userPermissions');
  const references = db.collection<Doc>('clusterReferences');
  const projects = db.collection<Doc>('projects');
  const namespaceClaims = db.collection<Doc>('namespaceClaims');
  // Each record's name entry, written before it (src/db/record-names.ts).
  const nameEntry = (collection: string, id: string, scope: Record<string, string>, name: string, at: Date) =>
    db.collection<Doc>(namesCollectionOf(collection)).insertOne({ _id: id, ...scope, name, at });

  const readBody = (req: http.IncomingMessage): Promise<string> =>
    new Promise((resolve, reject) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (chunk: string) => (body += chunk));
      req.on('end', () => resolve(body));
      req.on('error', reject);
    });
  const send = (res: http.ServerResponse, status: number, body: unknown) => {
    const text = JSON.stringify(body);
    res.writeHead(status, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(text),
    });
    res.end(text);
  };

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse) => {
    const [, , variant, name] = (req.url ?? '').split('/'); // /bare/<one|same>/<name>
    if (req.method === 'GET') {
      const lc = await logicalClouds.findOne({ project: PROJECT, name });
      if (!lc) return send(res, 404, { message: 'not found' });
      if (variant === 'one') return send(res, 200, lc);
      const ids = { logicalCloudId: { $in: [lc._id] } };
      const [p, r] = await Promise.all([permissions.find(ids).toArray(), references.find(ids).toArray()]);
      return send(res, 200, { ...lc, permissions: p, references: r });
    }
    const body = JSON.parse(await readBody(req)) as ReturnType<typeof logicalCloudBody>;
    const now = new Date();
    const lcId = randomUUID();
    const data = {
      ...body.metadata,
      namespace: body.spec.namespace,
      level: '1',
      labels: [],
      user: { name: body.spec.user['user-name'], type: body.spec.user.type },
    };
    const doc = {
      _id: lcId,
      project: PROJECT,
      name: body.metadata.name,
      revision: 1,
      createdAt: now,
      updatedAt: now,
      data,
    };
    if (variant === 'one') {
      await logicalClouds.insertOne(doc);
      return send(res, 201, doc);
    }
    await Promise.all(
      body.spec.user['user-permissions'].map(async (p) => {
        const { 'permission-name': permissionName, ...rule } = p;
        const id = randomUUID();
        await nameEntry('userPermissions', id, { logicalCloudId: lcId }, permissionName, now);
        return permissions.insertOne({
          _id: id,
          logicalCloudId: lcId,
          name: permissionName,
          revision: 1,
          createdAt: now,
          updatedAt: now,
          data: { ...rule, namespace: data.namespace },
        });
      }),
    );
    await nameEntry('logicalClouds', lcId, { project: PROJECT }, body.metadata.name, now);
    await logicalClouds.insertOne(doc);
    if (!(await projects.findOne({ name: PROJECT }))) return send(res, 404, { message: 'no project' });
    await namespaceClaims.insertOne({
      _id: data.namespace,
      logicalCloudId: lcId,
      project: PROJECT,
      logicalCloud: body.metadata.name,
      claimedAt: now,
    });
    return send(res, 201, doc);
  };

  const server = http.createServer((req, res) => {
    handle(req, res).catch((error: unknown) => send(res, 500, { message: (error as Error).message }));
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

interface Variant {
  label: string;
  url: string;
  get: string;
  post: string;
}

export async function restOverhead(backends: Backends, opts: BenchOptions): Promise<SectionResult> {
  const duration = opts.quick ? 2 : 6;
  const rounds = opts.quick ? 1 : 2;
  const connections = 10;
  const rateDuration = opts.quick ? 3 : 8;

  const t = await startInProcessDcm({ mongoUrl: backends.mongoUrl, databaseName: `bench_${opts.runId}_rest` });
  let bare: http.Server | undefined;
  try {
    await createProject(t.rest, PROJECT);
    await registerClusters(
      t.rest,
      'bench-provider',
      backends.clusters.slice(0, 2).map((cluster) => ({ name: cluster.name, cluster })),
    );
    await createLogicalCloud(t.rest, PROJECT, {
      name: GET_LC,
      namespace: 'ns-get',
      user: 'user-get',
      references: backends.clusters
        .slice(0, 2)
        .map((c) => ({ name: c.name, provider: 'bench-provider', cluster: c.name })),
    });
    bare = await startBareServer(t.db);
    const bareUrl = `http://127.0.0.1:${(bare.address() as AddressInfo).port}`;

    const variants: Variant[] = [
      { label: 'bare handler, 1 op', url: bareUrl, get: `/bare/one/${GET_LC}`, post: '/bare/one' },
      { label: 'bare handler, same ops as DCM', url: bareUrl, get: `/bare/same/${GET_LC}`, post: '/bare/same' },
      {
        label: 'DCM (Express, /v2)',
        url: t.url,
        get: lcPath(PROJECT, GET_LC),
        post: `/v2/projects/${PROJECT}/logical-clouds`,
      },
    ];
    // Each created logical cloud has a namespace of its own (the DCM claims namespaces DCM-wide).
    let posts = 0;
    const getRequest = (v: Variant) => [{ method: 'GET' as const, path: v.get }];
    const postRequest = (v: Variant) => [
      {
        method: 'POST' as const,
        path: v.post,
        headers: { 'content-type': 'application/json' },
        setupRequest: (req: autocannon.Request) => {
          posts++;
          return { ...req, body: JSON.stringify(logicalCloudBody(`lc-${posts}-x`, `ns-post-${posts}`, 'user-post')) };
        },
      },
    ];

    // Warm-up (JIT, connection pools), not measured.
    for (const v of variants) {
      await runLoad({ url: v.url, requests: getRequest(v), connections, durationSeconds: 1 });
    }

    const results = new Map<string, { get: LoadResult[]; post: LoadResult[] }>(
      variants.map((v) => [v.label, { get: [], post: [] }]),
    );
    for (let round = 1; round <= rounds; round++) {
      for (const v of variants) {
        log(`rest: GET ${v.label}, round ${round}/${rounds}`);
        const r = assertHealthy(
          `GET ${v.label}`,
          await runLoad({ url: v.url, requests: getRequest(v), connections, durationSeconds: duration }),
        );
        results.get(v.label)!.get.push(r);
      }
    }
    // Every POST run starts from the same database: on FerretDB the cost of any query but one
    // by _id grows with the collection (see the notes), so what one run wrote is removed first.
    const getLcId = (await t.db.collection('logicalClouds').findOne({ project: PROJECT, name: GET_LC }))!._id;
    const resetPosted = async () => {
      await t.db.collection('logicalClouds').deleteMany({ _id: { $ne: getLcId } });
      await t.db.collection('userPermissions').deleteMany({ logicalCloudId: { $ne: getLcId } });
      await t.db.collection('namespaceClaims').deleteMany({ logicalCloudId: { $ne: getLcId } });
    };
    const posted: number[] = [];
    for (let round = 1; round <= rounds; round++) {
      for (const v of variants) {
        await resetPosted();
        log(`rest: POST ${v.label}, round ${round}/${rounds}`);
        const r = assertHealthy(
          `POST ${v.label}`,
          // In this process: each request's body is made here (a namespace of its own), which a worker cannot clone.
          await runLoad({ url: v.url, requests: postRequest(v), connections, durationSeconds: duration, inline: true }),
        );
        results.get(v.label)!.post.push(r);
        posted.push(r.total);
      }
    }
    await resetPosted();

    log(`rest: GET at a fixed 500 requests/s`);
    const fixed = new Map<string, LoadResult>();
    for (const v of variants) {
      fixed.set(
        v.label,
        await runLoad({
          url: v.url,
          requests: getRequest(v),
          connections,
          durationSeconds: rateDuration,
          overallRate: 500,
        }),
      );
    }

    // ---- report --------------------------------------------------------------------------
    const avg = (rs: LoadResult[], f: (r: LoadResult) => number) => mean(rs.map(f));
    const row = (label: string, kind: 'get' | 'post') => {
      const rs = results.get(label)![kind];
      return [
        label,
        fmt(
          avg(rs, (r) => r.requestsPerSecond),
          0,
        ),
        rs.map((r) => fmt(r.requestsPerSecond, 0)).join(' / '),
        ms(avg(rs, (r) => r.p50)),
        ms(avg(rs, (r) => r.p99)),
      ];
    };
    const throughput = (label: string, kind: 'get' | 'post') =>
      avg(results.get(label)![kind], (r) => r.requestsPerSecond);
    const dcmLabel = variants[2]!.label;
    const ratio = (kind: 'get' | 'post', base: string) => throughput(dcmLabel, kind) / throughput(base, kind);
    const getRatio = ratio('get', variants[0]!.label);
    const postRatio = ratio('post', variants[0]!.label);
    const getRatioSame = ratio('get', variants[1]!.label);
    const postRatioSame = ratio('post', variants[1]!.label);
    const dcmFixed = fixed.get(dcmLabel)!;
    const bareFixed = fixed.get(variants[0]!.label)!;
    const sameOpsFixed = fixed.get(variants[1]!.label)!;

    const targets: Target[] = [
      {
        target: 'REST GET throughput within 25% of the bare handler (DCM/bare ≥ 0.75)',
        measured: `${fmt(getRatio, 2)} (${fmt(throughput(dcmLabel, 'get'), 0)} vs ${fmt(throughput(variants[0]!.label, 'get'), 0)} req/s); vs same ops: ${fmt(getRatioSame, 2)}`,
        pass: getRatio >= 0.75,
      },
      {
        target: 'REST POST create throughput within 25% of the bare handler (DCM/bare ≥ 0.75)',
        measured: `${fmt(postRatio, 2)} (${fmt(throughput(dcmLabel, 'post'), 0)} vs ${fmt(throughput(variants[0]!.label, 'post'), 0)} req/s); vs same ops: ${fmt(postRatioSame, 2)}`,
        pass: postRatio >= 0.75,
      },
      {
        target: 'GET p99 < 20 ms at 500 requests/s',
        measured: `p99 ${ms(dcmFixed.p99)} at ${fmt(dcmFixed.requestsPerSecond, 0)} req/s served (bare handler: ${ms(bareFixed.p99)} with 1 op, ${ms(sameOpsFixed.p99)} with the same ops)`,
        pass: dcmFixed.p99 < 20 && dcmFixed.failures === 0 && dcmFixed.requestsPerSecond >= 475,
      },
    ];

    const markdown = [
      `autocannon (programmatic, in a worker thread), ${connections} connections, ${duration} s per run, ${rounds} round(s) alternating the variants; ` +
        "all servers listen on 127.0.0.1 in the benchmark process and use the same database. Throughput is the mean of the rounds (each round listed); latencies are the rounds' mean of p50/p99.",
      '',
      `**GET one logical cloud** (${GET_LC}: 2 permissions, 2 cluster references)`,
      '',
      table(
        ['server', 'req/s', 'req/s per round', 'p50', 'p99'],
        variants.map((v) => row(v.label, 'get')),
      ),
      '',
      `DCM / bare (1 op): **${fmt(getRatio, 2)}**; DCM / bare (same ops): ${fmt(getRatioSame, 2)}`,
      '',
      `**POST create a logical cloud** (the design's body: 2 inline permissions; each run starts with 1 logical cloud stored and adds ${Math.min(...posted)}–${Math.max(...posted)})`,
      '',
      table(
        ['server', 'req/s', 'req/s per round', 'p50', 'p99'],
        variants.map((v) => row(v.label, 'post')),
      ),
      '',
      `DCM / bare (1 op): **${fmt(postRatio, 2)}**; DCM / bare (same ops): ${fmt(postRatioSame, 2)}`,
      '',
      `**GET at a fixed rate of 500 requests/s** (autocannon \`overallRate\`, ${connections} connections, ${rateDuration} s; latencies corrected for coordinated omission)`,
      '',
      table(
        ['server', 'req/s served', 'p50', 'p90', 'p99', 'max', 'failed'],
        [...fixed.entries()].map(([label, r]) => [
          label,
          fmt(r.requestsPerSecond, 0),
          ms(r.p50),
          ms(r.p90),
          ms(r.p99),
          ms(r.max),
          r.failures,
        ]),
      ),
    ].join('\n');
    return { title: 'REST overhead', markdown, targets };
  } finally {
    if (bare) {
      const closed = new Promise<void>((resolve) => bare!.close(() => resolve()));
      bare.closeAllConnections();
      await closed;
    }
    await t.close();
  }
}
