/**
 * The Dockerfile's recipe, replayed without a Docker engine: the `npm` steps of the stages
 * the runtime stage copies from run for real in temporary directories (one per stage, the
 * stage's filesystem root), the runtime stage's COPYs lay out its /app, and its CMD is started
 * there in production mode (encryption keys and API tokens from files, as the Helm chart
 * mounts them) against the test MongoDB. Checked: the layout holds only production
 * dependencies, the build context (.dockerignore) admits what the COPYs need, the service
 * answers /healthz and /readyz without credentials and the API only with them, the
 * HEALTHCHECK passes while it runs and fails after it stops, SIGTERM ends it cleanly, and it
 * writes nothing into /app or its home directory (the pod's read-only root filesystem).
 *
 * Not replayed: the runtime stage's RUNs (user, removal of npm; system set-up), USER, the
 * base image itself (the host's node and npm stand in for the image's), and the build
 * stage's full `npm ci` (the clone's node_modules, from the same lockfile, is linked instead).
 * The production install (`npm ci --omit=dev`) and `npm run build` do run, in about 15 s.
 */
import { spawn, spawnSync, execFile, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import grpc from '@grpc/grpc-js';
import { MongoClient } from 'mongodb';
import { loadDcmProto } from '../../src/grpc/proto.js';
import { mongoUrl, uniqueDatabaseName } from '../support/backends.js';
import { repoRoot } from '../testenv/layout.js';
import { freePort } from '../testenv/processes.js';

// ---- a small reader of the Dockerfile -------------------------------------------------------

interface Copy {
  from?: string;
  sources: string[];
  dest: string;
}
interface Stage {
  name: string;
  workdir: string;
  env: Record<string, string>;
  steps: ({ kind: 'copy'; copy: Copy } | { kind: 'run'; command: string })[];
  cmd?: string[];
  healthcheck?: string[];
}

/** Instructions of a Dockerfile: comments dropped, continuation lines joined. */
function instructions(text: string): { keyword: string; args: string }[] {
  const result: { keyword: string; args: string }[] = [];
  let pending = '';
  for (const line of text.split('\n')) {
    if (/^\s*#/.test(line)) continue;
    if (pending === '' && line.trim() === '') continue;
    if (/\\\s*$/.test(line)) {
      pending += `${line.replace(/\\\s*$/, '')} `;
      continue;
    }
    const whole = (pending + line).trim();
    pending = '';
    const match = /^([A-Za-z]+)\s+([\s\S]*)$/.exec(whole);
    if (!match) throw new Error(`Dockerfile: cannot read "${whole}"`);
    result.push({ keyword: match[1]!.toUpperCase(), args: match[2]!.trim() });
  }
  return result;
}

function parseDockerfile(text: string): Stage[] {
  const stages: Stage[] = [];
  const current = () => {
    const stage = stages.at(-1);
    if (!stage) throw new Error('Dockerfile: instruction before FROM');
    return stage;
  };
  for (const { keyword, args } of instructions(text)) {
    switch (keyword) {
      case 'FROM': {
        const name = /\s+AS\s+(\S+)$/i.exec(args)?.[1] ?? String(stages.length);
        stages.push({ name, workdir: '/', env: {}, steps: [] });
        break;
      }
      case 'WORKDIR':
        current().workdir = path.posix.resolve(current().workdir, args);
        break;
      case 'ENV':
        for (const [, key, quoted, plain] of args.matchAll(/(\w+)=(?:"([^"]*)"|(\S*))/g))
          current().env[key!] = quoted ?? plain ?? '';
        break;
      case 'COPY': {
        const words = args.split(/\s+/);
        const flags = words.filter((w) => w.startsWith('--'));
        const paths = words.filter((w) => !w.startsWith('--'));
        const from = flags.find((f) => f.startsWith('--from='))?.slice('--from='.length);
        current().steps.push({ kind: 'copy', copy: { from, sources: paths.slice(0, -1), dest: paths.at(-1)! } });
        break;
      }
      case 'RUN':
        current().steps.push({ kind: 'run', command: args });
        break;
      case 'CMD':
        current().cmd = JSON.parse(args) as string[];
        break;
      case 'HEALTHCHECK':
        current().healthcheck = JSON.parse(args.replace(/^(--\S+\s+)*CMD\s+/, '')) as string[];
        break;
      default: // ARG, LABEL, USER, EXPOSE: nothing to lay out
    }
  }
  return stages;
}

/** Docker's .dockerignore rules, for the patterns an allowlist uses (`*`, `name`, `dir/**`, `!…`). */
function dockerignored(patterns: string[], file: string): boolean {
  const escape = (text: string) => text.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  const toRegExp = (glob: string) =>
    new RegExp(
      `^${glob
        .split('**')
        .map((part) =>
          part
            .split('*')
            .map((seg) => seg.split('?').map(escape).join('[^/]'))
            .join('[^/]*'),
        )
        .join('.*')}$`,
    );
  let ignored = false;
  const parts = path.posix.normalize(file).split('/');
  for (const raw of patterns) {
    const negated = raw.startsWith('!');
    const pattern = toRegExp(path.posix.normalize(negated ? raw.slice(1) : raw).replace(/^\//, ''));
    // A pattern matches the path itself or a directory above it.
    if (parts.some((_, i) => pattern.test(parts.slice(0, i + 1).join('/')))) ignored = !negated;
  }
  return ignored;
}

// ---- replaying it ---------------------------------------------------------------------------

function copyInto(source: string, dest: string): void {
  if (fs.statSync(source).isDirectory()) {
    fs.mkdirSync(dest, { recursive: true });
    fs.cpSync(source, dest, { recursive: true, verbatimSymlinks: true });
  } else {
    const target = dest.endsWith('/') ? path.join(dest, path.basename(source)) : dest;
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.copyFileSync(source, target);
  }
}

describe('the container image recipe (Dockerfile), replayed without Docker', () => {
  const dockerfile = parseDockerfile(fs.readFileSync(path.join(repoRoot, 'Dockerfile'), 'utf8'));
  const ignore = fs
    .readFileSync(path.join(repoRoot, '.dockerignore'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  const runtime = dockerfile.at(-1)!;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'dcm-image-'));
  const rootOf = (stage: string) => path.join(tmp, 'stages', stage);
  const app = path.join(rootOf(runtime.name), runtime.workdir);
  const home = path.join(tmp, 'home');
  const secrets = path.join(tmp, 'secrets');
  const databaseName = uniqueDatabaseName('container_runtime');
  const apiToken = randomBytes(24).toString('base64url');
  const metricsToken = randomBytes(24).toString('base64url');
  let httpPort: number;
  let grpcPort: number;
  let child: ChildProcess | undefined;
  let exited: Promise<number | null>;
  let output = '';
  let appSnapshot: string[];

  /** Lays out one stage; the runtime stage's RUNs are system set-up and are not replayed. */
  function replay(stage: Stage, built: Set<string>): void {
    if (built.has(stage.name)) return;
    const root = rootOf(stage.name);
    const workdir = path.join(root, stage.workdir);
    fs.mkdirSync(workdir, { recursive: true });
    for (const step of stage.steps) {
      if (step.kind === 'run') {
        if (stage === runtime) continue;
        if (!/^npm\s/.test(step.command) || /[;&|`$]/.test(step.command))
          throw new Error(
            `cannot replay RUN ${step.command} (stage ${stage.name}): keep build stages to plain npm commands`,
          );
        // A full install (dev dependencies included, as the build stage makes) is the one the
        // clone already has from the same lockfile: linked instead of repeated (saves ~30 s).
        if (/^npm ci\b/.test(step.command) && !/--omit[= ]dev\b/.test(step.command)) {
          fs.symlinkSync(path.join(repoRoot, 'node_modules'), path.join(workdir, 'node_modules'));
          continue;
        }
        const started = Date.now();
        const result = spawnSync('sh', ['-c', step.command], {
          cwd: workdir,
          encoding: 'utf8',
          env: { ...process.env, ...stage.env },
        });
        if (result.status !== 0)
          throw new Error(`RUN ${step.command} (stage ${stage.name}) failed:\n${result.stdout}\n${result.stderr}`);
        console.log(`[image] ${stage.name}: RUN ${step.command} (${Math.round((Date.now() - started) / 1000)} s)`);
        continue;
      }
      const { from, sources, dest } = step.copy;
      const target = path.join(workdir, dest) + (dest.endsWith('/') ? '/' : '');
      for (const source of sources) {
        if (from === undefined) {
          if (dockerignored(ignore, source))
            throw new Error(`COPY ${source}: excluded from the build context by .dockerignore`);
          copyInto(path.join(repoRoot, source), target);
        } else {
          const origin = dockerfile.find((s) => s.name === from);
          if (!origin) throw new Error(`COPY --from=${from}: no such stage`);
          replay(origin, built);
          copyInto(path.join(rootOf(from), path.posix.resolve(origin.workdir, source)), target);
        }
      }
    }
    built.add(stage.name);
  }

  /** Every file under a directory with its size and modification time. */
  const snapshot = (dir: string): string[] =>
    (fs.readdirSync(dir, { recursive: true, withFileTypes: true }) as fs.Dirent[])
      .map((d) => path.join(d.parentPath, d.name))
      .map((file) => {
        const stat = fs.lstatSync(file);
        return `${path.relative(dir, file)} ${stat.size} ${stat.mtimeMs}`;
      })
      .sort();

  const get = (pathname: string, token?: string) =>
    fetch(`http://127.0.0.1:${httpPort}${pathname}`, {
      headers: token ? { authorization: `Bearer ${token}` } : {},
      signal: AbortSignal.timeout(5000),
    });

  /** Runs the HEALTHCHECK's command as Docker would inside the container. */
  const healthcheck = (): Promise<number> =>
    new Promise((resolve) => {
      const [command, ...args] = runtime.healthcheck!;
      execFile(
        command!,
        args,
        {
          cwd: app,
          env: { PATH: process.env.PATH, HOME: home, ...runtime.env, DCM_HTTP_PORT: String(httpPort) },
          timeout: 10_000,
        },
        (error) => resolve(error ? (typeof error.code === 'number' ? error.code : 1) : 0),
      );
    });

  beforeAll(async () => {
    replay(runtime, new Set());
    appSnapshot = snapshot(app);
    fs.mkdirSync(home);
    fs.mkdirSync(secrets);
    fs.writeFileSync(path.join(secrets, 'keys'), `k1:${randomBytes(32).toString('base64')}\n`);
    fs.writeFileSync(path.join(secrets, 'tokens.yaml'), `- name: ops\n  token: ${apiToken}\n  role: admin\n`);
    fs.writeFileSync(path.join(secrets, 'metrics-token'), `${metricsToken}\n`);
    [httpPort, grpcPort] = [await freePort(), await freePort()];

    const [command, ...args] = runtime.cmd!;
    // The container's environment: the image's ENV and what the chart sets; not this process's.
    child = spawn(command!, args, {
      cwd: app,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        PATH: process.env.PATH,
        HOME: home,
        ...runtime.env,
        MONGO_URL: mongoUrl(),
        DCM_DATABASE: databaseName,
        DCM_HOST: '127.0.0.1',
        DCM_HTTP_PORT: String(httpPort),
        DCM_GRPC_PORT: String(grpcPort),
        DCM_REPLICA_ID: 'dcm-7d9c5b6f4-abcde',
        DCM_ENCRYPTION_KEYS_FILE: path.join(secrets, 'keys'),
        DCM_AUTH_TOKENS_FILE: path.join(secrets, 'tokens.yaml'),
        DCM_METRICS_TOKEN_FILE: path.join(secrets, 'metrics-token'),
      },
    });
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const started = child;
    exited = new Promise((resolve) => started.on('exit', (code) => resolve(code)));

    // Wait until it answers (or fail with its output once it has exited or after 60 s).
    let running = true;
    void exited.then(() => (running = false));
    const deadline = Date.now() + 60_000;
    for (;;) {
      const ok = await get('/healthz').then(
        (r) => r.ok,
        () => false,
      );
      if (ok) break;
      if (!running || Date.now() > deadline) throw new Error(`the service did not come up:\n${output}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }, 10 * 60_000);

  afterAll(async () => {
    if (child?.exitCode === null) {
      process.kill(child.pid!, 'SIGKILL');
      await exited;
    }
    const mongo = await MongoClient.connect(mongoUrl());
    await mongo.db(databaseName).dropDatabase();
    await mongo.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('copies only what .dockerignore lets into the build context, and it keeps out the clone’s state', () => {
    const contextCopies = dockerfile
      .flatMap((s) => s.steps)
      .flatMap((step) => (step.kind === 'copy' && step.copy.from === undefined ? step.copy.sources : []));
    expect(contextCopies).toEqual(expect.arrayContaining(['package.json', 'src', 'proto']));
    for (const source of contextCopies) expect(dockerignored(ignore, source)).toBe(false);
    for (const excluded of ['node_modules', '.git', 'dist', '.testenv', '.dcm-dev', 'test', 'helm', '.env'])
      expect(dockerignored(ignore, excluded)).toBe(true);
  });

  it('lays out package.json, the compiled service, its protos and production dependencies only', () => {
    for (const file of ['package.json', 'dist/main.js', 'proto/dcm/v1/dcm.proto', 'node_modules/express/package.json'])
      expect(fs.existsSync(path.join(app, file))).toBe(true);
    expect(fs.existsSync(path.join(app, 'src'))).toBe(false);
    const lock = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { dev?: boolean }>;
    };
    const installed = fs
      .readdirSync(path.join(app, 'node_modules'))
      .filter((name) => !name.startsWith('.'))
      .flatMap((name) =>
        name.startsWith('@')
          ? fs.readdirSync(path.join(app, 'node_modules', name)).map((scoped) => `${name}/${scoped}`)
          : [name],
      );
    expect(installed.length).toBeGreaterThan(20);
    const devOnly = installed.filter((name) => lock.packages[`node_modules/${name}`]?.dev === true);
    expect(devOnly).toEqual([]);
    for (const tool of ['typescript', 'jest', 'tsx', 'eslint', 'pino-pretty']) expect(installed).not.toContain(tool);
  });

  it('answers /healthz and /readyz without credentials (the kubelet sends none)', async () => {
    const health = await get('/healthz');
    expect(health.status).toBe(200);
    const ready = await get('/readyz');
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual(expect.objectContaining({ status: 'ready' }));
  });

  it('serves the API only with a token from the mounted token file, and /metrics with its token', async () => {
    expect((await get('/v2/projects')).status).toBe(401);
    const projects = await get('/v2/projects', apiToken);
    expect(projects.status).toBe(200);
    expect((await get('/metrics')).status).toBe(401);
    const metrics = await get('/metrics', metricsToken);
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toMatch(/^# HELP /m);
  });

  it('serves gRPC health with the protos laid out next to dist/', async () => {
    const { Health } = loadDcmProto();
    const client = new Health(`127.0.0.1:${grpcPort}`, grpc.credentials.createInsecure());
    try {
      const status = await new Promise<unknown>((resolve, reject) => {
        const check = client.Check as (
          request: unknown,
          options: grpc.CallOptions,
          callback: (error: Error | null, response: unknown) => void,
        ) => void;
        check.call(client, { service: '' }, { deadline: Date.now() + 5000 }, (error, response) =>
          error ? reject(error) : resolve(response),
        );
      });
      expect(status).toEqual({ status: 'SERVING' });
    } finally {
      client.close();
    }
  });

  it('passes the image HEALTHCHECK while it runs', async () => {
    expect(await healthcheck()).toBe(0);
  });

  it('stops cleanly on SIGTERM, after which the HEALTHCHECK fails, having written nothing into /app or its home', async () => {
    process.kill(child!.pid!, 'SIGTERM');
    expect(await exited).toBe(0);
    expect(await healthcheck()).not.toBe(0);
    expect(snapshot(app)).toEqual(appSnapshot);
    expect(fs.readdirSync(home)).toEqual([]);
  });
});
