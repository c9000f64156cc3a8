/**
 * What every benchmark section shares: the options of the run (quick or full), the test
 * backends it runs against, the machine it runs on, and small statistics helpers.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import { MongoClient } from 'mongodb';
import { FERRETDB_VERSION, paths } from '../test/testenv/layout.js';
import { isHealthy, readState, up, type TestenvState } from '../test/testenv/testenv.js';

export const SECTIONS = ['rest', 'certificates', 'scale', 'fanout', 'mesh', 'drift', 'selection', 'budget'] as const;
export type SectionName = (typeof SECTIONS)[number];

export interface BenchOptions {
  quick: boolean;
  sections: SectionName[];
  /** Where the markdown report goes (undefined: stdout only). */
  out: string | undefined;
  /** Unique per run: database names, namespaces and user names on the shared clusters carry it. */
  runId: string;
  command: string;
  /** `--scale-sqlite`: the scale section also runs on FerretDB's SQLite backend, for comparison. */
  scaleSqlite: boolean;
}

export function parseOptions(argv: string[]): BenchOptions {
  const quick = argv.includes('--quick') || process.env.BENCH_QUICK === '1' || process.env.BENCH_QUICK === 'true';
  const only = argv.find((a) => a.startsWith('--only='))?.slice('--only='.length);
  const sections = only ? (only.split(',').map((s) => s.trim()) as SectionName[]) : [...SECTIONS];
  for (const s of sections)
    if (!SECTIONS.includes(s)) throw new Error(`unknown section ${s}; sections: ${SECTIONS.join(', ')}`);
  const outArg = argv.find((a) => a.startsWith('--out='))?.slice('--out='.length);
  // A quick run (CI) never overwrites the committed report: it writes to the temp dir unless told otherwise.
  const out = outArg ?? (quick ? `${os.tmpdir()}/dcm-bench-quick.md` : 'docs/benchmarks.md');
  const runId = randomBytes(3).toString('hex');
  const command = `npm run bench${argv.length > 0 ? ` -- ${argv.join(' ')}` : ''}${process.env.BENCH_QUICK ? ` (BENCH_QUICK=${process.env.BENCH_QUICK})` : ''}`;
  const scaleSqlite = argv.includes('--scale-sqlite');
  return { quick, sections, out: out === '-' ? undefined : out, runId, command, scaleSqlite };
}

// ---- backends -------------------------------------------------------------------------------

export interface BenchCluster {
  name: string;
  kubeconfigPath: string;
  caKeyPath: string | undefined;
}

export interface Backends {
  mongoUrl: string;
  mongoKind: string;
  /** The two standing test clusters. */
  clusters: BenchCluster[];
  /** Where further clusters can be started (our own test backends only). */
  etcdUrl: string | undefined;
  kubeBinary: string | undefined;
  /** `up()` was run by this benchmark: it brings the backends down again at the end. */
  startedHere: boolean;
  /** The backends' processes (our own test backends only), for CPU accounting. */
  processes: { name: string; pid: number }[];
}

const processesOf = (state: TestenvState): Backends['processes'] => [
  { name: state.mongo.kind, pid: state.mongo.pid },
  ...(state.mongo.postgres ? [{ name: 'postgres', pid: state.mongo.postgres.pid }] : []),
  { name: 'etcd', pid: state.etcd.pid },
  ...state.clusters.flatMap((c) => [
    { name: `${c.name} kube-apiserver`, pid: c.apiserverPid },
    { name: `${c.name} kube-controller-manager`, pid: c.controllerManagerPid },
  ]),
];

function clustersFromEnv(): BenchCluster[] {
  const clusters: BenchCluster[] = [];
  for (const i of [1, 2]) {
    const kubeconfigPath = process.env[`DCM_TEST_CLUSTER_${i}_KUBECONFIG`];
    if (kubeconfigPath)
      clusters.push({ name: `cluster-${i}`, kubeconfigPath, caKeyPath: process.env[`DCM_TEST_CLUSTER_${i}_CA_KEY`] });
  }
  return clusters;
}

const fromState = (state: TestenvState, startedHere: boolean): Backends => ({
  mongoUrl: state.mongo.url,
  mongoKind: state.mongo.kind,
  clusters: state.clusters.map((c) => ({ name: c.name, kubeconfigPath: c.kubeconfig, caKeyPath: c.caKey })),
  etcdUrl: `http://127.0.0.1:${state.etcd.clientPort}`,
  kubeBinary: fs.existsSync(paths.kubeBinary) ? paths.kubeBinary : undefined,
  startedHere,
  processes: processesOf(state),
});

/**
 * The test backends: those named by the environment (`source .testenv/env`, or your own),
 * else the running ones recorded in `.testenv/state.json`, else started now (and stopped at the end).
 */
export async function resolveBackends(): Promise<Backends> {
  const state = readState();
  if (process.env.MONGO_URL && process.env.DCM_TEST_CLUSTER_1_KUBECONFIG) {
    const sameAsState = state && state.mongo.url === process.env.MONGO_URL;
    return {
      mongoUrl: process.env.MONGO_URL,
      mongoKind: sameAsState ? state.mongo.kind : 'unknown',
      clusters: clustersFromEnv(),
      etcdUrl: sameAsState ? `http://127.0.0.1:${state.etcd.clientPort}` : undefined,
      kubeBinary: sameAsState && fs.existsSync(paths.kubeBinary) ? paths.kubeBinary : undefined,
      startedHere: false,
      processes: sameAsState ? processesOf(state) : [],
    };
  }
  if (state && (await isHealthy(state))) return fromState(state, false);
  console.error('[bench] no running test backends: starting them (npm run testenv:up)');
  const started = await up();
  return fromState(started.state, started.started);
}

/** Server version and backend name as the server reports it (FerretDB says so in buildInfo). */
const BACKEND_OF_KIND: Record<string, string> = {
  'ferretdb-postgresql': 'PostgreSQL backend',
  'ferretdb-sqlite': 'SQLite backend',
};

/** Which database the bench runs on, as the report says it: server, version and (FerretDB) its backend. */
export async function describeMongo(mongoUrl: string, kind: string): Promise<string> {
  const client = await MongoClient.connect(mongoUrl);
  try {
    const info = await client.db('admin').command({ buildInfo: 1 });
    const ferret = (info as { ferretdbVersion?: string }).ferretdbVersion;
    if (ferret !== undefined) {
      const version = ferret === 'unknown' ? `${FERRETDB_VERSION} (the test backend's build)` : ferret;
      const backend = BACKEND_OF_KIND[kind] ?? 'backend unknown (not started by the testenv)';
      return `FerretDB ${version}, ${backend} (reports MongoDB ${String(info.version)})`;
    }
    return `${kind === 'mongod' ? 'mongod' : 'MongoDB'} ${String(info.version)}`;
  } finally {
    await client.close();
  }
}

// ---- the machine ----------------------------------------------------------------------------

export interface MachineInfo {
  node: string;
  cpuModel: string;
  cpuCount: number;
  memoryGiB: number;
  os: string;
  date: string;
  commit: string;
  loadAverage: string;
}

export function machineInfo(): MachineInfo {
  const cpus = os.cpus();
  let commit = 'unknown';
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
    if (dirty) commit += ' (with uncommitted changes)';
  } catch {
    /* not a git checkout */
  }
  return {
    node: process.version,
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    cpuCount: cpus.length,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    date: new Date().toISOString(),
    commit,
    loadAverage: loadAverage(),
  };
}

export const loadAverage = (): string =>
  os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' / ');

// ---- statistics and formatting ---------------------------------------------------------------

/** The p-th percentile (0–100) of samples, nearest-rank. */
export function percentile(samples: number[], p: number): number {
  if (samples.length === 0) return NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

export const median = (samples: number[]): number => percentile(samples, 50);
export const mean = (samples: number[]): number => samples.reduce((a, b) => a + b, 0) / samples.length;

export function fmt(n: number, digits?: number): string {
  if (!Number.isFinite(n)) return 'n/a';
  const d = digits ?? (Math.abs(n) >= 100 ? 0 : Math.abs(n) >= 10 ? 1 : 2);
  return n.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });
}

export const ms = (n: number): string => `${fmt(n)} ms`;
export const seconds = (msValue: number): string => `${fmt(msValue / 1000, 2)} s`;
/** A long duration, roughly: seconds, minutes or hours. */
export function roughly(msValue: number): string {
  const s = msValue / 1000;
  if (s < 120) return `${fmt(s, 0)} s`;
  if (s < 7200) return `${fmt(s / 60, 0)} min`;
  return `${fmt(s / 3600, 1)} h`;
}

export const mib = (bytes: number): string => `${fmt(bytes / 2 ** 20, 0)} MiB`;

export function log(message: string): void {
  console.error(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}`);
}

/** Times an async call in milliseconds. */
export async function timed<T>(work: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  const value = await work();
  return { value, ms: performance.now() - started };
}

// ---- the report of one section ------------------------------------------------------------------

export interface Target {
  target: string;
  measured: string;
  pass: boolean;
}

export interface SectionResult {
  title: string;
  /** Markdown body of the section (tables and notes). */
  markdown: string;
  targets: Target[];
}

/** A markdown table. */
export function table(header: string[], rows: (string | number)[][]): string {
  const line = (cells: (string | number)[]) => `| ${cells.map((c) => String(c).replace(/\|/g, '\\|')).join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

/** Processes and other things to undo when the run ends, also on Ctrl-C. */
const cleanups: (() => Promise<void>)[] = [];
export function onExit(cleanup: () => Promise<void>): () => void {
  cleanups.push(cleanup);
  return () => {
    const i = cleanups.indexOf(cleanup);
    if (i >= 0) cleanups.splice(i, 1);
  };
}
export async function runExitCleanups(): Promise<void> {
  while (cleanups.length > 0)
    await cleanups.pop()!().catch((error: unknown) => log(`clean-up failed: ${(error as Error).message}`));
}

// ---- CPU accounting -------------------------------------------------------------------------------

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

/** CPU seconds (user + system) a process has used so far, from /proc/<pid>/stat; NaN when it is gone. */
export function processCpuSeconds(pid: number): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND; // utime, stime (fields 14, 15)
  } catch {
    return NaN;
  }
}

/** Busy and total CPU seconds of the whole machine so far, from /proc/stat. */
export function machineCpuSeconds(): { busy: number; total: number } {
  const line = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  const total = v.reduce((a, b) => a + b, 0);
  const idle = (v[3] ?? 0) + (v[4] ?? 0); // idle + iowait
  return { busy: (total - idle) / TICKS_PER_SECOND, total: total / TICKS_PER_SECOND };
}
