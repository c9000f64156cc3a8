/** The service: ports, database, logs, limits, cluster calls, gRPC limits (part of the settings' schema, src/config.ts). */
import { z } from 'zod';
import { flag, port } from './config-helpers.js';

export const serviceSettings = {
  // ---- the service -------------------------------------------------------------------
  DCM_HTTP_PORT: port.default(9077).describe('Port of the REST API (`/v2`), `/docs`, `/metrics` and the probes.'),
  DCM_GRPC_PORT: port.default(9078).describe('Port of the gRPC API (`dcm.v1`, health, reflection).'),
  DCM_HOST: z.string().min(1).default('0.0.0.0').describe('Address both APIs listen on.'),
  MONGO_URL: z
    .string()
    .regex(/^mongodb(\+srv)?:\/\//, 'must be a mongodb:// or mongodb+srv:// URL')
    .optional()
    .describe('The MongoDB to use. When unset, `npm start` runs an embedded MongoDB-protocol server for development.'),
  DCM_DATABASE_WAIT_MS: z.coerce
    .number()
    .int()
    .min(0)
    .default(60000)
    .describe('How long start-up keeps trying to reach MongoDB before giving up.'),
  DCM_DATABASE: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,63}$/, 'must be 1-63 of A-Z a-z 0-9 _ -')
    .default('dcm')
    .describe('Name of the MongoDB database the DCM keeps its collections in.'),
  DCM_LOG_LEVEL: z
    .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
    .default('info')
    .describe('Lowest level logged (pino). Audit lines are written at info even at warn or error, not when silent.'),
  DCM_LOG_PRETTY: flag('false').describe('Human-readable log lines instead of JSON (for development).'),
  DCM_BODY_LIMIT: z
    .string()
    .regex(/^\d+(kb|mb)$/i, 'like 256kb or 1mb')
    .default('1mb')
    .describe('Largest accepted request body (an admin kubeconfig is the largest legitimate one); beyond: 413.'),
  DCM_SHUTDOWN_GRACE_MS: z.coerce
    .number()
    .int()
    .min(0)
    .default(10000)
    .describe('On SIGTERM, how long open requests and gRPC calls may finish before the process exits anyway.'),
  DCM_CLUSTER_TIMEOUT_MS: z.coerce
    .number()
    .int()
    .min(100)
    .default(20000)
    .describe('Every call to a cluster gives up after this long.'),
  DCM_APPLY_CONCURRENCY: z.coerce
    .number()
    .int()
    .min(1)
    .max(64)
    .default(8)
    .describe('Clusters of one apply (or terminate) worked at the same time.'),
  DCM_OPERATIONS_CONCURRENCY: z.coerce
    .number()
    .int()
    .min(1)
    .max(1024)
    .default(16)
    .describe(
      'Operations (apply, terminate of a logical cloud) worked at once per replica; more wait their turn ' +
        '(Instantiating or Terminating, their clusters Pending, their lease held).',
    ),
  DCM_WATCH_STREAMS_PER_CALLER: z.coerce
    .number()
    .int()
    .min(1)
    .max(10000)
    .default(10)
    .describe(
      'gRPC WatchStatus streams one caller may hold open at once (beyond: RESOURCE_EXHAUSTED); ' +
        'also the gRPC health Watch streams per peer address.',
    ),
  // ---- gRPC connection limits, /metrics refresh, kubeconfig downloads (issue 29: 5, 6) -------
  DCM_GRPC_HEALTH_WATCHES_MAX: z.coerce
    .number()
    .int()
    .min(1)
    .max(100000)
    .default(1000)
    .describe('gRPC grpc.health.v1.Health/Watch streams open at once over all callers (beyond: RESOURCE_EXHAUSTED).'),
  DCM_GRPC_MAX_CONCURRENT_STREAMS: z.coerce
    .number()
    .int()
    .min(1)
    .max(10000)
    .default(250)
    .describe('HTTP/2 streams (calls) one gRPC connection may have open at once (grpc.max_concurrent_streams).'),
  DCM_GRPC_KEEPALIVE_TIME_MS: z.coerce
    .number()
    .int()
    .min(10000)
    .max(7200000)
    .default(60000)
    .describe('The gRPC server pings a connection idle this long (grpc.keepalive_time_ms).'),
  DCM_GRPC_KEEPALIVE_TIMEOUT_MS: z.coerce
    .number()
    .int()
    .min(1000)
    .max(600000)
    .default(20000)
    .describe(
      'A connection whose keepalive ping is not answered within this long is dropped, ' + 'and its streams with it.',
    ),
  DCM_GRPC_MAX_CONNECTION_IDLE_MS: z.coerce
    .number()
    .int()
    .min(1000)
    .max(86400000)
    .default(300000)
    .describe(
      'A gRPC connection without a call for this long is closed (grpc.max_connection_idle_ms; ' +
        'clients reconnect by themselves).',
    ),
  DCM_GRPC_MAX_CONNECTION_AGE_MS: z.coerce
    .number()
    .int()
    .min(10000)
    .max(7 * 86400000)
    .default(3600000)
    .describe('A gRPC connection is asked to go away after this long (grpc.max_connection_age_ms).'),
  DCM_GRPC_MAX_CONNECTION_AGE_GRACE_MS: z.coerce
    .number()
    .int()
    .min(1000)
    .max(3600000)
    .default(300000)
    .describe('Calls of a connection asked to go away get this long more, then are cut (a watch is watched again).'),
  DCM_METRICS_REFRESH_MS: z.coerce
    .number()
    .int()
    .min(1000)
    .max(3600000)
    .default(15000)
    .describe(
      '/metrics gauges read from the database (logical clouds per state, nearest certificate expiry) are ' +
        'read again at most this often, never per scrape.',
    ),
  DCM_KUBECONFIG_DOWNLOADS_PER_MINUTE: z.coerce
    .number()
    .int()
    .min(1)
    .max(1000)
    .default(10)
    .describe(
      "Kubeconfig downloads of a token user's logical cloud (each mints a token on every cluster) one " +
        'caller may make per minute (beyond: 429 / RESOURCE_EXHAUSTED).',
    ),
};
