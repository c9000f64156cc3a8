/**
 * The PostgreSQL behind FerretDB's PostgreSQL backend: Debian's `postgresql` (installed on demand,
 * as root or with sudo), initialised by the project in its own directory (`<dir>/data`), listening
 * only on its own unix-socket directory (`<dir>/run`, no TCP), stopped by PID. PostgreSQL refuses
 * to run as root: as root, it runs as an unprivileged user (`nobody`, or DCM_POSTGRES_USER) that
 * owns the directory.
 */
import { createHash } from 'node:crypto';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { GIN_COMPANIONS_SQL } from './postgres-indexes.js';
import { freePort, startDetached, stopProcess, waitFor } from './processes.js';

export interface PostgresState {
  pid: number;
  port: number;
  socketDir: string;
  /** The URL FerretDB connects with (over the unix socket). */
  url: string;
}

const DATABASE = 'ferretdb';
const SUPERUSER = 'dcm';

function log(message: string): void {
  console.error(`[testenv] ${message}`);
}

function versionedBinDirs(): string[] {
  const root = '/usr/lib/postgresql';
  if (!fs.existsSync(root)) return [];
  return fs
    .readdirSync(root)
    .filter((v) => /^\d+$/.test(v))
    .sort((a, b) => Number(b) - Number(a))
    .map((v) => path.join(root, v, 'bin'))
    .filter((dir) => fs.existsSync(path.join(dir, 'initdb')) && fs.existsSync(path.join(dir, 'postgres')));
}

function installPostgres(): void {
  const root = process.getuid?.() === 0;
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const run = (args: string[]) =>
    root
      ? execFileSync(args[0]!, args.slice(1), { stdio: 'inherit', env })
      : execFileSync('sudo', ['-n', ...args], { stdio: 'inherit', env });
  log("installing PostgreSQL from Debian's postgresql package …");
  run(['apt-get', 'update', '-qq']);
  run(['apt-get', 'install', '-y', '-qq', '--no-install-recommends', 'postgresql']);
}

/**
 * The directory of PostgreSQL's server binaries (DCM_POSTGRES_BINDIR, else Debian's newest under
 * /usr/lib/postgresql, installed if missing), or undefined when PostgreSQL cannot be had.
 */
export function findPostgres(opts: { install: boolean }): string | undefined {
  const explicit = process.env.DCM_POSTGRES_BINDIR;
  if (explicit) return explicit;
  const found = versionedBinDirs()[0];
  if (found || !opts.install) return found;
  try {
    installPostgres();
  } catch (error) {
    log(`could not install PostgreSQL: ${(error as Error).message.split('\n')[0]}`);
    return undefined;
  }
  return versionedBinDirs()[0];
}

/** As root: the unprivileged account PostgreSQL runs as, and the prefix that switches to it. */
function runAs(): { uid: number; gid: number; prefix: string[] } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const user = process.env.DCM_POSTGRES_USER ?? 'nobody';
  const id = (flag: string) => Number(execFileSync('id', [flag, user], { encoding: 'utf8' }).trim());
  const [uid, gid] = [id('-u'), id('-g')];
  return { uid, gid, prefix: ['setpriv', `--reuid=${uid}`, `--regid=${gid}`, '--clear-groups'] };
}

function chownTree(dir: string, uid: number, gid: number): void {
  fs.chownSync(dir, uid, gid);
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const child = path.join(dir, entry.name);
    if (entry.isDirectory()) chownTree(child, uid, gid);
    else fs.chownSync(child, uid, gid);
  }
}

/** Whether `dir` and every directory above it can be traversed by others (PostgreSQL as `nobody`). */
function traversableByOthers(dir: string): boolean {
  for (let d = path.resolve(dir); ; d = path.dirname(d)) {
    if ((fs.statSync(d).mode & 0o001) === 0) return false;
    if (d === path.dirname(d)) return true;
  }
}

/**
 * Where PostgreSQL (as `uid`, root's stand-in) can reach its directory. A clone under a directory
 * others cannot traverse (e.g. /root): the test backends' PostgreSQL, whose data is thrown away
 * anyway, moves to a fresh directory in the system's temp directory (named after the clone's, so
 * a restart finds and replaces it); a durable one (`npm start`) refuses, naming the directory.
 */
export function reachableDir(dir: string, uid: number, durable: boolean): string {
  if (traversableByOthers(path.dirname(dir))) return dir;
  if (durable)
    throw new Error(`PostgreSQL runs as uid ${uid}, which cannot reach ${dir} (a directory above is not o+x)`);
  const digest = createHash('sha256').update(path.resolve(dir)).digest('hex').slice(0, 16);
  const moved = path.join(fs.realpathSync(os.tmpdir()), `dcm-postgres-${digest}`);
  fs.rmSync(moved, { recursive: true, force: true });
  fs.mkdirSync(moved, { mode: 0o700 });
  return moved;
}

/**
 * Initialises (once) and starts a PostgreSQL in `dir`. `durable: false` (the test backends) turns
 * off fsync and synchronous commits: a crash may lose the data, which the tests recreate anyway.
 */
export async function startPostgres(binDir: string, given: string, opts: { durable: boolean }): Promise<PostgresState> {
  const user = runAs();
  const dir = user ? reachableDir(given, user.uid, opts.durable) : given;
  const dataDir = path.join(dir, 'data');
  const socketDir = path.join(dir, 'run');
  fs.mkdirSync(socketDir, { recursive: true });
  if (user) chownTree(dir, user.uid, user.gid);
  const command = (binary: string, args: string[]) =>
    user
      ? [user.prefix[0]!, [...user.prefix.slice(1), path.join(binDir, binary), ...args]]
      : [path.join(binDir, binary), args];

  if (!fs.existsSync(path.join(dataDir, 'PG_VERSION'))) {
    fs.rmSync(dataDir, { recursive: true, force: true });
    const [cmd, args] = command('initdb', [
      '-D',
      dataDir,
      '-U',
      SUPERUSER,
      '-A',
      'trust',
      '-E',
      'UTF8',
      '--locale=C',
      '--no-sync',
    ]);
    const result = spawnSync(cmd as string, args as string[], { encoding: 'utf8' });
    if (result.status !== 0) throw new Error(`initdb failed (exit ${result.status}): ${result.stderr}`);
  }

  const port = await freePort();
  const settings = [
    `listen_addresses=`,
    `unix_socket_directories=${socketDir}`,
    `unix_socket_permissions=0700`,
    'max_connections=200',
    // Plan each execution of FerretDB's prepared statements with its parameters: its filters name the
    // field as a parameter (`_jsonb->$1 @> $2`), which only a custom plan matches to an index on
    // `(_jsonb->'field')` (postgres-indexes.ts).
    'plan_cache_mode=force_custom_plan',
    ...(opts.durable ? [] : ['fsync=off', 'synchronous_commit=off', 'full_page_writes=off']),
  ];
  const [cmd, args] = command('postgres', ['-D', dataDir, '-p', String(port), ...settings.flatMap((s) => ['-c', s])]);
  const started = startDetached('postgres', cmd as string, args as string[]);
  const psql = (sql: string, database = 'postgres') =>
    spawnSync(
      path.join(binDir, 'psql'),
      ['-h', socketDir, '-p', String(port), '-U', SUPERUSER, '-d', database, '-v', 'ON_ERROR_STOP=1', '-qAtc', sql],
      { encoding: 'utf8' },
    );
  try {
    await waitFor('PostgreSQL', async () => psql('select 1').status === 0, { timeoutMs: 60_000, process: started });
    if (psql(`select 1 from pg_database where datname = '${DATABASE}'`).stdout.trim() !== '1') {
      const created = psql(`create database ${DATABASE}`);
      if (created.status !== 0) throw new Error(`create database ${DATABASE}: ${created.stderr}`);
    }
    const companions = psql(GIN_COMPANIONS_SQL, DATABASE);
    if (companions.status !== 0) throw new Error(`GIN companions of FerretDB's indexes: ${companions.stderr}`);
  } catch (error) {
    await stopPostgres(started.pid);
    throw error;
  }
  const url = `postgres://${SUPERUSER}@/${DATABASE}?host=${encodeURIComponent(socketDir)}&port=${port}`;
  return { pid: started.pid, port, socketDir, url };
}

/** Fast shutdown (SIGINT: clients are disconnected, no waiting for them), by PID. */
export async function stopPostgres(pid: number): Promise<void> {
  await stopProcess(pid, 30_000, 'SIGINT');
}
