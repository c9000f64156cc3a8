/**
 * Status streams one caller may hold open at once (DCM_WATCH_STREAMS_PER_CALLER), counted across
 * WatchStatus and EMCO's StatusRegister alike: one budget per caller, whichever dialect it speaks.
 */
import grpc, { type ServerWritableStream } from '@grpc/grpc-js';
import type { Principal } from '../auth/authorize.js';

export class CallerStreams {
  /** Open streams per caller (`source:name`); an entry goes when its count reaches 0. */
  private readonly open = new Map<string, number>();

  constructor(private readonly limit: number) {}

  /**
   * Counts a new stream of the caller, or refuses it (RESOURCE_EXHAUSTED, naming the setting and
   * `hint`) and answers undefined. Returns the release to call once when the stream ends.
   */
  claim(
    call: ServerWritableStream<unknown, unknown>,
    principal: Pick<Principal, 'source' | 'name'>,
    what: string,
    hint: string,
  ): (() => void) | undefined {
    // Development mode has no identities (every caller is the one `development` admin): nothing to count per caller.
    if (principal.source === 'development') return () => undefined;
    const key = `${principal.source}:${principal.name}`;
    const held = this.open.get(key) ?? 0;
    if (held >= this.limit) {
      call.emit('error', {
        code: grpc.status.RESOURCE_EXHAUSTED,
        details:
          `at most ${this.limit} ${what} streams per caller are open at once ` +
          `(WatchStatus and StatusRegister together; DCM_WATCH_STREAMS_PER_CALLER); ${hint}`,
      });
      return undefined;
    }
    this.open.set(key, held + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.open.get(key) ?? 1) - 1;
      if (left > 0) this.open.set(key, left);
      else this.open.delete(key);
    };
  }
}
