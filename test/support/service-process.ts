/**
 * The DCM as a real process (`node --import tsx src/main.ts`), the way it runs in
 * production: its own configuration from the environment, HTTP and gRPC on free ports of
 * 127.0.0.1, logs in a file. Stopped by its PID.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import supertest from 'supertest';
import { freePort, isAlive, waitFor } from '../testenv/processes.js';
import { repoRoot } from '../testenv/layout.js';

export interface ServiceProcess {
  name: string;
  pid: number;
  url: string;
  http: ReturnType<typeof supertest>;
  log: string;
  /** The ports it listens on (REST, gRPC). */
  httpPort: number;
  grpcPort: number;
  /** Resolves with the exit code (or signal) once the process has ended. */
  exited: Promise<number | NodeJS.Signals>;
  logText(): string;
  kill(signal: NodeJS.Signals): void;
  stop(): Promise<void>;
}

function launch(
  name: string,
  env: NodeJS.ProcessEnv,
): { child: ChildProcess; log: string; exited: Promise<number | NodeJS.Signals> } {
  const logDir = fs.mkdtempSync(path.join(os.tmpdir(), 'dcm-process-'));
  const log = path.join(logDir, `${name}.log`);
  const fd = fs.openSync(log, 'a');
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: repoRoot,
    stdio: ['ignore', fd, fd],
    env: { PATH: process.env.PATH, HOME: process.env.HOME, DCM_HOST: '127.0.0.1', DCM_LOG_LEVEL: 'info', ...env },
  });
  fs.closeSync(fd);
  if (child.pid === undefined) throw new Error(`could not start ${name}`);
  const exited = new Promise<number | NodeJS.Signals>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? signal!)),
  );
  return { child, log, exited };
}

/** How to reach the process: `tlsCa` (PEM) when it serves TLS (DCM_TLS_CERT_FILE), for https:// and the readiness check. */
export interface ServiceProcessOptions {
  tlsCa?: string;
}

/** GET over HTTPS trusting `ca`: whether the answer is 2xx. */
function httpsOk(url: string, ca: string): Promise<boolean> {
  return new Promise((resolve, reject) => {
    https
      .get(url, { ca }, (res) => {
        res.resume();
        resolve((res.statusCode ?? 500) < 300);
      })
      .on('error', reject);
  });
}

/** Starts a DCM process and waits until it answers /readyz. */
export async function startServiceProcess(
  name: string,
  env: NodeJS.ProcessEnv,
  options: ServiceProcessOptions = {},
): Promise<ServiceProcess> {
  const started = await spawnServiceProcess(name, env, options);
  await started.ready();
  return started;
}

/** Starts a DCM process; `ready()` waits until it answers /readyz (and kills it if it never does). */
export async function spawnServiceProcess(
  name: string,
  env: NodeJS.ProcessEnv,
  options: ServiceProcessOptions = {},
): Promise<ServiceProcess & { ready(): Promise<void> }> {
  const [httpPort, grpcPort] = [await freePort(), await freePort()];
  const { child, log, exited } = launch(name, {
    DCM_HTTP_PORT: String(httpPort),
    DCM_GRPC_PORT: String(grpcPort),
    ...env,
  });
  const url = `${options.tlsCa ? 'https' : 'http'}://127.0.0.1:${httpPort}`;
  const pid = child.pid!;
  const started: ServiceProcess & { ready(): Promise<void> } = {
    name,
    pid,
    url,
    http: supertest(url),
    log,
    httpPort,
    grpcPort,
    exited,
    logText: () => fs.readFileSync(log, 'utf8'),
    kill: (signal) => {
      if (isAlive(pid)) process.kill(pid, signal);
    },
    stop: async () => {
      if (!isAlive(pid)) return;
      process.kill(pid, 'SIGTERM');
      await exited;
    },
    ready: async () => {
      try {
        await waitFor(
          `DCM process ${name}`,
          async () => (options.tlsCa ? httpsOk(`${url}/readyz`, options.tlsCa) : (await fetch(`${url}/readyz`)).ok),
          { timeoutMs: 60_000, process: { name, pid, log } },
        );
      } catch (error) {
        started.kill('SIGKILL');
        throw error;
      }
    },
  };
  return started;
}

/** Runs a DCM process that is expected to refuse to start: its exit code and output. */
export async function runServiceProcessToExit(
  name: string,
  env: NodeJS.ProcessEnv,
): Promise<{ code: number | NodeJS.Signals; output: string }> {
  const [httpPort, grpcPort] = [await freePort(), await freePort()];
  const { child, log, exited } = launch(name, {
    DCM_HTTP_PORT: String(httpPort),
    DCM_GRPC_PORT: String(grpcPort),
    ...env,
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  const code = await exited;
  clearTimeout(timer);
  return { code, output: fs.readFileSync(log, 'utf8') };
}
