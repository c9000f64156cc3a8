/** The bounded work queue: concurrency, order, priority, one waiting item per key, idle; and workAll. */
import { describe, expect, it } from '@jest/globals';
import { WorkQueue, workAll } from '../../src/jobs/work-queue.js';

const tick = () => new Promise((resolve) => setTimeout(resolve, 1));

describe('the work queue', () => {
  it('works at most `concurrency` items at once, first come first served, and tells when it is idle', async () => {
    let running = 0;
    let most = 0;
    const done: number[] = [];
    const queue = new WorkQueue<number>(
      async (n) => {
        running++;
        most = Math.max(most, running);
        await tick();
        done.push(n);
        running--;
      },
      { concurrency: 2 },
    );
    for (const n of [1, 2, 3, 4, 5]) queue.add(n);
    await queue.idle();
    expect(most).toBe(2);
    expect(done.slice(0, 2).sort()).toEqual([1, 2]);
    expect(done).toHaveLength(5);
    expect(queue.isIdle()).toBe(true);
  });

  it('puts items added first in front, queues a key once, and moves a waiting key forward when added first', async () => {
    const order: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const queue = new WorkQueue<string>(
      async (s) => {
        if (s === 'blocker') await gate;
        order.push(s);
      },
      { concurrency: 1, key: (s) => s },
    );
    queue.add('blocker');
    expect(queue.add('a')).toBe(true);
    queue.add('b');
    expect(queue.add('a')).toBe(false);
    queue.add('c', { first: true });
    queue.add('b', { first: true });
    release();
    await queue.idle();
    expect(order).toEqual(['blocker', 'b', 'c', 'a']);
  });

  it('hands failures to onError and keeps going; clear() drops what waits', async () => {
    const errors: unknown[] = [];
    let idleCalls = 0;
    const queue = new WorkQueue<number>(
      async (n) => {
        await tick();
        if (n === 1) throw new Error('boom');
      },
      { concurrency: 1, onError: (error) => errors.push(error), onIdle: () => idleCalls++ },
    );
    queue.add(1);
    queue.add(2);
    queue.add(3);
    queue.clear();
    await queue.idle();
    expect(errors).toHaveLength(1);
    expect(idleCalls).toBeGreaterThan(0);
  });

  it('workAll: bounded, stops taking items once halted, rejects with the first failure', async () => {
    const seen: number[] = [];
    await workAll([1, 2, 3, 4], 2, async (n) => {
      seen.push(n);
    });
    expect(seen.sort()).toEqual([1, 2, 3, 4]);
    const some: number[] = [];
    await workAll(
      [1, 2, 3, 4],
      1,
      async (n) => {
        some.push(n);
      },
      () => some.length >= 2,
    );
    expect(some).toEqual([1, 2]);
    await expect(workAll([1, 2], 1, async () => Promise.reject(new Error('no')))).rejects.toThrow('no');
    await workAll([], 3, async () => undefined);
  });
});
