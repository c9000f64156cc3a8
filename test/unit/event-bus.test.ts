/** The typed event bus: every handler of an event runs; objections are asked in order, the first one answers. */
import { describe, expect, it } from '@jest/globals';
import { EventBus } from '../../src/jobs/event-bus.js';

describe('the event bus', () => {
  it('runs every handler of an event, waits for them and passes on a failure', async () => {
    const bus = new EventBus();
    const seen: string[] = [];
    bus.on('logicalCloudDeleted', async ({ logicalCloudId }) => {
      await new Promise((resolve) => setTimeout(resolve, 1));
      seen.push(`a:${logicalCloudId}`);
    });
    const off = bus.on('logicalCloudDeleted', ({ name }) => void seen.push(`b:${name}`));
    bus.on('clusterUnregistered', () => void seen.push('other event'));
    await bus.emit('logicalCloudDeleted', { logicalCloudId: 'id-1', project: 'p', name: 'lc' });
    expect(seen.sort()).toEqual(['a:id-1', 'b:lc']);
    off();
    seen.length = 0;
    await bus.emit('logicalCloudDeleted', { logicalCloudId: 'id-2', project: 'p', name: 'lc' });
    expect(seen).toEqual(['a:id-2']);
    bus.on('logicalCloudDeleted', () => Promise.reject(new Error('could not forget')));
    await expect(bus.emit('logicalCloudDeleted', { logicalCloudId: 'id-3', project: 'p', name: 'lc' })).rejects.toThrow(
      'could not forget',
    );
  });

  it('answers the first objection to a question, or none', async () => {
    const bus = new EventBus();
    const question = { provider: 'p', cluster: 'c' };
    expect(await bus.objection('clusterUnregistering', question)).toBeUndefined();
    const asked: string[] = [];
    bus.objectTo('clusterUnregistering', () => void asked.push('first'));
    bus.objectTo('clusterUnregistering', async ({ cluster }) => `is in use (${cluster})`);
    bus.objectTo('clusterUnregistering', () => {
      asked.push('never');
      return 'later';
    });
    expect(await bus.objection('clusterUnregistering', question)).toBe('is in use (c)');
    expect(asked).toEqual(['first']);
  });
});
