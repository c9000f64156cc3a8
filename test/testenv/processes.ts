/**
 * Starting, checking and stopping the long-running backend processes. Every process is
 * started detached with its own log file; its PID is what `down` stops it by.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { paths } from './layout.js';

export interface StartedProcess {
  name: string;
  pid: number;
  log: string;
}

export function startDetached(
  name: string,
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv = {},
): StartedProcess {
  fs.mkdirSync(paths.logs, { recursive: true });
  const log = path.join(paths.logs, `${name}.log`);
  const fd = fs.openSync(log, 'a');
  const child = spawn(command, args, {
    detached: true,
    stdio: ['ignore', fd, fd],
    env: { ...process.env, ...env },
  });
  fs.closeSync(fd);
  if (child.pid === undefined) throw new Error(`could not start ${name} (${command})`);
  child.unref();
  return { name, pid: child.pid, log };
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Waits until `check` resolves true, polling; fails with the tail of the log when the process dies. */
export async function waitFor(
  what: string,
  check: () => Promise<boolean>,
  opts: { timeoutMs: number; process?: StartedProcess },
): Promise<void> {
  const deadline = Date.now() + opts.timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (opts.process && !isAlive(opts.process.pid)) {
      throw new Error(
        `${what}: process ${opts.process.name} (pid ${opts.process.pid}) exited\n${tail(opts.process.log)}`,
      );
    }
    if (Date.now() > deadline) {
      throw new Error(
        `${what}: not ready after ${opts.timeoutMs} ms${opts.process ? `\n${tail(opts.process.log)}` : ''}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

export function tail(file: string, lines = 25): string {
  try {
    return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** Stops a process by PID: `signal` (SIGTERM), then SIGKILL if it has not gone after the grace period. */
export async function stopProcess(pid: number, graceMs = 10000, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (!isAlive(pid)) return;
  try {
    process.kill(pid, signal);
  } catch {
    return;
  }
  const deadline = Date.now() + graceMs;
  while (isAlive(pid) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
  if (isAlive(pid)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export function tcpOpen(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
