/**
 * Drift (issue 17 item 6): a DCM process (compiled, as production runs it) watching many
 * applied logical clouds on the 2 test clusters. Measured: how long after an admin deletes a
 * tenant's RoleBinding it is back (one deletion at a time, alternating clusters), and the
 * DCM's CPU and RSS while it only watches.
 */
import { CoreV1Api, KubeConfig, RbacAuthorizationV1Api } from '@kubernetes/client-node';
import { MongoClient } from 'mongodb';
import { pause, startSectionDcm } from './section-dcm.js';
import { createLogicalCloud, lcPath } from './dcm.js';
import {
  fmt,
  log,
  mib,
  ms,
  percentile,
  processCpuSeconds,
  seconds,
  table,
  type Backends,
  type BenchOptions,
  type SectionResult,
} from './env.js';

const BINDING = 'dcm-permission-2';

/** Runs `work` for 0..count-1, `concurrency` at a time. */
async function forEach(count: number, concurrency: number, work: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let i = next++; i < count; i = next++) await work(i);
    }),
  );
}

/**
 * Waits until every logical cloud of the project is Created (Instantiated). Read from the
 * lifecycle documents in one query every 2 s: asking the REST status of each pending logical
 * cloud would itself load the database (on FerretDB every such read scans its collections)
 * while the DCM applies.
 */
async function untilApplied(
  mongoUrl: string,
  databaseName: string,
  project: string,
  count: number,
  timeoutMs: number,
): Promise<void> {
  const mongo = await MongoClient.connect(mongoUrl);
  try {
    const lifecycle = mongo
      .db(databaseName)
      .collection<{ project: string; logicalCloud: string; state: string }>('lifecycle');
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const states = await lifecycle.find({ project }, { projection: { _id: 0, logicalCloud: 1, state: 1 } }).toArray();
      const failed = states.find((d) => d.state === 'InstantiateFailed');
      if (failed) throw new Error(`${failed.logicalCloud} failed to apply (see its status)`);
      const done = states.filter((d) => d.state === 'Instantiated').length;
      if (done === count) return;
      if (Date.now() > deadline) throw new Error(`${count - done} logical clouds not applied within ${timeoutMs} ms`);
      await pause(2000);
    }
  } finally {
    await mongo.close();
  }
}

/** Waits until the process has used less than `share` of a core over a window (it has settled), at most `timeoutMs`. */
async function untilQuiet(pid: number, share: number, windowMs: number, timeoutMs: number): Promise<number> {
  const started = Date.now();
  for (;;) {
    const before = processCpuSeconds(pid);
    await pause(windowMs);
    const used = (processCpuSeconds(pid) - before) / (windowMs / 1000);
    if (used < share || Date.now() - started > timeoutMs) return Date.now() - started;
  }
}

export async function driftRepair(backends: Backends, opts: BenchOptions): Promise<SectionResult> {
  // Full: 1,000 watched and 100 repairs (issue 17); on FerretDB applying 1,000 takes about 45 minutes, hence the knobs.
  const watchedCount = Number(process.env.BENCH_DRIFT_LOGICAL_CLOUDS ?? (opts.quick ? 40 : 1000));
  const repairCount = Math.min(watchedCount, Number(process.env.BENCH_DRIFT_REPAIRS ?? (opts.quick ? 10 : 100)));
  const idleMs = opts.quick ? 10_000 : 60_000;
  const [c1, c2] = backends.clusters;
  if (!c1 || !c2) throw new Error('the drift section needs the 2 test clusters');
  const project = `bench-drift-${opts.runId}`;
  const admins = [c1, c2].map((c) => {
    const kc = new KubeConfig();
    kc.loadFromFile(c.kubeconfigPath);
    return { rbac: kc.makeApiClient(RbacAuthorizationV1Api), core: kc.makeApiClient(CoreV1Api) };
  });
  const section = await startSectionDcm({
    backends,
    section: 'drift',
    runId: opts.runId,
    project,
    cores: admins.map((a) => a.core),
    env: { DCM_DRIFT_ENABLED: 'true' },
    withCaKeys: true,
  });
  const { dcm, databaseName } = section;
  try {
    const { rest } = dcm;
    const registeredAt = Date.now();
    const names = Array.from({ length: watchedCount }, (_, i) => `lc-${i}`);
    const namespace = (i: number) => `bdrift-${opts.runId}-${i}`;
    const applyStarted = Date.now();
    // In blocks of a tenth, each applied before the next: whether an apply slows down as more are stored and applied.
    const blockSize = Math.max(1, Math.round(watchedCount / 10));
    const blockMs: number[] = [];
    for (let from = 0; from < watchedCount; from += blockSize) {
      const to = Math.min(watchedCount, from + blockSize);
      const begun = Date.now();
      await forEach(to - from, 8, async (k) => {
        const i = from + k;
        await createLogicalCloud(rest, project, {
          name: names[i]!,
          namespace: namespace(i),
          user: `user-${i}`,
          references: [
            { name: 'cluster-1', provider: 'bench-drift', cluster: 'cluster-1' },
            { name: 'cluster-2', provider: 'bench-drift', cluster: 'cluster-2' },
          ],
        });
        await rest.expect('POST', `${lcPath(project, names[i]!)}/apply`, 200);
      });
      await untilApplied(backends.mongoUrl, databaseName, project, to, 60 * 60_000);
      blockMs.push((Date.now() - begun) / (to - from));
    }
    const applyMs = Date.now() - applyStarted;
    log(`drift: ${watchedCount} logical clouds applied on 2 clusters in ${seconds(applyMs)}`);

    // Idle: the DCM only watches, nothing changing. It reads the registered clusters every 30 s
    // (then watches the new ones and checks their logical clouds once): that is waited for first.
    const sinceRegistered = Date.now() - registeredAt;
    if (sinceRegistered < 35_000) await pause(35_000 - sinceRegistered);
    const settleMs = await untilQuiet(dcm.pid, 0.03, 5000, 10 * 60_000);
    const cpuBefore = processCpuSeconds(dcm.pid);
    await pause(idleMs);
    const idleCpu = (processCpuSeconds(dcm.pid) - cpuBefore) / (idleMs / 1000);
    const idleMemory = dcm.memory();
    log(`drift: idle ${fmt(idleCpu * 100, 2)}% of a core, RSS ${mib(idleMemory.rss)}`);

    // Repair: one deletion at a time, alternating clusters; the time until the RoleBinding is there again.
    const latencies: number[] = [];
    for (let i = 0; i < repairCount; i++) {
      const admin = admins[i % 2]!;
      const ns = namespace(i);
      const before = await admin.rbac.readNamespacedRoleBinding({ name: BINDING, namespace: ns });
      await admin.rbac.deleteNamespacedRoleBinding({ name: BINDING, namespace: ns });
      const deleted = performance.now();
      for (;;) {
        const now = await admin.rbac.readNamespacedRoleBinding({ name: BINDING, namespace: ns }).catch(() => undefined);
        if (now && now.metadata?.uid !== before.metadata?.uid) break;
        if (performance.now() - deleted > 120_000) throw new Error(`RoleBinding in ${ns} not restored within 120 s`);
        await pause(20);
      }
      latencies.push(performance.now() - deleted);
    }
    const events = await rest.expect('GET', `${lcPath(project, names[0]!)}/status`, 200);
    const recorded = ((events.body as { drift?: { action: string }[] }).drift ?? []).filter(
      (d) => d.action === 'restored',
    ).length;
    const p50 = percentile(latencies, 50);
    const p99 = percentile(latencies, 99);

    const markdown = [
      `A DCM process (compiled: \`node dist/main.js\`, pid ${dcm.pid}, log level warn, drift on with its defaults: DCM_DRIFT_DEBOUNCE_MS=500) ` +
        `watching ${watchedCount} applied logical clouds (the design's 2 permissions and a quota, on both test clusters: ` +
        `${watchedCount * 2} namespaces with their Roles, RoleBindings and ResourceQuotas). Applying them took ${seconds(applyMs)} (8 at a time, in blocks of ${blockSize}, each applied before the next; ` +
        `per logical cloud: ${blockMs.map((b) => ms(b)).join(', ')}).`,
      '',
      `**Repair**: an admin deletes the tenant's RoleBinding (\`${BINDING}\`) of one logical cloud, one at a time, alternating clusters, ${repairCount} times; ` +
        "measured from the delete call's answer to the RoleBinding being there again (a new uid; read every 20 ms).",
      '',
      table(
        ['deletions', 'p50', 'p99', 'max', 'min'],
        [[repairCount, ms(p50), ms(p99), ms(Math.max(...latencies)), ms(Math.min(...latencies))]],
      ),
      '',
      `The DCM waits DCM_DRIFT_DEBOUNCE_MS (500 ms) after the last change before it checks, so a burst is one check; the rest is the check and repair under the logical cloud's lease (the cluster's apply pipeline: namespace, certificate, RBAC, quota). ` +
        `The first logical cloud's status lists ${recorded} restored drift event(s).`,
      '',
      `**Idle**: once the DCM watched both clusters and had checked their logical clouds (at least 35 s after the clusters were registered, then ${seconds(settleMs)} until it used under 3% of a core over 5 s), ${seconds(idleMs)} with nothing changing:`,
      '',
      table(
        ['logical clouds watched', 'watches', 'CPU (share of one core)', 'RSS', 'peak RSS'],
        [
          [
            watchedCount,
            '10 kinds × 2 clusters',
            `${fmt(idleCpu * 100, 2)}%`,
            mib(idleMemory.rss),
            mib(idleMemory.peak),
          ],
        ],
      ),
      '',
      'The watches are per cluster and kind (label-selected), not per logical cloud: what grows with the logical clouds is only the content hash kept per watched object (to tell a status update from drift).',
    ].join('\n');
    return {
      title: 'Drift repair and idle watching',
      markdown,
      targets: [
        {
          target: `applying ${watchedCount} logical clouds on the 2 clusters: the last ${blockSize} at most 1.5× as long per logical cloud as the first ${blockSize}`,
          measured: `first ${ms(blockMs[0]!)}, last ${ms(blockMs.at(-1)!)} per logical cloud (× ${fmt(blockMs.at(-1)! / blockMs[0]!, 2)})`,
          pass: blockMs.at(-1)! <= 1.5 * blockMs[0]!,
        },
        {
          target: `repair of a deleted RoleBinding within the 60 s bound (${repairCount} deletions)`,
          measured: `p50 ${ms(p50)}, p99 ${ms(p99)}`,
          pass: p99 < 60_000,
        },
      ],
    };
  } finally {
    await section.close();
  }
}
