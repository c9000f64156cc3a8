/**
 * Token users' kubeconfig downloads are rate-limited per (caller, logical cloud): the limiter
 * (a bounded token bucket per key), the download path (a refused download requests no token),
 * and REST's answer beyond the limit (429, Retry-After, the usual `{ name, message, details }`).
 */
import { describe, expect, it } from '@jest/globals';
import type { RequestHandler } from 'express';
import { pino } from 'pino';
import supertest from 'supertest';
import type { Principal } from '../../src/auth/authorize.js';
import { loadConfig } from '../../src/config.js';
import type { LifecycleService } from '../../src/features/lifecycle/lifecycle.service.js';
import { declareLifecycleRoutes } from '../../src/features/lifecycle/lifecycle.router.js';
import {
  downloadAs,
  DownloadRateLimitedError,
  DownloadRateLimiter,
  TenantKubeconfigs,
} from '../../src/features/lifecycle/tenant-kubeconfig.js';
import type { LogicalCloudRecord } from '../../src/domain/logical-cloud.js';
import { createApp } from '../../src/http/app.js';

/** A clock the test moves. */
function clock(start = 1_000_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

const refused = (f: () => void): DownloadRateLimitedError => {
  try {
    f();
  } catch (error) {
    if (error instanceof DownloadRateLimitedError) return error;
    throw error;
  }
  throw new Error('expected a DownloadRateLimitedError');
};

describe('DownloadRateLimiter', () => {
  it('allows perMinute downloads at once, then refuses saying when to try again, and refills over the minute', () => {
    const c = clock();
    const limiter = new DownloadRateLimiter({ perMinute: 3, now: c.now });
    for (let i = 0; i < 3; i++) limiter.take('alice/lc-1');
    const error = refused(() => limiter.take('alice/lc-1'));
    // One download comes back every 20 s.
    expect(error.retryAfterSeconds).toBe(20);
    expect(error.message).toMatch(
      /at most 3 kubeconfig downloads .*DCM_KUBECONFIG_DOWNLOADS_PER_MINUTE.*try again in 20 s/,
    );
    c.advance(5_000);
    expect(refused(() => limiter.take('alice/lc-1')).retryAfterSeconds).toBe(15);
    c.advance(15_000);
    limiter.take('alice/lc-1');
    expect(refused(() => limiter.take('alice/lc-1')).retryAfterSeconds).toBe(20);
    // A full minute later the whole burst is back, never more.
    c.advance(600_000);
    for (let i = 0; i < 3; i++) limiter.take('alice/lc-1');
    expect(() => limiter.take('alice/lc-1')).toThrow(DownloadRateLimitedError);
  });

  it('counts each key on its own', () => {
    const limiter = new DownloadRateLimiter({ perMinute: 1, now: clock().now });
    limiter.take('alice/lc-1');
    limiter.take('alice/lc-2');
    limiter.take('bob/lc-1');
    expect(() => limiter.take('alice/lc-1')).toThrow(DownloadRateLimitedError);
    expect(() => limiter.take('bob/lc-1')).toThrow(DownloadRateLimitedError);
  });

  it('stays bounded: keys full again are forgotten, and beyond maxEntries the least recently used go first', () => {
    const c = clock();
    const limiter = new DownloadRateLimiter({ perMinute: 1, maxEntries: 100, now: c.now });
    for (let i = 0; i < 10_000; i++) limiter.take(`caller-${i}/lc`);
    expect(limiter.size).toBe(100);
    // The most recent keys are the ones remembered (still refused), the oldest were dropped.
    expect(() => limiter.take('caller-9999/lc')).toThrow(DownloadRateLimitedError);
    limiter.take('caller-0/lc');
    // A minute later every bucket is full again: the next download forgets them all.
    c.advance(60_000);
    limiter.take('fresh/lc');
    expect(limiter.size).toBe(1);
  });

  it('takes only positive whole limits', () => {
    expect(() => new DownloadRateLimiter({ perMinute: 0 })).toThrow(RangeError);
    expect(() => new DownloadRateLimiter({ perMinute: 1.5 })).toThrow(RangeError);
    expect(() => new DownloadRateLimiter({ perMinute: 1, maxEntries: 0 })).toThrow(RangeError);
  });

  it('is configured by DCM_KUBECONFIG_DOWNLOADS_PER_MINUTE: default 10, bounded 1..1000', () => {
    expect(loadConfig({}).DCM_KUBECONFIG_DOWNLOADS_PER_MINUTE).toBe(10);
    expect(loadConfig({ DCM_KUBECONFIG_DOWNLOADS_PER_MINUTE: '1000' }).DCM_KUBECONFIG_DOWNLOADS_PER_MINUTE).toBe(1000);
    for (const bad of ['0', '1001', '2.5', 'ten'])
      expect(() => loadConfig({ DCM_KUBECONFIG_DOWNLOADS_PER_MINUTE: bad })).toThrow(
        /DCM_KUBECONFIG_DOWNLOADS_PER_MINUTE/,
      );
  });
});

/** A token user's (or certificate user's) logical cloud, applied on two clusters, and a TenantKubeconfigs that counts the tokens it requests. */
function tenantKubeconfigs(type: 'token' | 'certificate') {
  const lc = {
    id: 'lc-id-1',
    name: 'lc-1',
    data: { namespace: 'ns-1', user: { name: 'user-1', type } },
  } as unknown as LogicalCloudRecord;
  const references = ['ref-1', 'ref-2'].map((name, i) => ({
    name,
    data: { clusterProvider: 'provider-1', cluster: `cluster-${i + 1}` },
  }));
  let tokens = 0;
  const kubeconfigs = new TenantKubeconfigs(
    { list: async () => ({ items: references, total: references.length }) } as never,
    {
      get: async (_provider: string, cluster: string) => ({
        name: cluster,
        data: { server: `https://${cluster}.example:6443` },
      }),
      secretsOf: () => ({}),
    } as never,
    {
      get: async () => ({
        state: 'Instantiated',
        clusters: references.map((r) => ({ reference: r.name, state: 'Applied' })),
      }),
    } as never,
    {
      get: async () => ({
        generationId: 'gen-1',
        privateKey: '-----BEGIN PRIVATE KEY-----\nS0VZ\n-----END PRIVATE KEY-----\n',
        certificates: references.map((r) => ({
          reference: r.name,
          certificate: '-----BEGIN CERTIFICATE-----\nQ0VSVA==\n-----END CERTIFICATE-----\n',
        })),
      }),
    } as never,
    {
      gateways: {
        gatewayFor: () =>
          ({
            requestToken: async () => `token-${++tokens}`,
            close: () => undefined,
          }) as never,
      },
      tokenSeconds: 600,
    },
  );
  return { lc, kubeconfigs, tokens: () => tokens };
}

describe("a token user's kubeconfig download", () => {
  it('is counted once per download, per caller and logical cloud; a refused one requests no token', async () => {
    const { lc, kubeconfigs, tokens } = tenantKubeconfigs('token');
    const limiter = new DownloadRateLimiter({ perMinute: 2, now: clock().now });
    for (let i = 0; i < 2; i++) await downloadAs(limiter, 'token:alice', () => kubeconfigs.build(lc));
    // Two clusters: two tokens per download.
    expect(tokens()).toBe(4);
    await expect(downloadAs(limiter, 'token:alice', () => kubeconfigs.build(lc))).rejects.toBeInstanceOf(
      DownloadRateLimitedError,
    );
    await expect(downloadAs(limiter, 'token:alice', () => kubeconfigs.build(lc, 'ref-1'))).rejects.toBeInstanceOf(
      DownloadRateLimitedError,
    );
    expect(tokens()).toBe(4);
    // Another caller has its own downloads.
    await downloadAs(limiter, 'token:bob', () => kubeconfigs.build(lc, 'ref-2'));
    expect(tokens()).toBe(5);
  });

  it("never counts a certificate user's download (nothing is minted)", async () => {
    const { lc, kubeconfigs } = tenantKubeconfigs('certificate');
    const limiter = new DownloadRateLimiter({ perMinute: 1, now: clock().now });
    for (let i = 0; i < 5; i++) await downloadAs(limiter, 'token:alice', () => kubeconfigs.build(lc));
    expect(limiter.size).toBe(0);
  });
});

describe('REST beyond the limit', () => {
  /** The lifecycle routes in front of a lifecycle service whose kubeconfig is a token user's; the caller named by X-Caller. */
  function app(perMinute: number) {
    const { lc, kubeconfigs, tokens } = tenantKubeconfigs('token');
    const lifecycle = {
      kubeconfig: (_project: string, _name: string, reference?: string) => kubeconfigs.build(lc, reference),
    } as unknown as LifecycleService;
    const limiter = new DownloadRateLimiter({ perMinute });
    const caller: RequestHandler = (req, res, next) => {
      const principal: Principal = {
        name: String(req.headers['x-caller']),
        source: 'token',
        admin: true,
        projects: new Set(),
        logicalClouds: new Set(),
      };
      res.locals.principal = principal;
      next();
    };
    const express = createApp({
      logger: pino({ level: 'silent' }),
      bodyLimit: '1mb',
      version: 'test',
      ready: async () => true,
      guards: [caller],
      routes: [
        (router, registry) => declareLifecycleRoutes(router, registry, lifecycle, { kubeconfigDownloads: limiter }),
      ],
    });
    return { http: supertest(express), tokens };
  }

  it('answers 429 with Retry-After and { name, message, details } on both kubeconfig paths, per caller', async () => {
    const { http, tokens } = app(2);
    const path = '/v2/projects/p1/logical-clouds/lc-1';
    expect((await http.get(`${path}/kubeconfig`).set('X-Caller', 'alice')).status).toBe(200);
    expect((await http.get(`${path}/cluster-references/ref-1/kubeconfig`).set('X-Caller', 'alice')).status).toBe(200);
    expect(tokens()).toBe(3);

    for (const url of [
      `${path}/kubeconfig`,
      `${path}/kubeconfig?cluster-reference=ref-2`,
      `${path}/cluster-references/ref-1/kubeconfig`,
    ]) {
      const res = await http.get(url).set('X-Caller', 'alice');
      expect(res.status).toBe(429);
      expect(Number(res.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expect(Number(res.headers['retry-after'])).toBeLessThanOrEqual(30);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expect(res.body).toEqual({
        name: 'TooManyRequests',
        message: expect.stringMatching(/DCM_KUBECONFIG_DOWNLOADS_PER_MINUTE/),
        details: [],
      });
    }
    expect(tokens()).toBe(3);

    // Bob's downloads are his own.
    expect((await http.get(`${path}/kubeconfig`).set('X-Caller', 'bob')).status).toBe(200);
  });
});
