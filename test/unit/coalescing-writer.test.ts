/** Status writes of one logical cloud: one at a time, each taking what arrived meanwhile. */
import { describe, expect, it } from '@jest/globals';
import { CoalescingWriter } from '../../src/features/lifecycle/coalescing-writer.js';

/** A write that finishes only when the test says so. */
function gatedWrites() {
  const writes: { values: string[]; finish: () => void; fail: (error: Error) => void }[] = [];
  let running = 0;
  let maxRunning = 0;
  const writeAll = (_document: string, values: string[]) =>
    new Promise<void>((resolve, reject) => {
      maxRunning = Math.max(maxRunning, ++running);
      const done = (settle: () => void) => () => {
        running--;
        settle();
      };
      writes.push({ values, finish: done(resolve), fail: (error) => done(() => reject(error))() });
    });
  return { writes, writeAll, maxRunning: () => maxRunning };
}

const settledSoon = async (promise: Promise<unknown>) => {
  let state = 'pending';
  promise.then(
    () => (state = 'resolved'),
    () => (state = 'rejected'),
  );
  for (let i = 0; i < 10; i++) await Promise.resolve();
  return state;
};

describe('CoalescingWriter', () => {
  it('writes one at a time, the next write taking every value that arrived meanwhile, the latest per key', async () => {
    const g = gatedWrites();
    const writer = new CoalescingWriter(g.writeAll);
    const first = writer.write('lc', 'c1', 'c1 Applying');
    const queued = [writer.write('lc', 'c2', 'c2 Applying'), writer.write('lc', 'c3', 'c3 Applying'), writer.write('lc', 'c2', 'c2 Applied')];
    await Promise.resolve();
    expect(g.writes.map((w) => w.values)).toEqual([['c1 Applying']]);
    expect(await settledSoon(queued[0]!)).toBe('pending');

    g.writes[0]!.finish();
    await first;
    await Promise.resolve();
    expect(g.writes.map((w) => w.values)).toEqual([['c1 Applying'], ['c2 Applied', 'c3 Applying']]);
    g.writes[1]!.finish();
    await Promise.all(queued);
    await writer.idle('lc');
    expect(writer.busy('lc')).toBe(false);
    expect(g.maxRunning()).toBe(1);
  });

  it('a failed write rejects only the values it held; the next write goes on', async () => {
    const g = gatedWrites();
    const writer = new CoalescingWriter(g.writeAll);
    const first = writer.write('lc', 'c1', 'c1');
    const second = writer.write('lc', 'c2', 'c2');
    g.writes[0]!.fail(new Error('database gone'));
    await expect(first).rejects.toThrow('database gone');
    await Promise.resolve();
    expect(g.writes[1]!.values).toEqual(['c2']);
    g.writes[1]!.finish();
    await expect(second).resolves.toBeUndefined();
    await writer.idle('lc');
    expect(writer.busy('lc')).toBe(false);
  });
});
