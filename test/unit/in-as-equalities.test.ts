import { describe, expect, it } from '@jest/globals';
import { splittableIn } from '../../src/db/in-as-equalities.js';

describe('an $in asked as equalities', () => {
  it('splits the one top-level $in of scalars, keeping the other conditions and each value once', () => {
    expect(splittableIn({ project: 'p', logicalCloudId: { $in: ['a', 'b', 'a'] } })).toEqual({
      key: 'logicalCloudId',
      values: ['a', 'b'],
      rest: { project: 'p' },
    });
  });

  it('leaves alone what it cannot split', () => {
    expect(splittableIn({ project: 'p' })).toBeUndefined();
    expect(splittableIn({ a: { $in: ['x'] }, b: { $in: ['y'] } })).toBeUndefined();
    expect(splittableIn({ 'data.cluster': { $in: ['x'] } })).toBeUndefined();
    expect(splittableIn({ a: { $in: ['x'], $ne: 'y' } })).toBeUndefined();
    expect(splittableIn({ a: { $in: [{ nested: 1 }] } })).toBeUndefined();
    expect(splittableIn({ a: { $in: Array.from({ length: 501 }, (_, i) => i) } })).toBeUndefined();
  });
});
