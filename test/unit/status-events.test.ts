import { describe, expect, it, jest } from '@jest/globals';
import { StatusEvents } from '../../src/features/lifecycle/status-events.js';

describe('status events', () => {
  it('nudges the watchers of a logical cloud on a change, and only them', () => {
    const events = new StatusEvents(60_000);
    const calls: string[] = [];
    const offA = events.subscribe('a', () => calls.push('a'));
    const offB = events.subscribe('b', () => calls.push('b'));
    events.changed('a');
    expect(calls).toEqual(['a']);
    offA();
    offA();
    events.changed('a');
    expect(calls).toEqual(['a']);
    expect(events.listenerCount()).toBe(1);
    offB();
    expect(events.listenerCount()).toBe(0);
  });

  it('also nudges periodically, for changes written by another replica, until unsubscribed', () => {
    jest.useFakeTimers();
    try {
      const events = new StatusEvents(20);
      let nudges = 0;
      const off = events.subscribe('a', () => nudges++);
      jest.advanceTimersByTime(61);
      expect(nudges).toBe(3);
      off();
      jest.advanceTimersByTime(200);
      expect(nudges).toBe(3);
      expect(jest.getTimerCount()).toBe(0);
    } finally {
      jest.useRealTimers();
    }
  });
});
