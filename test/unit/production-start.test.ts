/**
 * Production runs the DCM with node flags that keep it under its memory target
 * (docs/operations.md): the image's CMD and `npm run start:prod` must carry the same ones, and the
 * benchmark's compiled DCM (which judges the target) takes them from `start:prod`.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { productionNodeFlags } from '../../bench/dcm.js';
import { repoRoot } from '../../test/testenv/layout.js';

const dockerfileCmd = (): string[] => {
  const text = fs.readFileSync(path.join(repoRoot, 'Dockerfile'), 'utf8');
  const line = text.split('\n').findLast((l) => l.startsWith('CMD '));
  return JSON.parse(line!.slice('CMD '.length)) as string[];
};

describe('the production start command', () => {
  it('the image runs node with the flags of npm run start:prod, on dist/main.js', () => {
    const flags = productionNodeFlags();
    expect(flags).toContain('--max-semi-space-size=4');
    expect(dockerfileCmd()).toEqual(['node', ...flags, 'dist/main.js']);
  });
});
