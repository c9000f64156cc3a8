/**
 * Apply fan-out: wall time from POST …/apply to Created (state Instantiated) of a logical
 * cloud referencing 1, 2, 4 and 8 clusters. Extra test clusters are started for it (and
 * stopped by PID at the end). The DCM runs in this process, composed by the composition root
 * with two probes that change nothing it does: every call it makes to a cluster is timed
 * (through the composition root's gateway provider), and its key generation and per-cluster
 * status writes are timed (wrapping two store methods of this instance) — which is how the
 * section tells where the time of an apply goes, and how many clusters were worked at once.
 */
import fs from 'node:fs';
import os from 'node:os';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { defaultConfig } from '../src/config.js';
import type { ClusterGateway, ClusterGatewayProvider } from '../src/kubernetes/cluster-gateway.js';
import { createClusterGateway } from '../src/kubernetes/kube-cluster-gateway.js';
import type { ClusterStatus } from '../src/features/lifecycle/lifecycle-status.store.js';
import { startExtraClusters, type ExtraClusters } from './clusters.js';
import {
  createLogicalCloud,
  createProject,
  lcPath,
  registerClusters,
  startInProcessDcm,
  type InProcessDcm,
} from './dcm.js';
import type { Backends, BenchCluster, BenchOptions, SectionResult, Target } from './env.js';
import { fmt, log, machineCpuSeconds, mean, median, ms, processCpuSeconds, seconds, table } from './env.js';

const PROJECT = 'bench';
const PROVIDER = 'bench-fanout';

/** What one cluster of one apply did, seen from its connection. */
interface ClusterTrace {
  cluster: string;
  first: number;
  last: number;
  calls: number;
  callMs: number;
}

interface ApplyRun {
  size: number;
  repeat: number;
  wallMs: number;
  state: string;
  traces: ClusterTrace[];
  /** Cluster work started → first call to a cluster. */
  beforeClustersMs: number;
  /** Last call to a cluster → Created. */
  afterClustersMs: number;
  keyGenerations: number;
  keyGenerationMs: number;
  statusWrites: number;
  statusWriteMs: number;
  maxApplying: number;
  /** Machine busy CPU seconds / wall seconds (2 cores: at most 2). */
  busyCores: number;
  /** CPU seconds by process group during the apply. */
  cpu: Record<string, number>;
  errors: string[];
}

/** The probes on one composed DCM. */
class Probes {
  traces: ClusterTrace[] = [];
  keyGenerations = 0;
  keyGenerationMs = 0;
  statusWrites = 0;
  statusWriteMs = 0;
  applying = new Map<string, Map<string, string>>();
  maxApplying = 0;
  /** Told when the apply of a logical cloud (by id) wrote its outcome. */
  readonly applyFinished = new Map<string, (at: number) => void>();

  reset(): void {
    this.traces = [];
    this.keyGenerations = this.keyGenerationMs = this.statusWrites = this.statusWriteMs = this.maxApplying = 0;
  }

  /**
   * "Before the baseline": the calls the isolation controller makes (its LimitRange and
   * NetworkPolicy, the guard, whoAmI) are answered here without reaching the cluster, so an apply
   * costs what it cost before namespaces were isolated.
   */
  skipIsolation = false;

  /** The composition root's gateway provider, as production's, with every call timed. */
  gateways(timeoutMs: number): ClusterGatewayProvider {
    const skipping = () => this.skipIsolation;
    const gatewayFor = (cluster: { name: string }, secrets: { kubeconfig: string }): ClusterGateway => {
      const connection = createClusterGateway(secrets.kubeconfig, timeoutMs);
      const trace: ClusterTrace = { cluster: cluster.name, first: NaN, last: NaN, calls: 0, callMs: 0 };
      this.traces.push(trace);
      return new Proxy(connection, {
        get(target, prop, receiver) {
          const value: unknown = Reflect.get(target, prop, receiver);
          if (typeof value !== 'function' || prop === 'close') return value;
          return async (...args: unknown[]) => {
            if (skipping()) {
              const skipped = isolationCall(String(prop), args);
              if (skipped) return skipped.answer;
            }
            const started = performance.now();
            if (Number.isNaN(trace.first)) trace.first = started;
            try {
              return await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
            } finally {
              const ended = performance.now();
              trace.last = Number.isNaN(trace.last) ? ended : Math.max(trace.last, ended);
              trace.calls++;
              trace.callMs += ended - started;
            }
          };
        },
      });
    };
    return { gatewayFor };
  }

  /** Wraps the instance's key generation and per-cluster status writes. */
  install(t: InProcessDcm): void {
    const credentials = t.dcm.stores.credentials;
    const prepareGeneration = credentials.prepareGeneration.bind(credentials);
    credentials.prepareGeneration = (id: string, bits: number, generate: () => Promise<string>, wanted?: string) =>
      prepareGeneration(
        id,
        bits,
        async () => {
          this.keyGenerations++;
          const started = performance.now();
          try {
            return await generate();
          } finally {
            this.keyGenerationMs += performance.now() - started;
          }
        },
        wanted,
      );
    const lifecycle = t.dcm.stores.lifecycle;
    const put = lifecycle.put.bind(lifecycle);
    lifecycle.put = async (...args: Parameters<typeof put>) => {
      await put(...args);
      const [doc] = args;
      if (doc.operation.kind === 'apply' && !doc.operation.inProgress)
        this.applyFinished.get(doc._id)?.(performance.now());
    };
    const setClusters = lifecycle.setClusters.bind(lifecycle);
    lifecycle.setClusters = async (id: string, statuses: ClusterStatus[]) => {
      const states = this.applying.get(id) ?? new Map<string, string>();
      this.applying.set(id, states);
      for (const status of statuses) states.set(status.reference, status.state);
      this.maxApplying = Math.max(this.maxApplying, [...states.values()].filter((s) => s === 'Applying').length);
      const started = performance.now();
      try {
        return await setClusters(id, statuses);
      } finally {
        this.statusWrites++;
        this.statusWriteMs += performance.now() - started;
      }
    };
  }
}

const ISOLATION_KINDS = new Set([
  'LimitRange',
  'NetworkPolicy',
  'ValidatingAdmissionPolicy',
  'ValidatingAdmissionPolicyBinding',
]);

/** A call the isolation controller makes, with what answering it without the cluster returns; undefined for the others. */
function isolationCall(method: string, args: unknown[]): { answer: unknown } | undefined {
  const kindOf = (a: unknown) => (a as { kind?: string } | undefined)?.kind ?? '';
  if (method === 'whoAmI') return { answer: { username: 'bench', groups: [] } };
  if ((method === 'apply' || method === 'read') && ISOLATION_KINDS.has(kindOf(args[0])))
    return { answer: method === 'apply' ? args[0] : undefined };
  if (method === 'list' && ISOLATION_KINDS.has(String(args[1]))) return { answer: [] };
  return undefined;
}

interface Group {
  name: string;
  pids: number[];
}

function cpuSnapshot(groups: Group[]): Record<string, number> {
  const snapshot: Record<string, number> = {
    'DCM + benchmark (this process)': process.cpuUsage().user / 1e6 + process.cpuUsage().system / 1e6,
  };
  for (const g of groups)
    snapshot[g.name] = g.pids
      .map(processCpuSeconds)
      .filter((v) => !Number.isNaN(v))
      .reduce((a, b) => a + b, 0);
  return snapshot;
}

/** Applies one logical cloud and waits for the apply to write its outcome. */
async function applyOnce(
  t: InProcessDcm,
  probes: Probes,
  groups: Group[],
  lc: string,
  size: number,
  repeat: number,
): Promise<ApplyRun> {
  const record = await t.dcm.stores.logicalClouds.get({ project: PROJECT }, lc);
  if (!record) throw new Error(`${lc} not stored`);
  probes.reset();
  const cpuBefore = cpuSnapshot(groups);
  const machineBefore = machineCpuSeconds();
  const started = performance.now();
  // Told by the probe on the status store's put (no read of the status per write, which would load the database).
  let timer: NodeJS.Timeout | undefined;
  const finished = new Promise<number>((resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${lc}: apply not finished within 300 s`)), 300_000);
    probes.applyFinished.set(record.id, resolve);
  });
  try {
    await t.rest.expect('POST', `${lcPath(PROJECT, lc)}/apply`, 200);
    const ended = await finished;
    const machineAfter = machineCpuSeconds();
    const cpuAfter = cpuSnapshot(groups);
    const status = (await t.rest.expect('GET', `${lcPath(PROJECT, lc)}/status`, 200)).body as {
      status: string;
      clusters: {
        'cluster-reference': string;
        errors?: string[];
        resources?: { status: string; message?: string }[];
      }[];
    };
    const errors = status.clusters.flatMap((c) => [
      ...(c.errors ?? []),
      ...(c.resources ?? [])
        .filter((r) => r.status === 'Failed')
        .map((r) => `${c['cluster-reference']}: ${r.message ?? 'failed'}`),
    ]);
    const traces = probes.traces.filter((tr) => !Number.isNaN(tr.first));
    const first = Math.min(...traces.map((tr) => tr.first));
    const last = Math.max(...traces.map((tr) => tr.last));
    const wallMs = ended - started;
    return {
      size,
      repeat,
      wallMs,
      state: status.status,
      traces,
      beforeClustersMs: first - started,
      afterClustersMs: ended - last,
      keyGenerations: probes.keyGenerations,
      keyGenerationMs: probes.keyGenerationMs,
      statusWrites: probes.statusWrites,
      statusWriteMs: probes.statusWriteMs,
      maxApplying: probes.maxApplying,
      busyCores: (machineAfter.busy - machineBefore.busy) / (wallMs / 1000),
      cpu: Object.fromEntries(Object.keys(cpuAfter).map((k) => [k, cpuAfter[k]! - (cpuBefore[k] ?? 0)])),
      errors,
    };
  } finally {
    clearTimeout(timer);
    probes.applyFinished.delete(record.id);
  }
}

/** A DCM on its own database with the clusters registered as c1…cN; the probes installed. */
async function composeFanOutDcm(
  backends: Backends,
  opts: BenchOptions,
  clusters: BenchCluster[],
  concurrency: number,
  tag: string,
) {
  const probes = new Probes();
  const timeoutMs = defaultConfig().DCM_CLUSTER_TIMEOUT_MS;
  const t = await startInProcessDcm({
    mongoUrl: backends.mongoUrl,
    databaseName: `bench_${opts.runId}_fanout_${tag}`,
    config: { DCM_APPLY_CONCURRENCY: concurrency },
    gateways: probes.gateways(timeoutMs),
  });
  probes.install(t);
  await createProject(t.rest, PROJECT);
  await registerClusters(
    t.rest,
    PROVIDER,
    clusters.map((cluster, i) => ({ name: `c${i + 1}`, cluster })),
  );
  return { t, probes };
}

/** Terminates the logical clouds (removing their namespaces, users' CSRs, roles and quotas from the clusters) and waits. */
async function terminateAll(t: InProcessDcm, lcs: string[]): Promise<string[]> {
  const problems: string[] = [];
  for (const lc of lcs) {
    const res = await t.rest.request('POST', `${lcPath(PROJECT, lc)}/terminate`);
    if (res.status !== 202) problems.push(`${lc}: terminate answered ${res.status}`);
  }
  await t.dcm.services.lifecycle.idle();
  for (const lc of lcs) {
    const status = (await t.rest.request('GET', `${lcPath(PROJECT, lc)}/status`)).body as { status?: string };
    if (status.status !== 'Terminated') problems.push(`${lc}: ${status.status ?? 'no status'} after terminate`);
  }
  return problems;
}

/** Last resort on the shared clusters: deletes this run's namespaces that terminate left. */
async function removeNamespaces(clusters: BenchCluster[], prefix: string): Promise<void> {
  for (const cluster of clusters) {
    const kc = new KubeConfig();
    kc.loadFromFile(cluster.kubeconfigPath);
    const core = kc.makeApiClient(CoreV1Api);
    const namespaces = (await core.listNamespace()).items
      .filter((n) => n.status?.phase !== 'Terminating')
      .map((n) => n.metadata?.name ?? '')
      .filter((n) => n.startsWith(prefix));
    for (const name of namespaces) await core.deleteNamespace({ name }).catch(() => undefined);
    if (namespaces.length > 0) log(`fan-out: deleted ${namespaces.length} leftover namespaces on ${cluster.name}`);
  }
}

export async function fanOut(backends: Backends, opts: BenchOptions): Promise<SectionResult> {
  const sizes = opts.quick ? [1, 2] : [1, 2, 4, 8];
  const repeats = opts.quick ? 2 : 5;
  const maxSize = Math.max(...sizes);
  const configured = process.env.DCM_APPLY_CONCURRENCY ? Number(process.env.DCM_APPLY_CONCURRENCY) : undefined;
  const concurrency = configured ?? defaultConfig().DCM_APPLY_CONCURRENCY;
  const boundedConcurrency = opts.quick ? 1 : 2;
  const prefix = `bench-${opts.runId}-`;

  let extra: ExtraClusters | undefined;
  const composed: InProcessDcm[] = [];
  try {
    const standing = backends.clusters.slice(0, Math.min(2, maxSize));
    if (maxSize > standing.length) {
      const numbers = Array.from({ length: maxSize - standing.length }, (_, i) => standing.length + i + 1);
      log(`fan-out: starting ${numbers.length} more clusters (bench-cluster-${numbers.join(', -')})`);
      extra = await startExtraClusters(backends, numbers);
      log(`fan-out: clusters up in ${seconds(extra.startMs)}`);
    }
    const clusters = [...standing, ...(extra?.clusters ?? [])];
    const groups: Group[] = [
      ...['kube-apiserver', 'kube-controller-manager', 'etcd', 'ferretdb', 'mongod'].map((kind) => ({
        name: kind,
        pids: backends.processes.filter((p) => p.name.endsWith(kind)).map((p) => p.pid),
      })),
    ].filter((g) => g.pids.length > 0);
    if (extra) {
      // Started in apiserver, controller-manager order per cluster.
      groups.find((g) => g.name === 'kube-apiserver')?.pids.push(...extra.pids.filter((_, i) => i % 2 === 0));
      groups.find((g) => g.name === 'kube-controller-manager')?.pids.push(...extra.pids.filter((_, i) => i % 2 === 1));
    }

    // ---- the measured applies ----------------------------------------------------------------
    const { t, probes } = await composeFanOutDcm(backends, opts, clusters, concurrency, 'main');
    composed.push(t);
    const lcName = (size: number, repeat: number) => `fan-${size}-${repeat}`;
    const created: string[] = [];
    const runs: ApplyRun[] = [];
    const withoutBaseline: ApplyRun[] = [];
    try {
      for (let repeat = 1; repeat <= repeats; repeat++) {
        for (const size of sizes) {
          const name = lcName(size, repeat);
          await createLogicalCloud(t.rest, PROJECT, {
            name,
            namespace: `${prefix}f${size}-${repeat}`,
            user: `${prefix}u${size}-${repeat}`,
            references: clusters
              .slice(0, size)
              .map((_, i) => ({ name: `c${i + 1}`, provider: PROVIDER, cluster: `c${i + 1}` })),
          });
          created.push(name);
          const measured = async () => {
            log(`fan-out: apply to ${size} cluster(s), repeat ${repeat}/${repeats}`);
            const run = await applyOnce(t, probes, groups, name, size, repeat);
            if (run.state !== 'Created') throw new Error(`${name}: ${run.state}: ${run.errors.join('; ')}`);
            runs.push(run);
          };
          if (size !== 1 && size !== maxSize) {
            await measured();
            continue;
          }
          // The same apply without the isolation baseline (issue 23's bound: at most +15% at p50); which of
          // the two goes first alternates by repeat, so neither gains from the other's warm connections.
          const bare = `${name}-bare`;
          await createLogicalCloud(t.rest, PROJECT, {
            name: bare,
            namespace: `${prefix}b${size}-${repeat}`,
            user: `${prefix}ub${size}-${repeat}`,
            references: clusters
              .slice(0, size)
              .map((_, i) => ({ name: `c${i + 1}`, provider: PROVIDER, cluster: `c${i + 1}` })),
          });
          created.push(bare);
          const withoutIsolation = async () => {
            probes.skipIsolation = true;
            try {
              const bareRun = await applyOnce(t, probes, groups, bare, size, repeat);
              if (bareRun.state !== 'Created')
                throw new Error(`${bare}: ${bareRun.state}: ${bareRun.errors.join('; ')}`);
              withoutBaseline.push(bareRun);
            } finally {
              probes.skipIsolation = false;
            }
          };
          if (repeat % 2 === 1) {
            await measured();
            await withoutIsolation();
          } else {
            await withoutIsolation();
            await measured();
          }
        }
      }
      probes.reset();
    } finally {
      log(`fan-out: terminating ${created.length} logical clouds`);
      const problems = await terminateAll(t, created);
      if (problems.length > 0) log(`fan-out: terminate: ${problems.join('; ')}`);
    }

    // ---- the bound: the largest apply again with a lower DCM_APPLY_CONCURRENCY ----------------------
    const bounded = await composeFanOutDcm(backends, opts, clusters, boundedConcurrency, 'bounded');
    composed.push(bounded.t);
    let boundedRun: ApplyRun;
    const boundedName = 'fan-bounded';
    try {
      await createLogicalCloud(bounded.t.rest, PROJECT, {
        name: boundedName,
        namespace: `${prefix}bounded`,
        user: `${prefix}ubounded`,
        references: clusters
          .slice(0, maxSize)
          .map((_, i) => ({ name: `c${i + 1}`, provider: PROVIDER, cluster: `c${i + 1}` })),
      });
      log(`fan-out: apply to ${maxSize} clusters with DCM_APPLY_CONCURRENCY=${boundedConcurrency}`);
      boundedRun = await applyOnce(bounded.t, bounded.probes, groups, boundedName, maxSize, 1);
    } finally {
      const problems = await terminateAll(bounded.t, [boundedName]);
      if (problems.length > 0) log(`fan-out: terminate: ${problems.join('; ')}`);
    }

    log('fan-out: cost of one call to a cluster');
    const callCost = await clusterCallCost(clusters[0]!, opts.quick ? 10 : 40);

    // ---- report ----------------------------------------------------------------------------------
    const bySize = new Map(sizes.map((s) => [s, runs.filter((r) => r.size === s)]));
    const wall = (s: number) => median(bySize.get(s)!.map((r) => r.wallMs));
    const ratio = wall(maxSize) / wall(1);
    const spanMean = (r: ApplyRun) => mean(r.traces.map((tr) => tr.last - tr.first));
    const spanMax = (r: ApplyRun) => Math.max(...r.traces.map((tr) => tr.last - tr.first));
    const med = (s: number, f: (r: ApplyRun) => number) => median(bySize.get(s)!.map(f));
    const callsPerCluster = (r: ApplyRun) => mean(r.traces.map((tr) => tr.calls));
    // No schedule of the work beats the machine: all processes' CPU seconds over its cores.
    const cores = os.cpus().length;
    const floor = (r: ApplyRun) => Object.values(r.cpu).reduce((a, b) => a + b, 0) / cores;
    const rows = sizes.map((s) => [
      s,
      seconds(wall(s)),
      bySize
        .get(s)!
        .map((r) => fmt(r.wallMs / 1000, 2))
        .join(' / '),
      fmt(wall(s) / wall(1), 2),
      ms(med(s, spanMean)),
      ms(med(s, spanMax)),
      ms(med(s, (r) => r.beforeClustersMs)),
      ms(med(s, (r) => r.afterClustersMs)),
      `${fmt(
        med(s, (r) => r.keyGenerations),
        0,
      )} (${ms(med(s, (r) => r.keyGenerationMs))})`,
      `${fmt(
        med(s, (r) => r.statusWrites),
        0,
      )} (${ms(med(s, (r) => r.statusWriteMs))})`,
      Math.max(...bySize.get(s)!.map((r) => r.maxApplying)),
      fmt(med(s, callsPerCluster), 0),
      fmt(
        med(s, (r) => r.busyCores),
        2,
      ),
      seconds(med(s, floor) * 1000),
    ]);
    const cpuOf = (r: ApplyRun, prefixOfName: string) =>
      Object.entries(r.cpu)
        .filter(([k]) => k.startsWith(prefixOfName))
        .reduce((a, [, v]) => a + v, 0);
    const largest = bySize.get(maxSize)!;
    const cpuRows = Object.keys(largest[0]!.cpu).map((k) => [
      k,
      ...sizes.map((s) =>
        fmt(
          med(s, (r) => r.cpu[k] ?? 0),
          2,
        ),
      ),
    ]);
    const baselineSizes = [1, maxSize];
    const bare = (s: number) => median(withoutBaseline.filter((r) => r.size === s).map((r) => r.wallMs));
    const overhead = (s: number) => wall(s) / bare(s) - 1;
    // The tenant's RSA key (60–250 ms, once per apply) dominates the spread of one apply: the target is
    // judged without it, on the time the apply spends beside generating the key.
    const beside = (rs: ApplyRun[], s: number) =>
      median(rs.filter((r) => r.size === s).map((r) => r.wallMs - r.keyGenerationMs));
    const overheadBeside = (s: number) => beside(runs, s) / beside(withoutBaseline, s) - 1;
    const targets: Target[] = [
      ...baselineSizes.map((s) => ({
        target: `isolation baseline (LimitRange, NetworkPolicy, guard) adds at most 15% to the apply time of ${s} cluster(s) at p50`,
        measured:
          `${fmt(overheadBeside(s) * 100, 1)}% beside key generation (${seconds(beside(runs, s))} with, ` +
          `${seconds(beside(withoutBaseline, s))} without); wall ${fmt(overhead(s) * 100, 1)}% (${seconds(wall(s))} with, ` +
          `${seconds(bare(s))} without); medians of ${repeats}`,
        pass: overheadBeside(s) <= 0.15,
      })),
      {
        target: `apply to ${maxSize} clusters within 2× the time of 1 cluster`,
        measured:
          `${fmt(ratio, 2)}× (${seconds(wall(maxSize))} vs ${seconds(wall(1))}, medians of ${repeats}); ` +
          `the DCM's own CPU: ${fmt(med(maxSize, (r) => cpuOf(r, 'DCM')) / med(1, (r) => cpuOf(r, 'DCM')), 2)}× (${fmt(
            med(maxSize, (r) => cpuOf(r, 'DCM')),
            2,
          )} s vs ${fmt(
            med(1, (r) => cpuOf(r, 'DCM')),
            2,
          )} s); ` +
          `CPU floor of ${maxSize} clusters on this machine: ${seconds(med(maxSize, floor) * 1000)} (${fmt((med(maxSize, floor) * 1000) / wall(1), 2)}× one cluster's wall)`,
        pass: ratio <= 2,
      },
    ];
    const markdown = [
      `A logical cloud with the design's 2 permissions and a quota, applied to the first N of ${clusters.length} clusters ` +
        `(${clusters.map((c) => c.name).join(', ')}${extra ? `; the ${extra.clusters.length} bench clusters started in ${seconds(extra.startMs)} and stopped afterwards` : ''}). ` +
        `Wall time from POST …/apply to the status write that makes it Created (Instantiated), seen by a probe on the status store's write; ` +
        `${repeats} repeats, sizes interleaved. Certificates through each cluster's CSR API (clusters registered without CA key). ` +
        `DCM_APPLY_CONCURRENCY=${concurrency} (${configured === undefined ? 'the default' : 'from the environment'}).`,
      '',
      table(
        [
          'clusters',
          'wall (median)',
          'each repeat (s)',
          '× 1 cluster',
          'per-cluster span, mean',
          'per-cluster span, max',
          'before 1st cluster call',
          'after last cluster call',
          'key generations (time, summed)',
          'status writes (time, summed)',
          'max clusters Applying at once',
          'calls per cluster',
          'busy cores',
          'CPU floor',
        ],
        rows,
      ),
      '',
      `**${maxSize} clusters / 1 cluster: ${fmt(ratio, 2)}×.** Per-cluster span: first to last call the DCM made to that cluster ` +
        '(namespace, CSR create/approve/watch/delete, discovery, roles and bindings, quota, and the pruning lists). ' +
        '"busy cores": the whole machine\'s busy CPU time over the wall time (at most ' +
        String(cores) +
        '). ' +
        `"CPU floor": the CPU seconds all the processes below used for the apply, over the ${cores} cores: no apply of that work on this machine can be shorter, however parallel. ` +
        `For ${maxSize} clusters it is ${seconds(med(maxSize, floor) * 1000)}, ${fmt((med(maxSize, floor) * 1000) / wall(1), 2)}× one cluster's wall time, of which the clusters' own processes (API servers, controller managers, etcd) ` +
        `${seconds((med(maxSize, (r) => cpuOf(r, 'kube') + cpuOf(r, 'etcd')) / cores) * 1000)}.`,
      '',
      `**Where the time of ${maxSize} clusters goes (${fmt(ratio, 1)}× one).** The clusters are worked in parallel (${Math.max(...largest.map((r) => r.maxApplying))} Applying at once), ` +
        `the tenant's key is generated once per logical cloud (${fmt(
          med(maxSize, (r) => r.keyGenerations),
          0,
        )} generation(s) per apply above) and each cluster's ` +
        `${fmt(med(maxSize, callsPerCluster), 0)} calls share one kept-alive TLS connection: one call to ${clusters[0]!.name} as the DCM makes it costs ` +
        `${ms(callCost.keptAlive.wallMs)} wall and ${ms(callCost.keptAlive.cpuMs)} of DCM CPU, against ${ms(callCost.newConnection.wallMs)} and ` +
        `${ms(callCost.newConnection.cpuMs)} with a new TLS connection per call as @kubernetes/client-node makes them by default (${callCost.n} sequential reads of a namespace each). ` +
        `What remains is the machine: the ${maxSize} clusters' API servers, controller managers and etcd run on the same ${os.cpus().length} cores as the DCM and the database ` +
        `("busy cores" above, CPU seconds by process below), so ${maxSize} clusters' work is done on the cores that one cluster's has to itself.`,
      '',
      `**The isolation baseline** (docs/isolation.md): the same apply with the isolation controller's cluster calls answered by the probe instead of the cluster ("without"), interleaved with the measured ones (which goes first alternates by repeat): ` +
        baselineSizes
          .map(
            (s) =>
              `${s} cluster(s) ${seconds(bare(s))} without, ${seconds(wall(s))} with (${fmt(overhead(s) * 100, 1)}%)`,
          )
          .join('; ') +
        '. The guard is read (and written only when it differs) at most once a minute per cluster; a drift check always reads it.',
      '',
      '**CPU seconds used during an apply** (medians), by process:',
      '',
      table(['process', ...sizes.map((s) => `${s} cluster(s)`)], cpuRows),
      '',
      `**Concurrency bound.** Configured default: DCM_APPLY_CONCURRENCY=${defaultConfig().DCM_APPLY_CONCURRENCY} (src/config.ts). ` +
        `With ${concurrency}, at most ${Math.max(...largest.map((r) => r.maxApplying))} of ${maxSize} clusters were Applying at once. ` +
        `Applied again with DCM_APPLY_CONCURRENCY=${boundedConcurrency}: at most ${boundedRun.maxApplying} at once, ` +
        `${seconds(boundedRun.wallMs)} (${fmt(boundedRun.wallMs / wall(maxSize), 1)}× the unbounded apply, ${boundedRun.state}).`,
    ].join('\n');
    return { title: 'Apply fan-out', markdown, targets };
  } finally {
    for (const t of composed)
      await t.close().catch((error: unknown) => log(`fan-out: closing a DCM: ${(error as Error).message}`));
    await removeNamespaces(backends.clusters.slice(0, 2), prefix).catch((error: unknown) =>
      log(`fan-out: namespace clean-up: ${(error as Error).message}`),
    );
    if (extra) {
      log(`fan-out: stopping ${extra.pids.length} processes (${extra.pids.join(', ')})`);
      await extra.stop();
    }
  }
}

/** Wall and CPU (this process) per call to a cluster: as the DCM calls (one kept-alive connection) vs a new TLS connection per call. */
async function clusterCallCost(cluster: BenchCluster, n: number) {
  const kubeconfig = fs.readFileSync(cluster.kubeconfigPath, 'utf8');
  const ref = { apiVersion: 'v1', kind: 'Namespace', name: 'default' };
  const measure = async (call: () => Promise<unknown>) => {
    await call(); // warm-up
    const cpu = process.cpuUsage();
    const started = performance.now();
    for (let i = 0; i < n; i++) await call();
    const wallMs = (performance.now() - started) / n;
    const used = process.cpuUsage(cpu);
    return { wallMs, cpuMs: (used.user + used.system) / 1000 / n };
  };
  const timeoutMs = defaultConfig().DCM_CLUSTER_TIMEOUT_MS;
  const connection = createClusterGateway(kubeconfig, timeoutMs);
  try {
    const keptAlive = await measure(() => connection.read(ref));
    const newConnection = await measure(async () => {
      const once = createClusterGateway(kubeconfig, timeoutMs);
      try {
        return await once.read(ref);
      } finally {
        once.close();
      }
    });
    return { n, keptAlive, newConnection };
  } finally {
    connection.close();
  }
}
