/**
 * Writes to one document, one at a time, each write taking every value that arrived while
 * the previous one was under way. The clusters of an apply finish concurrently and each
 * sets its status in the logical cloud's status document: FerretDB loses one of two
 * concurrent updates of a document, and N writes one after another put N round trips on the
 * apply's path; coalesced, N clusters finishing at once cost a few writes.
 */
export class CoalescingWriter<V> {
  private pending = new Map<string, V>();
  private waiters: { resolve: () => void; reject: (error: unknown) => void }[] = [];
  private flushing: Promise<void> | undefined;

  constructor(private readonly writeAll: (values: V[]) => Promise<void>) {}

  /** Resolves once a write holding `value` has succeeded; a later value of the same key replaces a waiting one. */
  write(key: string, value: V): Promise<void> {
    this.pending.set(key, value);
    const written = new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject }));
    this.flushing ??= this.flush();
    return written;
  }

  /** Settles once everything asked for so far is written (or has failed). */
  async idle(): Promise<void> {
    await this.flushing;
  }

  get busy(): boolean {
    return this.flushing !== undefined;
  }

  private async flush(): Promise<void> {
    while (this.pending.size > 0) {
      const values = [...this.pending.values()];
      const waiters = this.waiters;
      this.pending = new Map();
      this.waiters = [];
      try {
        await this.writeAll(values);
        for (const w of waiters) w.resolve();
      } catch (error) {
        for (const w of waiters) w.reject(error);
      }
    }
    this.flushing = undefined;
  }
}
