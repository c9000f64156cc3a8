/**
 * A small typed event bus (the events are src/domain/events.ts). A feature emits what happened;
 * the features that keep something of it subscribe in their factory. `emit` runs every handler
 * at once and settles when they all have (rejecting with a failure, as the caller's own work
 * would); `objection` asks the question's subscribers in the order they subscribed and answers
 * the first objection.
 */
import type { DomainEvents, DomainQuestions } from '../domain/events.js';

type Handler<P> = (payload: P) => Promise<void> | void;
type Objector<P> = (payload: P) => Promise<string | undefined> | string | undefined;

export class EventBus {
  private readonly handlers = new Map<keyof DomainEvents, Handler<never>[]>();
  private readonly objectors = new Map<keyof DomainQuestions, Objector<never>[]>();

  /** Subscribes to an event; returns the unsubscribe. */
  on<E extends keyof DomainEvents>(event: E, handler: Handler<DomainEvents[E]>): () => void {
    return subscribe(this.handlers, event, handler);
  }

  /** Subscribes to a question: the handler answers why not, or undefined. */
  objectTo<Q extends keyof DomainQuestions>(question: Q, objector: Objector<DomainQuestions[Q]>): () => void {
    return subscribe(this.objectors, question, objector);
  }

  async emit<E extends keyof DomainEvents>(event: E, payload: DomainEvents[E]): Promise<void> {
    const handlers = (this.handlers.get(event) ?? []) as Handler<DomainEvents[E]>[];
    await Promise.all(handlers.map(async (handler) => handler(payload)));
  }

  /** The first objection of the question's subscribers (undefined: none objects). */
  async objection<Q extends keyof DomainQuestions>(
    question: Q,
    payload: DomainQuestions[Q],
  ): Promise<string | undefined> {
    for (const objector of (this.objectors.get(question) ?? []) as Objector<DomainQuestions[Q]>[]) {
      const reason = await objector(payload);
      if (reason !== undefined) return reason;
    }
    return undefined;
  }
}

function subscribe<K, F>(map: Map<K, F[]>, key: K, fn: F): () => void {
  const list = map.get(key) ?? [];
  list.push(fn);
  map.set(key, list);
  return () => {
    const at = list.indexOf(fn);
    if (at >= 0) list.splice(at, 1);
  };
}
