/**
 * Issue 27 item 1: the embedded database server falls back to FerretDB's SQLite backend, with a
 * warning naming the scale limit, when PostgreSQL cannot be had or started; it is stopped by PID.
 */
import { afterEach, describe, expect, it, jest } from '@jest/globals';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  mongoAnswers,
  startDatabaseServer,
  stopDatabaseServer,
  type DatabaseServerState,
} from '../../test/testenv/database-server.js';
import { isAlive } from '../../test/testenv/processes.js';

describe('the embedded database server without PostgreSQL', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dcm-db-server-'));
  let server: DatabaseServerState | undefined;
  const previous = process.env.DCM_POSTGRES_BINDIR;

  afterEach(async () => {
    if (server) await stopDatabaseServer(server);
    if (previous === undefined) delete process.env.DCM_POSTGRES_BINDIR;
    else process.env.DCM_POSTGRES_BINDIR = previous;
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('runs FerretDB on SQLite, warns with the scale limit, and stops by PID', async () => {
    process.env.DCM_POSTGRES_BINDIR = path.join(dir, 'no-postgresql-here');
    const warnings: string[] = [];
    const spy = jest.spyOn(console, 'error').mockImplementation((line: unknown) => void warnings.push(String(line)));
    try {
      server = await startDatabaseServer(dir, { fresh: true, durable: false });
    } finally {
      spy.mockRestore();
    }
    expect(server.kind).toBe('ferretdb-sqlite');
    expect(await mongoAnswers(server.url)).toBe(true);
    expect(warnings.join('\n')).toMatch(/WARNING: PostgreSQL did not start .*FerretDB runs on SQLite.*few thousand/s);
    await stopDatabaseServer(server);
    expect(isAlive(server.pid)).toBe(false);
    server = undefined;
  });

  it('refuses, rather than falls back, when PostgreSQL is asked for', async () => {
    process.env.DCM_POSTGRES_BINDIR = path.join(dir, 'no-postgresql-here');
    await expect(startDatabaseServer(dir, { fresh: true, durable: false, backend: 'postgresql' })).rejects.toThrow(
      /initdb/,
    );
  });
});
