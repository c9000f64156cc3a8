/**
 * Tells in-process watchers (gRPC WatchStatus) that the lifecycle status of a logical cloud
 * changed. Only a nudge, keyed by the logical cloud's id: a watcher reads the status again,
 * so a missed or merged nudge loses nothing but an intermediate state.
 *
 * With several replicas the status may be written by another process, whose writes this
 * one hears nothing of (FerretDB has no change streams): every subscription is therefore
 * also nudged every `pollMs`, and the watcher sends only what changed.
 */
import { EventEmitter } from 'node:events';

export type StatusListener = () => void;

export class StatusEvents {
  private readonly emitter = new EventEmitter();

  constructor(private readonly pollMs = 1000) {
    // Any number of watchers of one logical cloud is legitimate; leaks are guarded by tests instead.
    this.emitter.setMaxListeners(0);
  }

  changed(logicalCloudId: string): void {
    this.emitter.emit(logicalCloudId);
  }

  /** Calls the listener after every change of the logical cloud's status; returns the unsubscribe. */
  subscribe(logicalCloudId: string, listener: StatusListener): () => void {
    this.emitter.on(logicalCloudId, listener);
    const poll = setInterval(listener, this.pollMs);
    poll.unref();
    let subscribed = true;
    return () => {
      if (!subscribed) return;
      subscribed = false;
      clearInterval(poll);
      this.emitter.off(logicalCloudId, listener);
    };
  }

  /** Listeners of one logical cloud, or of all of them. */
  listenerCount(logicalCloudId?: string): number {
    if (logicalCloudId !== undefined) return this.emitter.listenerCount(logicalCloudId);
    return this.emitter.eventNames().reduce((n, name) => n + this.emitter.listenerCount(name), 0);
  }
}
