/**
 * Overall quotas (issue 25): a DCM process (compiled, as production runs it) with dynamic
 * budgets (`pods: 4`) on logical clouds spanning the 2 test clusters. Measured: how long after a
 * cluster's quota usage changes (its budget quota's `status.used`) the new split is written
 * (`spec.hard`), over many changes at the default DCM_BUDGET_REBALANCE_MS; and the DCM's extra
 * idle CPU for the logical clouds once each has a dynamic budget.
 */
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { pause, startSectionDcm } from './section-dcm.js';
import { createLogicalCloud, lcPath } from './dcm.js';
import {
  fmt,
  log,
  ms,
  percentile,
  processCpuSeconds,
  seconds,
  table,
  type Backends,
  type BenchOptions,
  type SectionResult,
} from './env.js';

const QUOTA = 'dcm-budget-total';

/** Polls (every 20 ms) until `condition` holds; its time, or an error after `timeoutMs`. */
async function when(condition: () => Promise<boolean>, what: string, timeoutMs = 60_000): Promise<number> {
  const started = performance.now();
  for (;;) {
    if (await condition()) return performance.now();
    if (performance.now() - started > timeoutMs) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await pause(20);
  }
}

async function idleCpu(pid: number, windowMs: number): Promise<number> {
  const before = processCpuSeconds(pid);
  await pause(windowMs);
  return (processCpuSeconds(pid) - before) / (windowMs / 1000);
}

export async function budget(backends: Backends, opts: BenchOptions): Promise<SectionResult> {
  const logicalClouds = Number(process.env.BENCH_BUDGET_LOGICAL_CLOUDS ?? (opts.quick ? 10 : 100));
  const changes = Number(process.env.BENCH_BUDGET_CHANGES ?? (opts.quick ? 10 : 100));
  const idleMs = opts.quick ? 10_000 : 60_000;
  const [c1, c2] = backends.clusters;
  if (!c1 || !c2) throw new Error('the budget section needs the 2 test clusters');
  const project = `bench-budget-${opts.runId}`;
  const namespace = (i: number) => `bbudget-${opts.runId}-${i}`;
  const cores = [c1, c2].map((c) => {
    const kc = new KubeConfig();
    kc.loadFromFile(c.kubeconfigPath);
    return kc.makeApiClient(CoreV1Api);
  });
  const section = await startSectionDcm({
    backends,
    section: 'budget',
    runId: opts.runId,
    project,
    cores,
    env: { DCM_DRIFT_ENABLED: 'false' },
  });
  const { dcm } = section;
  try {
    const { rest } = dcm;
    for (let i = 0; i < logicalClouds; i++) {
      await createLogicalCloud(rest, project, {
        name: `lc-${i}`,
        namespace: namespace(i),
        user: `user-${i}`,
        references: [
          { name: 'cluster-1', provider: 'bench-budget', cluster: 'cluster-1' },
          { name: 'cluster-2', provider: 'bench-budget', cluster: 'cluster-2' },
        ],
      });
      await rest.expect('POST', `${lcPath(project, `lc-${i}`)}/apply`, 200);
    }
    const applied = async (i: number) =>
      ((await rest.expect('GET', `${lcPath(project, `lc-${i}`)}/status`, 200)).body as { state: string }).state ===
      'Instantiated';
    for (let i = 0; i < logicalClouds; i++) await when(() => applied(i), `lc-${i} applied`, 30 * 60_000);
    const baseline = await idleCpu(dcm.pid, idleMs);
    for (let i = 0; i < logicalClouds; i++)
      await rest.expect('POST', `${lcPath(project, `lc-${i}`)}/overall-quotas`, 201, {
        metadata: { name: 'total' },
        spec: { hard: { pods: '4' } },
      });
    const hard = async (c: number, i: number) =>
      (await cores[c]!.readNamespacedResourceQuota({ name: QUOTA, namespace: namespace(i) }).catch(() => undefined))
        ?.spec?.hard?.pods;
    for (let i = 0; i < logicalClouds; i++)
      await when(async () => (await hard(0, i)) === '2' && (await hard(1, i)) === '2', `lc-${i} split 2 / 2`);
    const withBudgets = await idleCpu(dcm.pid, idleMs);
    log(`budget: idle ${fmt(baseline * 100, 2)}% → ${fmt(withBudgets * 100, 2)}% of a core`);

    // Changes on lc-0: 2 pods on one cluster (it is at its share: it gets all 4), then deleted (back to 2 / 2).
    const ns = namespace(0);
    const quota = async (c: number) => cores[c]!.readNamespacedResourceQuota({ name: QUOTA, namespace: ns });
    const latencies: number[] = [];
    for (let n = 0; latencies.length < changes; n++) {
      const c = n % 2;
      for (let p = 0; p < 2; p++)
        await cores[c]!.createNamespacedPod({
          namespace: ns,
          body: {
            metadata: { name: `b-${n}-${p}` },
            spec: { containers: [{ name: 'c', image: 'registry.invalid/none' }] },
          },
        });
      const used = await when(async () => (await quota(c)).status?.used?.pods === '2', 'usage 2 seen');
      const moved = await when(async () => (await quota(c)).spec?.hard?.pods === '4', 'the budget moved');
      latencies.push(moved - used);
      for (let p = 0; p < 2; p++) await cores[c]!.deleteNamespacedPod({ name: `b-${n}-${p}`, namespace: ns });
      const freed = await when(async () => (await quota(c)).status?.used?.pods === '0', 'usage 0 seen');
      const back = await when(async () => (await hard(0, 0)) === '2' && (await hard(1, 0)) === '2', 'split back 2 / 2');
      latencies.push(back - freed);
    }
    const p50 = percentile(latencies, 50);
    const p99 = percentile(latencies, 99);
    const extraPer100 = ((withBudgets - baseline) * 100) / logicalClouds;
    const markdown = [
      `A DCM process (compiled: \`node dist/main.js\`, drift off, DCM_BUDGET_REBALANCE_MS at its default 5,000: clusters read every 2.5 s) ` +
        `with ${logicalClouds} applied logical clouds on both test clusters, each with a dynamic overall quota \`pods: 4\`.`,
      '',
      `**Rebalancing**: ${latencies.length} usage changes on one logical cloud (2 pods created on one cluster, which then gets all 4; ` +
        'the 2 deleted, back to 2 / 2), measured from the budget quota showing the new `status.used` to the new `spec.hard` (read every 20 ms).',
      '',
      table(
        ['changes', 'p50', 'p99', 'max', 'min'],
        [[latencies.length, ms(p50), ms(p99), ms(Math.max(...latencies)), ms(Math.min(...latencies))]],
      ),
      '',
      `**Idle CPU** over ${seconds(idleMs)}, the same logical clouds without and with their budgets:`,
      '',
      table(
        ['logical clouds', 'without budgets', 'with dynamic budgets', 'extra per 100 logical clouds'],
        [
          [
            logicalClouds,
            `${fmt(baseline * 100, 2)}%`,
            `${fmt(withBudgets * 100, 2)}%`,
            `${fmt(extraPer100 * 100, 2)}%`,
          ],
        ],
      ),
      '',
      'Each pass reads every budget quota of every logical cloud (one GET per cluster) and writes only what changed.',
    ].join('\n');
    return {
      title: 'Overall quota rebalancing',
      markdown,
      targets: [
        {
          target: `a usage change reflected within DCM_BUDGET_REBALANCE_MS (5 s) at p99 (${latencies.length} changes, 2 clusters)`,
          measured: `p50 ${ms(p50)}, p99 ${ms(p99)}`,
          pass: p99 < 5000,
        },
      ],
    };
  } finally {
    await section.close();
  }
}
