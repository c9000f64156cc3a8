/**
 * The DCM's background work, registered in one place and started and stopped as a whole
 * (src/main.ts). A job is either periodic (`run` every `intervalMs`, see periodic.ts) or a
 * service with its own `start`/`stop` (the drift watcher). `replicas: 'all'` runs it on every
 * replica (the job makes its own work exclusive, e.g. by a logical cloud's lease); `'one'` runs
 * each turn only on the replica that holds the job's lease in the database.
 */
import type { LeaseStore } from '../db/lease-store.js';
import type { Logger } from '../logger.js';
import { PeriodicJob } from './periodic.js';

interface JobBase {
  name: string;
  /** Every replica, or only the one holding the job's lease. */
  replicas: 'one' | 'all';
  /** false: registered but not started (e.g. turned off by the configuration). */
  enabled?: boolean;
}

export interface PeriodicJobSpec extends JobBase {
  intervalMs: number;
  run(): Promise<unknown>;
  /** Run once when started, before the registry's `start()` resolves (a failure fails the start). */
  runAtStart?: boolean;
}

export interface ServiceJobSpec extends JobBase {
  replicas: 'all';
  /** Started in the background: a failure is logged, it does not fail the registry's start. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

export type JobSpec = PeriodicJobSpec | ServiceJobSpec;

export interface JobRegistryOptions {
  logger: Logger;
  /** For jobs of one replica: the leases, this replica's name. */
  leases?: Pick<LeaseStore, 'acquire'>;
  replicaId?: string;
}

interface Running {
  stop(): Promise<void>;
}

export class JobRegistry {
  private readonly jobs: JobSpec[] = [];
  private running: Running[] = [];

  constructor(private readonly options: JobRegistryOptions) {}

  register(job: JobSpec): this {
    if (this.jobs.some((j) => j.name === job.name)) throw new Error(`a job named ${job.name} is registered already`);
    if (job.replicas === 'one' && (!this.options.leases || !this.options.replicaId)) {
      throw new Error(`job ${job.name} runs on one replica: the registry needs leases and a replica id`);
    }
    this.jobs.push(job);
    return this;
  }

  /** The registered jobs' names, in order (status, tests). */
  names(): string[] {
    return this.jobs.map((j) => j.name);
  }

  /** Starts every enabled job (or only those named: tests), in the order registered. */
  async start(only?: readonly string[]): Promise<void> {
    if (this.running.length > 0) return;
    for (const job of this.jobs) {
      if (only ? !only.includes(job.name) : job.enabled === false) continue;
      if ('run' in job) {
        const run = job.replicas === 'one' ? this.onOneReplica(job) : () => job.run();
        if (job.runAtStart) await run();
        const periodic = new PeriodicJob(job.name, run, this.options.logger);
        periodic.start(job.intervalMs);
        this.running.push(periodic);
      } else {
        void job
          .start()
          .catch((error: unknown) => this.options.logger.error({ err: error }, `${job.name} could not start`));
        this.running.push(job);
      }
    }
  }

  /** Stops every started job, in the order started, each waiting for its run under way. */
  async stop(): Promise<void> {
    const running = this.running;
    this.running = [];
    for (const job of running) await job.stop();
  }

  /** A turn of the job, run only while this replica holds the job's lease (held for one interval). */
  private onOneReplica(job: PeriodicJobSpec): () => Promise<unknown> {
    const { leases, replicaId } = this.options;
    return async () => {
      if (!(await leases!.acquire(`job:${job.name}`, replicaId!, job.intervalMs))) return undefined;
      return job.run();
    };
  }
}
