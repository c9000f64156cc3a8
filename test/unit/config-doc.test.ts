/** docs/configuration.md is rendered from the config schema: it cannot go stale (`npm run docs:config`). */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { CONFIG_DOC_PATH, renderConfigDoc } from '../../scripts/config-doc.js';
import { ConfigSchema } from '../../src/config.js';

/** The page as a formatter may lay it out: table cells padded, separator rows widened. */
function normalized(markdown: string): string[] {
  return markdown
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '')
    .map((line) => {
      if (!line.startsWith('|')) return line;
      const cells = line
        .split(/(?<!\\)\|/)
        .slice(1, -1)
        .map((cell) => cell.trim());
      return cells.map((cell) => (/^:?-+:?$/.test(cell) ? '---' : cell)).join(' | ');
    });
}

describe('docs/configuration.md', () => {
  const rendered = renderConfigDoc();

  it('is what `npm run docs:config` renders from src/config.ts (run it after changing a setting)', () => {
    expect(normalized(readFileSync(CONFIG_DOC_PATH, 'utf8'))).toEqual(normalized(rendered));
  });

  it('lists every variable of the schema once, each with a meaning', () => {
    for (const name of Object.keys(ConfigSchema.shape)) {
      const rows = rendered.split('\n').filter((line) => line.startsWith(`| \`${name}\` |`));
      expect({ name, rows: rows.length }).toEqual({ name, rows: 1 });
      expect(rows[0]!.split(' | ').at(-1)!.length).toBeGreaterThan(10);
    }
  });
});
