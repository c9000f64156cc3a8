/**
 * Clusters chosen by labels (issue 26, docs/cluster-selection.md):
 *
 * 1. Re-evaluation of one relabel with 1,000 logical clouds and 100 registered clusters, no
 *    cluster work: the in-memory index picks the candidate logical clouds, and each candidate's
 *    selection and reference changes are computed (the follower's CPU work). Also a full
 *    evaluation of every logical cloud, all selecting here (the periodic check's CPU work; it
 *    reads only the logical clouds that select, see the scale section for its reads).
 * 2. On a real cluster: the time from a relabel (PUT, no further request) to the logical cloud
 *    applied there, and from removing the label to it terminated there (p50/p99).
 */
import type { ClusterSelector } from '../src/domain/logical-cloud.js';
import type { SelectableCluster } from '../src/features/cluster-selection/cluster-selector.js';
import { ClusterSelectorSchema, selectorData } from '../src/features/cluster-selection/cluster-selector.schema.js';
import { SelectionIndex } from '../src/features/cluster-selection/selection-index.js';
import { evaluateSelection, referenceChanges } from '../src/features/cluster-selection/selection-plan.js';
import { createProject, lcPath, logicalCloudBody, registerClusters, startInProcessDcm, design } from './dcm.js';
import { log, ms, percentile, seconds, table, type Backends, type BenchOptions, type SectionResult } from './env.js';

const LOGICAL_CLOUDS = 1000;
const CLUSTERS = 100;

/** A fleet of 100 clusters and 1,000 selectors of the kinds operators write. */
function fleet(): { clusters: SelectableCluster[]; selectors: ClusterSelector[] } {
  const clusters = Array.from({ length: CLUSTERS }, (_, i) => ({
    provider: `provider-${i % 4}`,
    name: `cluster-${i}`,
    labels: { site: `site-${i % 50}`, region: `region-${i % 5}`, tier: i % 3 === 0 ? 'edge' : 'core' },
  }));
  const selectors = Array.from({ length: LOGICAL_CLOUDS }, (_, i) => {
    const kind = i % 10;
    const body =
      kind < 7
        ? { matchLabels: { site: `site-${i % 50}` }, matchExpressions: [{ key: 'tier', operator: 'Exists' }] }
        : kind < 9
          ? {
              matchExpressions: [
                { key: 'region', operator: 'In', values: [`region-${i % 5}`, `region-${(i + 1) % 5}`] },
              ],
            }
          : {
              providers: [`provider-${i % 4}`],
              matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['core'] }],
            };
    return selectorData(ClusterSelectorSchema.parse(body));
  });
  return { clusters, selectors };
}

const cpuMs = (work: () => void): number => {
  const before = process.cpuUsage();
  work();
  const used = process.cpuUsage(before);
  return (used.user + used.system) / 1000;
};

function reEvaluation(quick: boolean) {
  const { clusters, selectors } = fleet();
  const index = new SelectionIndex();
  selectors.forEach((s, i) => index.set(`lc-${i}`, s));
  const evaluate = (ids: Iterable<string>) => {
    for (const id of ids) {
      const selector = selectors[Number(id.slice(3))];
      const selection = evaluateSelection({ selector, clusters, admitted: () => true });
      referenceChanges(selection, [], clusters, 'Terminate');
    }
  };
  const relabel: number[] = [];
  const full: number[] = [];
  let candidates = 0;
  for (let round = 0; round < (quick ? 5 : 30); round++) {
    const c = clusters[round % CLUSTERS]!;
    const after = { ...c.labels, site: `site-${(round + 7) % 50}` };
    relabel.push(
      cpuMs(() => {
        const ids = index.candidates(c.labels, after);
        candidates = ids.size;
        evaluate(ids);
      }),
    );
    full.push(cpuMs(() => evaluate(selectors.map((_, i) => `lc-${i}`))));
  }
  return { relabel, full, candidates };
}

/** Relabel → applied and unlabel → terminated on the second test cluster, measured from the PUT. */
async function onRealClusters(backends: Backends, opts: BenchOptions) {
  const t = await startInProcessDcm({
    mongoUrl: backends.mongoUrl,
    databaseName: `bench_${opts.runId}_selection`,
    config: { DCM_CLUSTER_TIMEOUT_MS: 10_000, DCM_SELECTION_INTERVAL_MS: 10_000 },
  });
  const project = 'bench-selection';
  const name = `lc-sel-${opts.runId}`;
  const namespace = `ns-sel-${opts.runId}`;
  const applied: number[] = [];
  const terminated: number[] = [];
  try {
    await t.dcm.services.jobs.start(['following the fleet']);
    await createProject(t.rest, project);
    await registerClusters(t.rest, 'edge', [
      { name: 'cluster-1', cluster: backends.clusters[0]! },
      { name: 'cluster-2', cluster: backends.clusters[1]! },
    ]);
    const relabel = (cluster: string, labels: Record<string, string>) =>
      t.rest.expect('PUT', `/v2/cluster-providers/edge/clusters/${cluster}`, 200, {
        metadata: { name: cluster },
        spec: { labels },
      });
    await relabel('cluster-1', { bench: 'yes' });
    await t.rest.expect('PUT', `/v2/projects/${project}/policy`, 200, { spec: { clusters: { providers: ['edge'] } } });
    const body = logicalCloudBody(name, namespace, `user-sel-${opts.runId}`) as ReturnType<typeof logicalCloudBody> & {
      spec: Record<string, unknown>;
    };
    body.spec.clusterSelector = { matchLabels: { bench: 'yes' } };
    await t.rest.expect('POST', `/v2/projects/${project}/logical-clouds`, 201, body);
    await t.rest.expect('POST', `${lcPath(project, name)}/cluster-quotas`, 201, design.quota());
    await t.rest.expect('POST', `${lcPath(project, name)}/apply`, 200);
    await t.dcm.services.lifecycle.settled(project, name);
    const status = async () =>
      (await t.rest.expect('GET', `${lcPath(project, name)}/status`, 200)).body as {
        operation: { inProgress: boolean } | null;
        clusters: { 'cluster-reference': string; state: string }[];
      };
    const until = async (done: () => Promise<boolean>) => {
      const started = Date.now();
      while (!(await done())) {
        if (Date.now() - started > 120_000)
          throw new Error(`no change within 120 s; status: ${JSON.stringify(await status()).slice(0, 2000)}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    };
    for (let round = 0; round < (opts.quick ? 2 : 6); round++) {
      let started = performance.now();
      await relabel('cluster-2', { bench: 'yes' });
      await until(async () =>
        (await status()).clusters.some((c) => c['cluster-reference'] === 'cluster-2' && c.state === 'Applied'),
      );
      applied.push(performance.now() - started);
      await t.dcm.services.lifecycle.settled(project, name);
      started = performance.now();
      await relabel('cluster-2', {});
      await until(async () => {
        const s = await status();
        return s.operation?.inProgress === false && !s.clusters.some((c) => c['cluster-reference'] === 'cluster-2');
      });
      terminated.push(performance.now() - started);
      log(`selection round ${round + 1}: applied ${ms(applied.at(-1)!)}, terminated ${ms(terminated.at(-1)!)}`);
    }
    await t.rest.expect('POST', `${lcPath(project, name)}/terminate`, 202);
    await t.dcm.services.lifecycle.settled(project, name);
  } finally {
    await t.dcm.services.jobs.stop();
    await t.close();
  }
  return { applied, terminated };
}

export async function selection(backends: Backends, opts: BenchOptions): Promise<SectionResult> {
  const cpu = reEvaluation(opts.quick);
  const real = await onRealClusters(backends, opts);
  const worst = Math.max(...cpu.relabel);
  const markdown = [
    `Re-evaluation, no cluster work: ${LOGICAL_CLOUDS} logical clouds (70 % \`matchLabels\` on a site, 20 % \`In\` on ` +
      `regions, 10 % \`NotIn\` with providers) and ${CLUSTERS} clusters; CPU of this process (user + system).`,
    '',
    table(
      ['what', 'candidates', 'p50', 'p99', 'max'],
      [
        [
          'one relabel (index → candidates → selection and reference changes)',
          cpu.candidates,
          ms(percentile(cpu.relabel, 50)),
          ms(percentile(cpu.relabel, 99)),
          ms(worst),
        ],
        [
          'every logical cloud, all selecting (the periodic check)',
          LOGICAL_CLOUDS,
          ms(percentile(cpu.full, 50)),
          ms(percentile(cpu.full, 99)),
          ms(Math.max(...cpu.full)),
        ],
      ],
    ),
    '',
    'The database reads of a followed change (each candidate logical cloud, its references and selection ' +
      'state, its project policy) come on top; they filter by `_id`, the logical cloud id or `selects` only ' +
      '(the periodic check reads the logical clouds with `{selects: true}`, never all of them).',
    '',
    'On a real cluster: relabel (PUT) → applied there, and label removed → terminated there (namespace gone), ' +
      `${real.applied.length} rounds, no further request:`,
    '',
    table(
      ['', 'p50', 'p99'],
      [
        ['relabel → applied', seconds(percentile(real.applied, 50)), seconds(percentile(real.applied, 99))],
        ['unlabel → terminated', seconds(percentile(real.terminated, 50)), seconds(percentile(real.terminated, 99))],
      ],
    ),
  ].join('\n');
  return {
    title: 'Cluster selection',
    markdown,
    targets: [
      {
        target: `one relabel re-evaluated, ${LOGICAL_CLOUDS} logical clouds × ${CLUSTERS} clusters < 1 s CPU`,
        measured: ms(worst),
        pass: worst < 1000,
      },
      {
        target: 'relabel → applied on the cluster < 60 s',
        measured: `p99 ${seconds(percentile(real.applied, 99))}`,
        pass: percentile(real.applied, 99) < 60_000,
      },
      {
        target: 'unlabel → terminated on the cluster < 60 s',
        measured: `p99 ${seconds(percentile(real.terminated, 99))}`,
        pass: percentile(real.terminated, 99) < 60_000,
      },
    ],
  };
}
