/**
 * Scale: the DCM as its own process (`node --import tsx src/main.ts`) with 10,000 logical
 * clouds stored, each with two permissions, a quota and two cluster references. Measures
 * how long seeding takes (through the REST API, and in bulk), GET and paginated list latency,
 * and the process's memory (from /proc/<pid>/status).
 *
 * Seeding in bulk writes exactly what the service writes: the first logical clouds are
 * created through the REST API, and the rest are copies of the first one's stored documents
 * with only its id, names, namespace and user changed, inserted with insertMany into the same
 * collections; a GET of a copy must then answer what a GET of the original answers, renamed.
 */
import { randomUUID } from 'node:crypto';
import { MongoClient, type Document } from 'mongodb';
import { findSplittingIn } from '../src/db/in-as-equalities.js';
import { generateEncryptionKey } from '../src/security/secret-cipher.js';
import {
  buildToTemp,
  createChildren,
  createLogicalCloud,
  createProject,
  dropDatabase,
  lcPath,
  logicalCloudBody,
  registerClusters,
  startChildDcm,
  type ProcessMemory,
  type RestClient,
} from './dcm.js';
import type { Backends, BenchOptions, SectionResult, Target } from './env.js';
import { fmt, log, mean, mib, ms, onExit, percentile, roughly, seconds, table, timed } from './env.js';

const PROJECT = 'bench';
const PROVIDER = 'bench-provider';
const CHILD_COLLECTIONS = ['userPermissions', 'clusterReferences', 'clusterQuotas'] as const;

const lcName = (i: number) => `lc-${String(i).padStart(5, '0')}`;
const namespaceOf = (i: number) => `ns-${String(i).padStart(5, '0')}`;
const userOf = (i: number) => `user-${String(i).padStart(5, '0')}`;

/** Runs `work(i)` for i in [from, to) with at most `concurrency` at a time. */
async function forEachConcurrently(
  from: number,
  to: number,
  concurrency: number,
  work: (i: number) => Promise<void>,
): Promise<void> {
  let next = from;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, to - from) }, async () => {
      while (next < to) await work(next++);
    }),
  );
}

/** A copy of a stored document with every string equal to a key of `rename` replaced (ids, names, namespace, user). */
function renamed<T>(value: T, rename: Map<string, string>, now: Date): T {
  if (typeof value === 'string') return (rename.get(value) ?? value) as T;
  if (value instanceof Date) return new Date(now) as T;
  if (Array.isArray(value)) return value.map((v: unknown) => renamed(v, rename, now)) as T;
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, renamed(v, rename, now)])) as T;
  }
  return value;
}

/** PostgreSQL's plan (FerretDB's PostgreSQL backend), in one line: node type and filter. */
const postgresPlan = (plan: Document): string =>
  `${String(plan['Node Type'])}${plan.Filter ? ` where ${String(plan.Filter)}` : ''}`;

/** Sequential requests (one connection, closed loop) until `maxSamples` or the time budget, at least `minSamples`. */
async function sampleLatency(
  rest: RestClient,
  paths: () => string,
  opts: { minSamples: number; maxSamples: number; budgetMs: number; check?: (body: unknown, headers: Headers) => void },
): Promise<number[]> {
  const samples: number[] = [];
  const deadline = performance.now() + opts.budgetMs;
  await fetch(`${rest.baseUrl}${paths()}`, { headers: rest.headers }).then((r) => r.arrayBuffer()); // warm-up
  while (samples.length < opts.maxSamples && (samples.length < opts.minSamples || performance.now() < deadline)) {
    const url = `${rest.baseUrl}${paths()}`;
    const started = performance.now();
    const res = await fetch(url, { headers: rest.headers });
    const text = await res.text();
    samples.push(performance.now() - started);
    if (res.status !== 200) throw new Error(`GET ${url}: ${res.status} ${text.slice(0, 300)}`);
    opts.check?.(JSON.parse(text), res.headers);
  }
  return samples;
}

/** `lateCreates`: how many logical clouds are created through REST at full size (fewer on a slow backend). */
export async function scale(
  backends: Backends,
  opts: BenchOptions,
  sizes: { lateCreates?: number } = {},
): Promise<SectionResult> {
  const total = opts.quick ? 500 : 10_000;
  const viaRest = opts.quick ? 40 : 100;
  const restConcurrency = 8;
  const lateRest = sizes.lateCreates ?? (opts.quick ? 5 : 30);
  const sampling = opts.quick
    ? { minSamples: 3, maxSamples: 50, budgetMs: 2_000 }
    : { minSamples: 3, maxSamples: 300, budgetMs: 5_000 };
  const pageConfigs = [
    { limit: 50, offset: 0 },
    { limit: 50, offset: Math.floor(total / 2) },
    { limit: 50, offset: total - 50 },
    { limit: 100, offset: 0 },
    { limit: 100, offset: total - 100 },
  ];
  const databaseName = `bench_${opts.runId}_scale`;
  const clusters = backends.clusters.slice(0, 2);
  if (clusters.length < 2) throw new Error('two test clusters are needed');

  const encryptionKeys = generateEncryptionKey('bench');
  const dcm = await startChildDcm({ mongoUrl: backends.mongoUrl, databaseName, encryptionKeys });
  const forget = onExit(() => dcm.stop());
  const mongo = await MongoClient.connect(backends.mongoUrl);
  const memory: { label: string; m: ProcessMemory }[] = [];
  const remember = (label: string) => memory.push({ label, m: dcm.memory() });
  try {
    const db = mongo.db(databaseName);
    remember('started, empty database');

    // ---- seeding ------------------------------------------------------------------------------
    await createProject(dcm.rest, PROJECT);
    await registerClusters(
      dcm.rest,
      PROVIDER,
      clusters.map((cluster) => ({ name: cluster.name, cluster })),
    );
    const references = clusters.map((c) => ({ name: c.name, provider: PROVIDER, cluster: c.name }));
    const lc = (i: number) => ({ name: lcName(i), namespace: namespaceOf(i), user: userOf(i), references });
    log(`scale: ${viaRest} logical clouds through the REST API (${restConcurrency} at a time)`);
    const restSeed = await timed(() =>
      forEachConcurrently(0, viaRest, restConcurrency, (i) => createLogicalCloud(dcm.rest, PROJECT, lc(i))),
    );
    remember(`${viaRest} logical clouds created through REST`);

    log(`scale: ${total - viaRest} more in bulk (insertMany of copies of ${lcName(0)})`);
    const template = await db.collection('logicalClouds').findOne({ project: PROJECT, name: lcName(0) });
    if (!template) throw new Error(`${lcName(0)} not stored`);
    const templateChildren = Object.fromEntries(
      await Promise.all(
        CHILD_COLLECTIONS.map(
          async (c) => [c, await db.collection(c).find({ logicalCloudId: template._id }).toArray()] as const,
        ),
      ),
    ) as unknown as Record<(typeof CHILD_COLLECTIONS)[number], Document[]>;
    if (
      templateChildren.userPermissions.length !== 2 ||
      templateChildren.clusterReferences.length !== 2 ||
      templateChildren.clusterQuotas.length !== 1
    ) {
      throw new Error(
        `unexpected children of ${lcName(0)}: ${JSON.stringify(Object.values(templateChildren).map((d) => d.length))}`,
      );
    }
    const batch = 1000;
    const bulkSeed = await timed(async () => {
      for (let from = viaRest; from < total; from += batch) {
        const to = Math.min(total, from + batch);
        const now = new Date();
        const docs: Record<string, Document[]> = {
          logicalClouds: [],
          userPermissions: [],
          clusterReferences: [],
          clusterQuotas: [],
        };
        for (let i = from; i < to; i++) {
          const id = randomUUID();
          const rename = new Map([
            [template._id as unknown as string, id],
            [lcName(0), lcName(i)],
            [namespaceOf(0), namespaceOf(i)],
            [userOf(0), userOf(i)],
          ]);
          docs.logicalClouds!.push(renamed(template, rename, now));
          for (const c of CHILD_COLLECTIONS) {
            for (const child of templateChildren[c])
              docs[c]!.push({ ...renamed(child, rename, now), _id: randomUUID() });
          }
        }
        for (const [collection, list] of Object.entries(docs))
          await db.collection(collection).insertMany(list, { ordered: false });
      }
    });
    remember(`${total} logical clouds stored`);

    // The copies answer exactly what the original answers, renamed.
    const original = (await dcm.rest.expect('GET', lcPath(PROJECT, lcName(0)), 200)).text;
    const copy = (await dcm.rest.expect('GET', lcPath(PROJECT, lcName(total - 1)), 200)).text;
    const expected = original
      .replaceAll(lcName(0), lcName(total - 1))
      .replaceAll(namespaceOf(0), namespaceOf(total - 1))
      .replaceAll(userOf(0), userOf(total - 1));
    if (copy !== expected)
      throw new Error(
        `a bulk-seeded logical cloud does not read like one created through REST:\n${copy}\nvs\n${expected}`,
      );

    // ---- latency at this size -------------------------------------------------------------------
    log(`scale: GET and list latency with ${total} logical clouds`);
    const getSamples = await sampleLatency(
      dcm.rest,
      () => lcPath(PROJECT, lcName(Math.floor(Math.random() * total))),
      sampling,
    );
    const listPage = (rest: RestClient, { limit, offset }: { limit: number; offset: number }, s: typeof sampling) =>
      sampleLatency(rest, () => `/v2/projects/${PROJECT}/logical-clouds?limit=${limit}&offset=${offset}`, {
        ...s,
        check: (body, headers) => {
          const count = Array.isArray(body) ? body.length : -1;
          if (count !== limit) throw new Error(`list limit=${limit} offset=${offset}: ${count} items`);
          if (headers.get('x-total-count') !== String(total))
            throw new Error(`X-Total-Count ${headers.get('x-total-count')}, expected ${total}`);
        },
      });
    const pages: { limit: number; offset: number; samples: number[] }[] = [];
    for (const page of pageConfigs) {
      log(`scale: list limit=${page.limit} offset=${page.offset}`);
      pages.push({ ...page, samples: await listPage(dcm.rest, page, sampling) });
    }
    remember('after the GET and list runs');

    // The same queries the DCM makes, through the driver alone: where the time goes.
    log("scale: the DCM's queries alone, through the driver");
    const lcs = db.collection('logicalClouds');
    const all = (collection: string) => db.collection(collection).find({}).toArray();
    // A page's children as the DCM asks them: one equality per id, a few at a time (src/db/in-as-equalities.ts).
    const children = (ids: unknown[]) =>
      Promise.all(
        ['userPermissions', 'clusterReferences'].map((c) =>
          findSplittingIn(db.collection(c), { logicalCloudId: { $in: ids } }),
        ),
      );
    // A GET asks for one logical cloud's children by equality (a one-value $in is asked as one: pushed down).
    const childrenOf = (id: unknown) =>
      Promise.all(
        ['userPermissions', 'clusterReferences'].map((c) => db.collection(c).find({ logicalCloudId: id }).toArray()),
      );
    const dbGet: { lookup: number; children: number }[] = [];
    for (let i = 0; i < (opts.quick ? 2 : 3); i++) {
      const lookup = await timed(() =>
        lcs.findOne({ project: PROJECT, name: lcName(Math.floor(Math.random() * total)) }),
      );
      const kids = await timed(() => childrenOf(lookup.value!._id));
      dbGet.push({ lookup: lookup.ms, children: kids.ms });
    }
    const middle = pageConfigs[1]!;
    const pageQuery = await timed(() =>
      Promise.all([
        timed(() => lcs.find({ project: PROJECT }).sort({ name: 1 }).skip(middle.offset).limit(middle.limit).toArray()),
        timed(() => lcs.countDocuments({ project: PROJECT })),
      ]),
    );
    const [pageFind, pageCount] = pageQuery.value;
    const pageChildren = await timed(() => children(pageFind.value.map((d) => d._id)));
    // The fleet follower's periodic turn with no logical cloud selecting (docs/cluster-selection.md): what it read before, and now.
    const turnBefore = await timed(() => Promise.all(['logicalClouds', 'clusterReferences'].map((c) => all(c))));
    const turnNow = await timed(() => Promise.all([lcs.find({ selects: true }).toArray(), all('clusterSelections')]));
    // How the backend runs them (FerretDB says whether it pushed the filter and the sort down to SQLite).
    const explainOf = async (cursor: { explain(): Promise<Document> }) => {
      const e = await cursor.explain().catch(() => ({}) as Document);
      const plan =
        (e.queryPlanner as
          | {
              Plan?: string[] | Document;
              winningPlan?: { stage?: string; inputStage?: { stage?: string; indexName?: string } };
            }
          | undefined) ?? {};
      if (plan.Plan)
        return `${Array.isArray(plan.Plan) ? plan.Plan.join('; ') : postgresPlan(plan.Plan)}; filterPushdown ${String(e.filterPushdown)}, sortPushdown ${String(e.sortPushdown)}`;
      const w = plan.winningPlan;
      return `${w?.stage ?? '?'}${w?.inputStage ? ` ← ${w.inputStage.stage ?? ''} ${w.inputStage.indexName ?? ''}` : ''}`;
    };
    const plans = {
      lookup: await explainOf(lcs.find({ project: PROJECT, name: lcName(1) })),
      // (FerretDB's explain refuses a skip.)
      page: await explainOf(lcs.find({ project: PROJECT }).sort({ name: 1 }).limit(middle.limit)),
      children: await explainOf(db.collection('userPermissions').find({ logicalCloudId: 'x' })),
      pageChildren: await explainOf(db.collection('userPermissions').find({ logicalCloudId: { $in: ['x', 'y'] } })),
    };

    // Creating through REST once the collection is large (these two are not counted in `total`).
    log(`scale: ${lateRest} more logical clouds through REST at ${total}`);
    const lateSamples: number[] = [];
    const createSamples: number[] = [];
    for (let i = total; i < total + lateRest; i++) {
      const { name, namespace, user } = lc(i);
      const post = await timed(() =>
        dcm.rest.expect('POST', `/v2/projects/${PROJECT}/logical-clouds`, 201, logicalCloudBody(name, namespace, user)),
      );
      const children = await timed(() => createChildren(dcm.rest, PROJECT, lc(i)));
      createSamples.push(post.ms);
      lateSamples.push(post.ms + children.ms);
    }
    for (let i = total; i < total + lateRest; i++) await dcm.rest.expect('DELETE', lcPath(PROJECT, lcName(i)), 204);
    remember('at the end');
    await dcm.stop();

    // The same DCM compiled ahead of time (production runs `node dist/main.js`), on the same database.
    log('scale: the DCM compiled ahead of time, same database, same requests (fewer)');
    const build = buildToTemp();
    const builtMemory: { label: string; m: ProcessMemory }[] = [];
    try {
      const built = await startChildDcm({
        mongoUrl: backends.mongoUrl,
        databaseName,
        encryptionKeys,
        builtMain: build.main,
      });
      const forgetBuilt = onExit(() => built.stop());
      try {
        builtMemory.push({ label: 'started', m: built.memory() });
        const few = { minSamples: opts.quick ? 2 : 3, maxSamples: opts.quick ? 2 : 3, budgetMs: 0 };
        await sampleLatency(built.rest, () => lcPath(PROJECT, lcName(Math.floor(Math.random() * total))), few);
        for (const page of [pageConfigs[0]!, pageConfigs[3]!]) await listPage(built.rest, page, few);
        builtMemory.push({ label: 'after GET and list requests', m: built.memory() });
      } finally {
        await built.stop();
        forgetBuilt();
      }
    } finally {
      build.remove();
    }

    // ---- report ----------------------------------------------------------------------------------
    const peak = Math.max(...memory.map((x) => x.m.peak));
    const rssAtSize = Math.max(...memory.slice(2).map((x) => x.m.rss));
    const builtPeak = Math.max(...builtMemory.map((x) => x.m.peak));
    const worstPage = pages.reduce((a, b) => (percentile(b.samples, 99) > percentile(a.samples, 99) ? b : a));
    const listP99 = percentile(worstPage.samples, 99);
    const targets: Target[] = [
      {
        target: `DCM RSS < 200 MB with ${fmt(total, 0)} logical clouds`,
        measured:
          `compiled (node dist/main.js form): peak ${mib(builtPeak)} (${mib(builtMemory[0]!.m.rss)} at start); ` +
          `under tsx: peak ${mib(peak)}, RSS ${mib(rssAtSize)} after seeding, ${mib(memory[0]!.m.rss)} at start with an empty database`,
        pass: builtPeak < 200 * 2 ** 20,
      },
      {
        target: `GET one logical cloud p99 < 30 ms with ${fmt(total, 0)} logical clouds`,
        measured: `p99 ${ms(percentile(getSamples, 99))}, p50 ${ms(percentile(getSamples, 50))} (n=${getSamples.length})`,
        pass: percentile(getSamples, 99) < 30,
      },
      {
        target: `create (POST logical cloud) p99 < 100 ms with ${fmt(total, 0)} logical clouds`,
        measured: `p99 ${ms(percentile(createSamples, 99))}, p50 ${ms(percentile(createSamples, 50))} (n=${createSamples.length})`,
        pass: percentile(createSamples, 99) < 100,
      },
      {
        target: `list pages p99 < 1 s with ${fmt(total, 0)} logical clouds`,
        measured: `worst p99 ${ms(listP99)} (limit ${worstPage.limit}, offset ${worstPage.offset}, n=${worstPage.samples.length}); best p50 ${ms(Math.min(...pages.map((p) => percentile(p.samples, 50))))}`,
        pass: pages.every((p) => percentile(p.samples, 99) < 1000),
      },
    ];
    const latencyRow = (label: string, s: number[]) => [
      label,
      s.length,
      ms(percentile(s, 50)),
      ms(percentile(s, 99)),
      ms(mean(s)),
      ms(Math.max(...s)),
    ];
    const restRate = viaRest / (restSeed.ms / 1000);
    const markdown = [
      `${fmt(total, 0)} logical clouds in one project, each with 2 permissions, 1 quota and 2 cluster references ` +
        `(${fmt(total * 6, 0)} documents), served by the DCM as a child process \`node --import tsx src/main.ts\` (pid ${dcm.pid}, log level warn). ` +
        `Latency: sequential requests over one keep-alive connection (no queueing), ${sampling.budgetMs / 1000} s or ${sampling.maxSamples} requests per row ` +
        `(at least ${sampling.minSamples}); with few samples p99 is the maximum.`,
      '',
      '**Seeding**',
      '',
      table(
        ['how', 'logical clouds', 'time', 'rate'],
        [
          [
            `REST API (POST logical cloud, 2 × POST reference, POST quota), ${restConcurrency} concurrent, into an empty collection`,
            viaRest,
            seconds(restSeed.ms),
            `${fmt(restRate, 1)} logical clouds/s (${fmt(restRate * 4, 0)} requests/s)`,
          ],
          [
            'insertMany of copies of a REST-created logical cloud, batches of 1,000',
            total - viaRest,
            seconds(bulkSeed.ms),
            `${fmt((total - viaRest) / (bulkSeed.ms / 1000), 0)} logical clouds/s`,
          ],
          [
            `REST API, one at a time, with ${fmt(total, 0)} stored`,
            lateRest,
            seconds(lateSamples.reduce((a, b) => a + b, 0)),
            `${ms(mean(lateSamples))} per logical cloud (4 requests); the POST of the logical cloud alone p50 ${ms(percentile(createSamples, 50))}, p99 ${ms(percentile(createSamples, 99))}`,
          ],
        ],
      ),
      '',
      `Through REST, ${fmt(total, 0)} logical clouds would take about ${roughly((total / restRate) * 1000)} at the rate into an empty collection, ` +
        `and about ${roughly(total * mean(lateSamples))} at the rate measured with ${fmt(total, 0)} stored (every create looks its name up: a scan in FerretDB's process on SQLite, in PostgreSQL on the PostgreSQL backend).`,
      '',
      `**Latency with ${fmt(total, 0)} logical clouds**`,
      '',
      table(
        ['request', 'n', 'p50', 'p99', 'mean', 'max'],
        [
          latencyRow('GET one logical cloud (random name)', getSamples),
          ...pages.map((p) => latencyRow(`list limit=${p.limit} offset=${p.offset}`, p.samples)),
        ],
      ),
      '',
      `**The same queries through the driver alone** (what the DCM's handlers ask the database, one after another as they do; no DCM involved):`,
      '',
      table(
        ['query', 'time'],
        [
          ['GET: findOne logical cloud by {project, name} (random name)', dbGet.map((g) => ms(g.lookup)).join(' / ')],
          [
            'GET: its permissions and cluster references ({logicalCloudId: id}, two queries in parallel)',
            dbGet.map((g) => ms(g.children)).join(' / '),
          ],
          [`list limit=${middle.limit} offset=${middle.offset}: find, sort by name, skip, limit`, ms(pageFind.ms)],
          ['list: countDocuments({project}) (X-Total-Count), in parallel with the page', ms(pageCount.ms)],
          [
            `list: permissions and cluster references of the ${middle.limit} (one equality per id, 8 at a time, both collections in parallel)`,
            ms(pageChildren.ms),
          ],
          [
            'selection follower, a periodic turn as before: every logical cloud and every cluster reference',
            ms(turnBefore.ms),
          ],
          ['selection follower, a periodic turn now: {selects: true} and the clusterSelections', ms(turnNow.ms)],
        ],
      ),
      '',
      `Query plans (explain): lookup by name: ${plans.lookup}; sorted page: ${plans.page}; a GET's children by equality: ${plans.children}; a page's children by $in: ${plans.pageChildren}.`,
      '',
      `The database's share of a GET is ${ms(mean(dbGet.map((g) => g.lookup + g.children)))} here against the DCM's p50 of ${ms(percentile(getSamples, 50))}, ` +
        `and of a list page ${ms(pageQuery.ms + pageChildren.ms)} against ${ms(percentile(pages[1]!.samples, 50))}: at this size the time is the database's.`,
      '',
      '**Memory of the DCM process** (/proc/<pid>/status)',
      '',
      table(
        ['process', 'when', 'VmRSS', 'VmHWM (peak so far)'],
        [
          ...memory.map((x) => ['node --import tsx src/main.ts', x.label, mib(x.m.rss), mib(x.m.peak)]),
          ...builtMemory.map((x) => [
            'node dist/main.js (compiled to a temp dir)',
            x.label,
            mib(x.m.rss),
            mib(x.m.peak),
          ]),
        ],
      ),
      '',
      'The target is judged on the compiled DCM, the form production runs (`npm run build && npm run start:prod`, the image): ' +
        'tsx compiles every module at start-up in the process and keeps the results and source maps, which the compiled DCM does not carry. ' +
        'The RSS hardly depends on the number of logical clouds stored: the DCM keeps none of them in memory (each request reads what it needs); ' +
        'what grows under load is the JavaScript heap between garbage collections.',
    ].join('\n');
    return { title: `Scale (${fmt(total, 0)} logical clouds)`, markdown, targets };
  } finally {
    await dcm.stop();
    forget();
    await mongo.close();
    await dropDatabase(backends.mongoUrl, databaseName).catch(() => undefined);
  }
}
