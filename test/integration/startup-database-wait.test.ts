/**
 * A DCM that starts before its database (e.g. next to the Helm chart's bundled MongoDB)
 * keeps trying to reach it for DCM_DATABASE_WAIT_MS instead of exiting at once.
 */
import net from 'node:net';
import { afterAll, describe, expect, it } from '@jest/globals';
import { generateEncryptionKey } from '../../src/security/secret-cipher.js';
import { mongoUrl, uniqueDatabaseName } from '../support/backends.js';
import { spawnServiceProcess, type ServiceProcess } from '../support/service-process.js';
import { freePort, waitFor } from '../testenv/processes.js';

describe('start-up before the database is reachable', () => {
  const servers: net.Server[] = [];
  let dcm: (ServiceProcess & { ready(): Promise<void> }) | undefined;

  afterAll(async () => {
    await dcm?.stop();
    for (const server of servers) server.close();
  });

  const listen = (server: net.Server, port: number) =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
      servers.push(server);
    });

  it('keeps trying, and serves once the database answers', async () => {
    const real = new URL(mongoUrl());
    const port = await freePort();
    // At first the port drops every connection: the database "is not up yet".
    const refuser = net.createServer((socket) => socket.destroy());
    await listen(refuser, port);

    dcm = await spawnServiceProcess('database-wait', {
      MONGO_URL: `mongodb://127.0.0.1:${port}/`,
      DCM_DATABASE: uniqueDatabaseName('dbwait'),
      DCM_DEVELOPMENT_MODE: 'true',
      DCM_ENCRYPTION_KEYS: generateEncryptionKey('dbwait-1'),
      DCM_DATABASE_WAIT_MS: '60000',
    });
    const starting = dcm;
    await waitFor(
      'the DCM to report the unreachable database',
      async () => /MongoDB not reachable yet; trying again/.test(starting.logText()),
      {
        timeoutMs: 30_000,
      },
    );
    expect((await fetch(`${dcm.url}/healthz`).catch(() => undefined))?.ok).not.toBe(true);
    await new Promise<void>((resolve) => refuser.close(() => resolve()));

    // Now the database "comes up": the port forwards to the real one.
    const proxy = net.createServer((client) => {
      const upstream = net.connect(Number(real.port), real.hostname);
      client.pipe(upstream).pipe(client);
      upstream.on('error', () => client.destroy());
      client.on('error', () => upstream.destroy());
    });
    await listen(proxy, port);

    await dcm.ready();
    expect((await dcm.http.get('/readyz')).status).toBe(200);
  }, 90_000);
});
