/**
 * Writes to documents, one write at a time per document, each taking every value that
 * arrived for that document while the previous one was under way. The clusters of an apply
 * finish concurrently and each sets its part (status, certificate) of one document of the
 * logical cloud: FerretDB loses one of two concurrent updates of a document, and N writes
 * one after another put N round trips on the apply's path; coalesced, N clusters finishing
 * at once cost a few writes.
 */
interface DocumentQueue<V> {
  pending: Map<string, V>;
  waiters: { resolve: () => void; reject: (error: unknown) => void }[];
  flushing: Promise<void>;
}

export class CoalescingWriter<V> {
  private readonly queues = new Map<string, DocumentQueue<V>>();

  /** `writeAll(documentId, values)` writes the values (at most one per key) into the document. */
  constructor(private readonly writeAll: (documentId: string, values: V[]) => Promise<void>) {}

  /**
   * Resolves once a write of the document holding `value` has succeeded; a later value of the
   * same key replaces one still waiting.
   */
  write(documentId: string, key: string, value: V): Promise<void> {
    const existing = this.queues.get(documentId);
    const queue = existing ?? { pending: new Map<string, V>(), waiters: [], flushing: Promise.resolve() };
    queue.pending.set(key, value);
    const written = new Promise<void>((resolve, reject) => queue.waiters.push({ resolve, reject }));
    if (!existing) {
      this.queues.set(documentId, queue);
      queue.flushing = this.flush(documentId, queue);
    }
    return written;
  }

  /** Settles once everything asked for the document so far is written (or has failed). */
  async idle(documentId: string): Promise<void> {
    await this.queues.get(documentId)?.flushing;
  }

  busy(documentId: string): boolean {
    return this.queues.has(documentId);
  }

  private async flush(documentId: string, queue: DocumentQueue<V>): Promise<void> {
    while (queue.pending.size > 0) {
      const values = [...queue.pending.values()];
      const waiters = queue.waiters;
      queue.pending = new Map();
      queue.waiters = [];
      try {
        await this.writeAll(documentId, values);
        for (const w of waiters) w.resolve();
      } catch (error) {
        for (const w of waiters) w.reject(error);
      }
    }
    this.queues.delete(documentId);
  }
}
