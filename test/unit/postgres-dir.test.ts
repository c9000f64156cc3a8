/**
 * The test backends' PostgreSQL runs as an unprivileged user when started by root: a clone under
 * a directory others cannot traverse (e.g. /root) gets its PostgreSQL directory in the temp
 * directory instead (fresh, private), and `npm start`'s durable one refuses naming the directory.
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { reachableDir } from '../../test/testenv/postgres.js';

describe("where PostgreSQL's directory goes when root starts it", () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'dcm-pgdir-'));
  const moved: string[] = [];
  afterAll(() => {
    fs.rmSync(root, { recursive: true, force: true });
    for (const dir of moved) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('keeps a directory every parent of which others may traverse', () => {
    fs.chmodSync(root, 0o755);
    const dir = path.join(root, 'open', 'postgres');
    fs.mkdirSync(dir, { recursive: true });
    expect(reachableDir(dir, 65534, false)).toBe(dir);
  });

  it('moves the test backends’ one to a fresh private directory in the temp directory, the same for the same clone', () => {
    const closed = path.join(root, 'closed');
    fs.mkdirSync(path.join(closed, 'postgres'), { recursive: true, mode: 0o700 });
    fs.chmodSync(closed, 0o700);
    const dir = path.join(closed, 'postgres');
    const first = reachableDir(dir, 65534, false);
    moved.push(first);
    expect(path.dirname(first)).toBe(fs.realpathSync(os.tmpdir()));
    expect(path.basename(first)).toMatch(/^dcm-postgres-[0-9a-f]{16}$/);
    expect(fs.statSync(first).mode & 0o777).toBe(0o700);
    fs.writeFileSync(path.join(first, 'left-over'), 'x');
    expect(reachableDir(dir, 65534, false)).toBe(first);
    expect(fs.readdirSync(first)).toEqual([]);
  });

  it("refuses npm start's durable one, naming the directory", () => {
    const dir = path.join(root, 'closed', 'postgres');
    expect(() => reachableDir(dir, 65534, true)).toThrow(/uid 65534, which cannot reach .*closed\/postgres/);
  });
});
