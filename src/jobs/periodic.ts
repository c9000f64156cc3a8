/**
 * A background job run every interval: one run at a time (a run still under way when the next
 * is due makes that one skip), failures logged and the job kept going, `stop()` waits for the run
 * under way. Timers do not keep the process alive.
 */
import type { Logger } from '../logger.js';

export class PeriodicJob {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly what: string,
    private readonly run: () => Promise<unknown>,
    private readonly logger: Logger,
  ) {}

  start(intervalMs: number): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      if (this.running) return;
      this.running = this.run()
        .then(() => undefined)
        .catch((error: unknown) => this.logger.warn({ err: error }, `${this.what} failed`))
        .finally(() => (this.running = undefined));
    }, intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }
}
