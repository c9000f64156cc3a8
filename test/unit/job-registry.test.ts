/** The job registry: periodic and service jobs started and stopped as a whole; one-replica jobs behind a lease. */
import { describe, expect, it } from '@jest/globals';
import pino from 'pino';
import { JobRegistry } from '../../src/jobs/registry.js';

const logger = pino({ level: 'silent' });
const until = async (ok: () => boolean) => {
  while (!ok()) await new Promise((resolve) => setTimeout(resolve, 5));
};

describe('the job registry', () => {
  it('starts every enabled job (periodic ones run at start when asked), stops them all, and refuses a name twice', async () => {
    const runs: string[] = [];
    const service = { started: 0, stopped: 0 };
    const jobs = new JobRegistry({ logger })
      .register({
        name: 'first',
        replicas: 'all',
        intervalMs: 10,
        runAtStart: true,
        run: async () => void runs.push('first'),
      })
      .register({
        name: 'off',
        replicas: 'all',
        intervalMs: 10,
        enabled: false,
        run: async () => void runs.push('off'),
      })
      .register({
        name: 'watcher',
        replicas: 'all',
        start: async () => void service.started++,
        stop: async () => void service.stopped++,
      });
    expect(jobs.names()).toEqual(['first', 'off', 'watcher']);
    expect(() => jobs.register({ name: 'first', replicas: 'all', intervalMs: 1, run: async () => undefined })).toThrow(
      /registered already/,
    );
    await jobs.start();
    expect(runs).toEqual(['first']);
    await until(() => runs.length >= 3);
    expect(service.started).toBe(1);
    await jobs.stop();
    const after = runs.length;
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(runs.length).toBe(after);
    expect(runs).not.toContain('off');
    expect(service.stopped).toBe(1);
  });

  it('starts only the jobs named', async () => {
    const runs: string[] = [];
    const jobs = new JobRegistry({ logger })
      .register({ name: 'a', replicas: 'all', intervalMs: 5, run: async () => void runs.push('a') })
      .register({ name: 'b', replicas: 'all', intervalMs: 5, run: async () => void runs.push('b') });
    await jobs.start(['b']);
    await until(() => runs.length >= 2);
    await jobs.stop();
    expect(new Set(runs)).toEqual(new Set(['b']));
  });

  it('runs a one-replica job only while this replica holds its lease', async () => {
    const holders = new Map<string, string>();
    const leases = {
      acquire: async (id: string, holder: string) =>
        (holders.get(id) ?? holder) === holder && !!holders.set(id, holder),
    };
    const runs: string[] = [];
    const replica = (id: string) =>
      new JobRegistry({ logger, leases, replicaId: id }).register({
        name: 'singleton',
        replicas: 'one',
        intervalMs: 5,
        run: async () => void runs.push(id),
      });
    const [a, b] = [replica('a'), replica('b')];
    await a.start();
    await until(() => runs.length > 0);
    await b.start();
    await until(() => runs.length >= 4);
    await Promise.all([a.stop(), b.stop()]);
    expect(new Set(runs)).toEqual(new Set([runs[0]]));
    expect(() =>
      new JobRegistry({ logger }).register({ name: 'x', replicas: 'one', intervalMs: 1, run: async () => undefined }),
    ).toThrow(/leases/);
  });
});
