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
import { MongoClient } from 'mongodb';
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
import { sampleLatency } from './sample-latency.js';
import { databaseQueries } from './scale-queries.js';
import { PROJECT, PROVIDER, forEachConcurrently, lcName, namespaceOf, seedInBulk, userOf } from './scale-seed.js';

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
    const bulkSeed = await timed(() => seedInBulk(db, viaRest, total));
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
    const middle = pageConfigs[1]!;
    const queries = await databaseQueries(db, total, middle, opts.quick ? 2 : 3);

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
            'insertMany of copies of a REST-created logical cloud and its name entries, batches of 1,000',
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
      queries.markdown,
      '',
      `The database's share of a GET is ${ms(queries.getMs)} here against the DCM's p50 of ${ms(percentile(getSamples, 50))}, ` +
        `and of a list page ${ms(queries.pageMs)} against ${ms(percentile(pages[1]!.samples, 50))}: at this size the time is the database's.`,
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
