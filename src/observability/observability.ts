/**
 * Metrics and audit of one DCM, wired to both APIs: an Express middleware that records every
 * request when it finishes, an observer of finished gRPC calls (fed by the interceptor in
 * src/auth/grpc.ts), the lifecycle observer, and GET /metrics.
 */
import { performance } from 'node:perf_hooks';
import type { Request, RequestHandler, Response } from 'express';
import grpc from '@grpc/grpc-js';
import { actionOf, principalOf } from '../auth/http.js';
import type { GrpcCallObserver } from '../auth/grpc.js';
import { bearerMatches, sha256 } from '../auth/static-tokens.js';
import type { Logger } from '../logger.js';
import { AuditLog } from './audit.js';
import {
  logicalCloudStates,
  nearestCertificateExpiry,
  overallQuotaSamples,
  type MetricsSources,
} from './logical-cloud-states.js';
import { DcmMetrics } from './metrics.js';

export interface Observability {
  metrics: DcmMetrics;
  audit: AuditLog;
  /** The app's first middleware: metrics and audit of every request once it is answered. */
  httpObserver: RequestHandler;
  /** GET /metrics (open, or behind its own bearer token). */
  metricsEndpoint: RequestHandler;
  /** Metrics and audit of every finished gRPC call. */
  grpcObserver: GrpcCallObserver;
}

export interface ObservabilityOptions {
  logger: Logger;
  /** The stores the gauges read (logical clouds per state, the nearest certificate expiry). */
  stores: MetricsSources;
  /** When set, GET /metrics needs `Authorization: Bearer <metricsToken>` (compared as SHA-256 digests in constant time; never logged). */
  metricsToken?: string;
  /** How long the gauges read from the database serve scrapes (DCM_METRICS_REFRESH_MS; see MetricsOptions.refreshMs). */
  metricsRefreshMs?: number;
  /** Milliseconds of a monotonic clock (tests pass their own). */
  now?: () => number;
}

const API = /^\/v2(\/|\?|$)/i;
const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/**
 * The route pattern a request matched (`/v2/projects/:project`), never the raw URL, so the
 * metric's labels stay few; `unmatched` when no route answered (404s, refusals before routing).
 */
export function routePattern(req: Request, res?: Response): string {
  // A middleware that answers in place of a route names it (the project list of a project caller).
  if (typeof res?.locals.route === 'string') return res.locals.route;
  const path: unknown = req.route?.path;
  if (typeof path === 'string') return (API.test(req.originalUrl) ? '/v2' : '') + path;
  return /^\/docs(\/|$)/i.test(req.originalUrl) ? '/docs' : 'unmatched';
}

/** Longest cluster reference an audit line repeats (a name is at most 128 characters; anything longer is cut). */
const MAX_REFERENCE = 128;

/**
 * The cluster reference a kubeconfig download names: `?cluster-reference=` or the EMCO path
 * `…/cluster-references/{ref}/kubeconfig` (only read for those paths; undefined otherwise).
 */
export function downloadReference(req: Pick<Request, 'originalUrl' | 'query'>): string | undefined {
  const path = req.originalUrl.split('?')[0]!;
  let reference: string | undefined;
  const emco = /\/cluster-references\/([^/]+)\/kubeconfig\/?$/i.exec(path);
  if (emco) {
    try {
      reference = decodeURIComponent(emco[1]!);
    } catch {
      reference = emco[1];
    }
  } else if (/\/kubeconfig\/?$/i.test(path)) {
    const query = req.query['cluster-reference'];
    if (typeof query === 'string' && query !== '') reference = query;
  }
  return reference && reference.length > MAX_REFERENCE ? `${reference.slice(0, MAX_REFERENCE)}…` : reference;
}

export function createObservability(options: ObservabilityOptions): Observability {
  const metrics = new DcmMetrics({
    logger: options.logger,
    logicalCloudStates: logicalCloudStates(options.stores),
    nearestCertificateExpiry: nearestCertificateExpiry(options.stores),
    overallQuotas: overallQuotaSamples(options.stores),
    ...(options.metricsRefreshMs !== undefined ? { refreshMs: options.metricsRefreshMs } : {}),
    ...(options.now ? { now: options.now } : {}),
  });
  const audit = new AuditLog(options.logger);
  const metricsTokenHash = options.metricsToken === undefined ? undefined : sha256(options.metricsToken);

  const httpObserver: RequestHandler = (req, res, next) => {
    const started = performance.now();
    res.on('finish', () => {
      const route = routePattern(req, res);
      const method = METHODS.has(req.method) ? req.method : 'OTHER';
      metrics.httpRequest({ method, route, status: res.statusCode }, (performance.now() - started) / 1000);
      audit.http({
        requestId: String(req.id),
        principal: principalOf(res),
        action: actionOf(res),
        method,
        route,
        path: req.originalUrl.split('?')[0]!,
        status: res.statusCode,
        clusterReference: downloadReference(req),
      });
    });
    next();
  };

  const metricsEndpoint: RequestHandler = async (req, res) => {
    if (metricsTokenHash && !bearerMatches(req.headers.authorization, metricsTokenHash)) {
      res.setHeader('WWW-Authenticate', 'Bearer realm="dcm-metrics"');
      res.status(401).json({
        name: 'Unauthenticated',
        message: 'GET /metrics needs the metrics bearer token (DCM_METRICS_TOKEN_FILE)',
        details: [],
      });
      return;
    }
    const { contentType, body } = await metrics.scrape();
    res.setHeader('Content-Type', contentType);
    res.send(body);
  };

  const grpcObserver: GrpcCallObserver = (call) => {
    metrics.grpcCall(
      { service: call.service, method: call.method, code: grpc.status[call.code] ?? String(call.code) },
      call.seconds,
    );
    audit.grpc(call);
  };

  return { metrics, audit, httpObserver, metricsEndpoint, grpcObserver };
}

/** pino-http's request serializer, minus credentials (whatever the logger's own redaction). */
export function requestWithoutCredentials<T extends { headers?: Record<string, unknown> }>(req: T): T {
  if (!req.headers?.authorization) return req;
  return { ...req, headers: { ...req.headers, authorization: '[redacted]' } };
}
