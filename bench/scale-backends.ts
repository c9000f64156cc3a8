/**
 * The scale section on the test backends' database (FerretDB on PostgreSQL, the embedded
 * default) and, with `--scale-sqlite`, also on FerretDB's SQLite backend started for the
 * comparison (its own FerretDB process, stopped by PID at the end).
 */
import path from 'node:path';
import { stateDir } from '../test/testenv/layout.js';
import { startDatabaseServer, stopDatabaseServer } from '../test/testenv/database-server.js';
import { describeMongo, log, onExit, type Backends, type BenchOptions, type SectionResult } from './env.js';
import { scale } from './scale.js';

export async function scaleOnEachBackend(backends: Backends, opts: BenchOptions): Promise<SectionResult> {
  const main = await scale(backends, opts);
  main.title += ` on ${await describeMongo(backends.mongoUrl, backends.mongoKind)}`;
  if (!opts.scaleSqlite) return main;

  log('scale: again on FerretDB with its SQLite backend, for comparison');
  const sqlite = await startDatabaseServer(path.join(stateDir, `bench-sqlite-${opts.runId}`), {
    fresh: true,
    durable: false,
    backend: 'sqlite',
  });
  const forget = onExit(() => stopDatabaseServer(sqlite));
  try {
    // Five creates at full size: each takes seconds on SQLite.
    const compared = await scale({ ...backends, mongoUrl: sqlite.url, mongoKind: sqlite.kind, processes: [] }, opts, {
      lateCreates: 5,
    });
    const targets = compared.targets.map((t) => ({ ...t, target: `${t.target} (SQLite backend, comparison only)` }));
    return {
      title: main.title,
      markdown: `${main.markdown}\n\n#### The same on FerretDB's SQLite backend (comparison)\n\n${compared.markdown}`,
      targets: [...main.targets, ...targets],
    };
  } finally {
    await stopDatabaseServer(sqlite);
    forget();
  }
}
