/**
 * What a status stream (WatchStatus, EMCO's StatusRegister) sends: the status read again after
 * every change, one read after another so that messages keep their order, and written only when
 * it differs from the last one sent.
 */
import type { ServerWritableStream } from '@grpc/grpc-js';
import { UnavailableError } from '../errors.js';
import type { Logger } from '../logger.js';
import { toGrpcError } from './errors.js';

export class StatusFollower<T> {
  private last = '';
  private reads: Promise<void> = Promise.resolve();

  constructor(
    private readonly opts: {
      isOpen: () => boolean;
      render: () => Promise<T>;
      write: (message: T) => void;
      fail: (error: unknown) => void;
    },
  ) {}

  /** Reads and (if it changed) sends the status, after the reads already asked for. */
  readonly refresh = (): void => {
    this.after(async () => {
      if (!this.opts.isOpen()) return;
      try {
        const message = await this.opts.render();
        const key = JSON.stringify(message);
        if (!this.opts.isOpen() || key === this.last) return;
        this.last = key;
        this.opts.write(message);
      } catch (error) {
        this.opts.fail(error);
      }
    });
  };

  /** Runs `work` once every read asked for so far is done (e.g. ending the stream after what was written). */
  after(work: () => void | Promise<void>): void {
    this.reads = this.reads.then(work);
  }
}

/**
 * The life of one status stream: open until the client goes, it fails, or the DCM shuts down
 * (the stream is in `streams`, ended with UNAVAILABLE then); what it holds is given back once,
 * by the `onClose` functions, the last added first.
 */
export class StatusStreamLife {
  open = true;
  private readonly cleanups: (() => void)[] = [];

  constructor(
    private readonly call: ServerWritableStream<unknown, unknown>,
    private readonly what: string,
    private readonly logger: Logger,
    streams: Set<() => void>,
    shutdownHint: string,
  ) {
    const endForShutdown = () => this.fail(new UnavailableError(`the DCM is shutting down; ${shutdownHint}`));
    streams.add(endForShutdown);
    this.onClose(() => streams.delete(endForShutdown));
    call.on('cancelled', this.close);
    call.on('close', this.close);
    call.on('error', this.close);
  }

  onClose(cleanup: () => void): void {
    this.cleanups.unshift(cleanup);
  }

  readonly close = (): void => {
    if (!this.open) return;
    this.open = false;
    for (const cleanup of this.cleanups) cleanup();
  };

  readonly fail = (error: unknown): void => {
    if (!this.open) return;
    this.close();
    this.call.emit('error', toGrpcError(error, this.logger, this.what));
  };
}
