/**
 * `npm run bench` — benchmarks of the DCM against the test backends: REST overhead,
 * certificate issuance, scale (10,000 logical clouds) and apply fan-out (1–8 clusters).
 * Prints a markdown report and writes it to docs/benchmarks.md.
 *
 *   npm run bench                     full run (about 21 minutes on 2 cores), writes docs/benchmarks.md
 *   npm run bench -- --quick          every section briefly with small sizes (CI), writes $TMPDIR/dcm-bench-quick.md
 *   (or BENCH_QUICK=1 npm run bench)
 *   npm run bench -- --only=rest,scale   some sections only (rest, certificates, scale, fanout, mesh, drift, selection, budget)
 *   npm run bench -- --out=FILE        the report elsewhere (`--out=-`: stdout only)
 *   npm run bench -- --scale-sqlite    the scale section also on FerretDB's SQLite backend (comparison)
 *
 * Environment: the test backends (`source .testenv/env`, or the running ones recorded in
 * .testenv/state.json; started if none run). DCM_APPLY_CONCURRENCY is passed to the DCM of
 * the fan-out section.
 */
import fs from 'node:fs';
import path from 'node:path';
import { certificates } from './certificates.js';
import { repoRoot } from '../test/testenv/layout.js';
import { down } from '../test/testenv/testenv.js';
import {
  describeMongo,
  loadAverage,
  log,
  machineInfo,
  parseOptions,
  resolveBackends,
  runExitCleanups,
  type SectionName,
  type SectionResult,
} from './env.js';
import { budget } from './budget.js';
import { driftRepair } from './drift.js';
import { fanOut } from './fan-out.js';
import { meshApply } from './mesh.js';
import { renderReport } from './report.js';
import { restOverhead } from './rest-overhead.js';
import { scaleOnEachBackend } from './scale-backends.js';
import { selection } from './selection.js';
import type { Backends, BenchOptions } from './env.js';

const SECTION_RUNNERS: Record<
  SectionName,
  { title: string; run: (b: Backends, o: BenchOptions) => Promise<SectionResult> }
> = {
  rest: { title: 'REST overhead', run: restOverhead },
  certificates: { title: 'Certificate issuance', run: certificates },
  scale: { title: 'Scale', run: scaleOnEachBackend },
  fanout: { title: 'Apply fan-out', run: fanOut },
  mesh: { title: 'Mesh apply per cluster', run: meshApply },
  drift: { title: 'Drift repair and idle watching', run: driftRepair },
  selection: { title: 'Cluster selection', run: selection },
  budget: { title: 'Overall quota rebalancing', run: budget },
};

async function main(): Promise<number> {
  const opts = parseOptions(process.argv.slice(2));
  process.chdir(repoRoot);
  const started = Date.now();
  const machine = machineInfo();
  log(`${opts.quick ? 'quick' : 'full'} run ${opts.runId}: ${opts.sections.join(', ')}`);
  const backends = await resolveBackends();
  const sections: SectionResult[] = [];
  const failures: { section: string; error: string }[] = [];
  let database = backends.mongoKind;
  try {
    database = await describeMongo(backends.mongoUrl, backends.mongoKind);
    for (const name of opts.sections) {
      const runner = SECTION_RUNNERS[name];
      log(`section ${runner.title}`);
      const begun = Date.now();
      try {
        const result = await runner.run(backends, opts);
        result.markdown += `\n\n_Section time: ${((Date.now() - begun) / 1000).toFixed(0)} s._`;
        sections.push(result);
      } catch (error) {
        const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
        log(`section ${runner.title} FAILED: ${message}`);
        failures.push({ section: runner.title, error: error instanceof Error ? error.message : String(error) });
      }
    }
  } finally {
    await runExitCleanups();
    if (backends.startedHere && process.env.DCM_TESTENV_KEEP !== '1') await down();
  }

  const notes = [
    databaseNote(database),
    'The DCMs run with logging off (level silent in this process, warn in the child processes); with the production default (info) every request is also logged.',
  ];
  const report = renderReport({
    command: opts.command,
    quick: opts.quick,
    machine,
    loadAverageAtEnd: loadAverage(),
    database,
    clusters:
      `${backends.clusters.map((c) => c.name).join(', ')} (kube-apiserver + kube-controller-manager v1.34.4 on one etcd)` +
      (opts.sections.includes('fanout') && !opts.quick ? ', and 6 more started for the fan-out section' : ''),
    durationMs: Date.now() - started,
    sections,
    failures,
    notes,
  });
  process.stdout.write(report);
  if (opts.out) {
    fs.mkdirSync(path.dirname(path.resolve(opts.out)), { recursive: true });
    fs.writeFileSync(opts.out, report);
    log(`report written to ${opts.out}`);
  }
  return failures.length > 0 ? 1 : 0;
}

/** What the database behind every number is, and what that means for them (docs/database.md). */
function databaseNote(database: string): string {
  if (database.includes('PostgreSQL backend'))
    return (
      `The database is **${database}**, the test and embedded default (docs/database.md). It pushes equality filters on top-level ` +
      "fields down to PostgreSQL (every query of the DCM's hot paths, test/integration/query-pushdown.test.ts), but decodes every " +
      "document a query returns in its own process: a list page reads the project's names from small name entries, then its items by " +
      "name (docs/database.md#list-pages-the-names-collection). MongoDB answers the same queries from the DCM's indexes."
    );
  if (database.includes('SQLite backend'))
    return (
      `The database is **${database}**: FerretDB v1 evaluates a filter on anything but \`_id\` in its own process, reading and ` +
      'decoding every document of the collection; every number that touches the database is proportional to the collection.'
    );
  return `The database is ${database}.`;
}

let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (interrupted) return;
    interrupted = true;
    log(`${signal}: stopping what the benchmark started`);
    void runExitCleanups().finally(() => process.exit(130));
  });
}

main().then(
  (code) => process.exit(code),
  async (error: unknown) => {
    console.error(error);
    await runExitCleanups();
    process.exit(1);
  },
);
