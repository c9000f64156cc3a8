/**
 * GET /metrics: the gauges read from the database are read at most once per
 * DCM_METRICS_REFRESH_MS whatever the number of scrapes (concurrent ones share a read), and
 * with a metrics token the endpoint answers only `Authorization: Bearer <that token>`.
 */
import { describe, expect, it } from '@jest/globals';
import express from 'express';
import type { Db } from 'mongodb';
import { pino, type Logger } from 'pino';
import supertest from 'supertest';
import { loadConfig } from '../../src/config.js';
import { NamedRecordStore } from '../../src/db/named-record-store.js';
import { CredentialsStore } from '../../src/features/lifecycle/credentials.store.js';
import { LifecycleStatusStore } from '../../src/features/lifecycle/lifecycle-status.store.js';
import { createObservability } from '../../src/observability/observability.js';
import { captureLogger, testCipher } from '../support/dcm.js';

/** A database whose collections count their reads (each find().toArray() is one). */
function countingDb(failing = false) {
  const reads = new Map<string, number>();
  const documents: Record<string, object[]> = {
    logicalClouds: [{ _id: 'a' }, { _id: 'b' }, { _id: 'c' }],
    lifecycle: [{ _id: 'b', state: 'Instantiated' }],
    tenantCertificates: [{ _id: 'x', notAfter: new Date('2030-01-01T00:00:00Z') }],
    userCredentials: [],
  };
  const db = {
    collection: (name: string) => ({
      find: () => ({
        toArray: async () => {
          reads.set(name, (reads.get(name) ?? 0) + 1);
          if (failing) throw new Error('database unreachable');
          return documents[name] ?? [];
        },
      }),
    }),
  } as unknown as Db;
  return { db, reads: (name: string) => reads.get(name) ?? 0 };
}

function metricsApp({
  db,
  ...options
}: {
  db: Db;
  metricsToken?: string;
  metricsRefreshMs?: number;
  now?: () => number;
  logger?: Logger;
}) {
  // The stores the gauges read, over the counting database.
  const stores = {
    logicalClouds: new NamedRecordStore(db, 'logicalClouds', ['project']),
    lifecycle: new LifecycleStatusStore(db),
    credentials: new CredentialsStore(db, testCipher),
  };
  const observability = createObservability({
    logger: options.logger ?? pino({ level: 'silent' }),
    stores,
    ...options,
  });
  const app = express();
  app.get('/metrics', observability.metricsEndpoint);
  return supertest(app);
}

describe('/metrics gauges read from the database', () => {
  it('are read once for any number of scrapes within DCM_METRICS_REFRESH_MS, and again after it', async () => {
    let now = 0;
    const { db, reads } = countingDb();
    const http = metricsApp({ db, metricsRefreshMs: 15_000, now: () => now });
    for (let i = 0; i < 20; i++) {
      const res = await http.get('/metrics');
      expect(res.status).toBe(200);
      expect(res.text).toContain('dcm_logical_clouds{state="Created"} 2');
      expect(res.text).toContain('dcm_logical_clouds{state="Instantiated"} 1');
      expect(res.text).toContain(
        `dcm_tenant_certificate_nearest_expiry_timestamp_seconds ${Date.parse('2030-01-01T00:00:00Z') / 1000}`,
      );
      now += 500;
    }
    for (const collection of ['logicalClouds', 'lifecycle', 'tenantCertificates', 'userCredentials'])
      expect(reads(collection)).toBe(1);

    now = 15_000;
    await http.get('/metrics').expect(200);
    await http.get('/metrics').expect(200);
    for (const collection of ['logicalClouds', 'lifecycle', 'tenantCertificates', 'userCredentials'])
      expect(reads(collection)).toBe(2);
  });

  it('share one read between concurrent scrapes', async () => {
    const { db, reads } = countingDb();
    const http = metricsApp({ db, metricsRefreshMs: 15_000, now: () => 0 });
    const answers = await Promise.all(Array.from({ length: 10 }, () => http.get('/metrics')));
    expect(answers.every((a) => a.status === 200)).toBe(true);
    expect(reads('logicalClouds')).toBe(1);
  });

  it('answer without the series when the read fails, logging it once per interval', async () => {
    let now = 0;
    const { db, reads } = countingDb(true);
    const logs = captureLogger('warn');
    const http = metricsApp({ db, metricsRefreshMs: 15_000, now: () => now, logger: logs.logger });
    for (let i = 0; i < 5; i++) {
      const res = await http.get('/metrics').expect(200);
      expect(res.text).not.toMatch(/^dcm_logical_clouds\{/m);
    }
    expect(reads('logicalClouds')).toBe(1);
    expect(logs.records().filter((r) => r.msg === 'cannot count logical clouds per state for /metrics')).toHaveLength(
      1,
    );
    now = 15_000;
    await http.get('/metrics').expect(200);
    expect(reads('logicalClouds')).toBe(2);
  });

  it('default to 15 s, configured by DCM_METRICS_REFRESH_MS bounded 1000..3600000', () => {
    expect(loadConfig({}).DCM_METRICS_REFRESH_MS).toBe(15_000);
    expect(loadConfig({ DCM_METRICS_REFRESH_MS: '1000' }).DCM_METRICS_REFRESH_MS).toBe(1000);
    for (const bad of ['0', '999', '3600001', 'soon'])
      expect(() => loadConfig({ DCM_METRICS_REFRESH_MS: bad })).toThrow(/DCM_METRICS_REFRESH_MS/);
  });
});

describe('/metrics behind its bearer token', () => {
  const TOKEN = 'metrics-scraper-0123456789abcdef';

  it('refuses a scrape without the token, with another token or another scheme (401), and serves one with it', async () => {
    const logs = captureLogger('trace');
    const http = metricsApp({ db: countingDb().db, metricsToken: TOKEN, logger: logs.logger });
    for (const header of [
      undefined,
      'Bearer wrong-token-0123456789abcdef',
      `Bearer ${TOKEN}x`,
      `Basic ${TOKEN}`,
      TOKEN,
      'Bearer ',
    ]) {
      const request = http.get('/metrics');
      const res = await (header === undefined ? request : request.set('Authorization', header));
      expect(res.status).toBe(401);
      expect(res.headers['www-authenticate']).toBe('Bearer realm="dcm-metrics"');
      expect(res.body).toEqual({ name: 'Unauthenticated', message: expect.any(String), details: [] });
      expect(res.text).not.toContain(TOKEN);
    }
    const scraped = await http.get('/metrics').set('Authorization', `Bearer ${TOKEN}`);
    expect(scraped.status).toBe(200);
    expect(scraped.text).toMatch(/^# HELP /m);
    expect(logs.text()).not.toContain(TOKEN);
  });

  it('is open without a token', async () => {
    const http = metricsApp({ db: countingDb().db });
    expect((await http.get('/metrics')).status).toBe(200);
  });
});
