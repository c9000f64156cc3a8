/**
 * The MongoDB-protocol server of the test backends and of `npm start`'s embedded default: a real
 * mongod when one is at hand (MONGOD_BINARY or on PATH), otherwise FerretDB on a PostgreSQL that
 * the project runs itself, otherwise (no PostgreSQL to be had) FerretDB on SQLite, with a warning.
 */
import fs from 'node:fs';
import path from 'node:path';
import { MongoClient } from 'mongodb';
import { ensureFerretdbBinary, findMongod } from './binaries.js';
import { freePort, startDetached, stopProcess, waitFor, type StartedProcess } from './processes.js';
import { findPostgres, startPostgres, stopPostgres } from './postgres.js';

export type DatabaseKind = 'mongod' | 'ferretdb-postgresql' | 'ferretdb-sqlite';

export interface DatabaseServerState {
  kind: DatabaseKind;
  pid: number;
  port: number;
  url: string;
  /** FerretDB's PostgreSQL (kind ferretdb-postgresql). */
  postgres?: { pid: number; port: number };
}

export const SQLITE_SCALE_WARNING =
  "FerretDB's SQLite backend evaluates every query in FerretDB's own process: fine for the tests and a " +
  'few hundred logical clouds, seconds per request beyond a few thousand (docs/database.md)';

function log(message: string): void {
  console.error(`[testenv] ${message}`);
}

export async function mongoAnswers(url: string): Promise<boolean> {
  const client = new MongoClient(url, { serverSelectionTimeoutMS: 2000, connectTimeoutMS: 2000 });
  try {
    await client.connect();
    await client.db('admin').command({ ping: 1 });
    return true;
  } catch {
    return false;
  } finally {
    await client.close().catch(() => undefined);
  }
}

export interface StartDatabaseOptions {
  /** Start from empty data (the test backends), or keep what is in `dir` (`npm start`). */
  fresh: boolean;
  /** Test backends: PostgreSQL without fsync. */
  durable: boolean;
  /** Force a backend: `sqlite` (for comparisons), or `postgresql`; default: mongod, else PostgreSQL, else SQLite. */
  backend?: 'postgresql' | 'sqlite';
}

/** Starts the server with its data under `dir` (`dir/postgres`, `dir/sqlite` or `dir/mongod`). */
export async function startDatabaseServer(dir: string, opts: StartDatabaseOptions): Promise<DatabaseServerState> {
  if (opts.fresh) fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const url = `mongodb://127.0.0.1:${port}/`;
  const listen = `-listen=127.0.0.1:${port}`;
  const ready = (started: StartedProcess) =>
    waitFor('MongoDB-protocol server', () => mongoAnswers(url), { timeoutMs: 60_000, process: started });

  const mongod = opts.backend ? undefined : findMongod();
  if (mongod) {
    const dbpath = path.join(dir, 'mongod');
    fs.mkdirSync(dbpath, { recursive: true });
    const started = startDetached('mongod', mongod, [
      '--dbpath',
      dbpath,
      '--port',
      String(port),
      '--bind_ip',
      '127.0.0.1',
    ]);
    await ready(started);
    return { kind: 'mongod', pid: started.pid, port, url };
  }

  const ferretdb = ensureFerretdbBinary();
  const binDir = opts.backend === 'sqlite' ? undefined : findPostgres({ install: true });
  let why = 'no PostgreSQL (Debian package postgresql) could be installed';
  if (binDir) {
    const postgres = await startPostgres(binDir, path.join(dir, 'postgres'), { durable: opts.durable }).catch(
      (error: unknown) => {
        if (opts.backend === 'postgresql') throw error;
        why = `PostgreSQL did not start (${(error as Error).message.split('\n')[0]})`;
        return undefined;
      },
    );
    if (postgres) {
      const started = startDetached('ferretdb', ferretdb, [listen, `-postgresql-url=${postgres.url}`]);
      try {
        await ready(started);
      } catch (error) {
        await stopProcess(started.pid);
        await stopPostgres(postgres.pid);
        throw error;
      }
      const pg = { pid: postgres.pid, port: postgres.port };
      return { kind: 'ferretdb-postgresql', pid: started.pid, port, url, postgres: pg };
    }
  }
  if (opts.backend === 'postgresql') throw new Error(`PostgreSQL was asked for: ${why}`);
  if (!opts.backend) log(`WARNING: ${why}; FerretDB runs on SQLite. ${SQLITE_SCALE_WARNING}`);
  const started = startDetached('ferretdb-sqlite', ferretdb, [listen, `-data-dir=${path.join(dir, 'sqlite')}`]);
  await ready(started);
  return { kind: 'ferretdb-sqlite', pid: started.pid, port, url };
}

/** Stops the server, and its PostgreSQL after it, by PID. */
export async function stopDatabaseServer(state: Partial<DatabaseServerState>): Promise<void> {
  if (typeof state.pid === 'number') await stopProcess(state.pid);
  if (state.postgres) await stopPostgres(state.postgres.pid);
}
