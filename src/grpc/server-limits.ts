/** The stream and connection limits of the gRPC server, from the configuration. */
import type { ServerOptions } from '@grpc/grpc-js';
import type { Config } from '../config.js';

/**
 * What one client may hold of the gRPC server. Streams: WatchStatus per caller, health Watch per
 * peer address and over all callers. Connections (grpc-js server options): HTTP/2 streams per
 * connection, keepalive pings that find dead peers (and so free their streams), idle and maximum
 * connection age. grpc-js's server does not police client pings
 * (`grpc.http2.min_ping_interval_without_data_ms` and the ping strikes of other gRPC servers are
 * not implemented by it); Node's HTTP/2 session refuses ping and settings floods by itself.
 */
export interface GrpcServerLimits {
  /** WatchStatus streams per caller, and health Watch streams per peer address (DCM_WATCH_STREAMS_PER_CALLER). */
  watchStreamsPerCaller: number;
  /** Health Watch streams open at once over all peers (DCM_GRPC_HEALTH_WATCHES_MAX). */
  healthWatchesMax: number;
  /** grpc.max_concurrent_streams (DCM_GRPC_MAX_CONCURRENT_STREAMS). */
  maxConcurrentStreams: number;
  /** grpc.keepalive_time_ms (DCM_GRPC_KEEPALIVE_TIME_MS). */
  keepaliveTimeMs: number;
  /** grpc.keepalive_timeout_ms (DCM_GRPC_KEEPALIVE_TIMEOUT_MS). */
  keepaliveTimeoutMs: number;
  /** grpc.max_connection_idle_ms (DCM_GRPC_MAX_CONNECTION_IDLE_MS). */
  maxConnectionIdleMs: number;
  /** grpc.max_connection_age_ms (DCM_GRPC_MAX_CONNECTION_AGE_MS). */
  maxConnectionAgeMs: number;
  /** grpc.max_connection_age_grace_ms (DCM_GRPC_MAX_CONNECTION_AGE_GRACE_MS). */
  maxConnectionAgeGraceMs: number;
}

export const DEFAULT_WATCH_STREAMS_PER_CALLER = 10;

export type GrpcLimitsConfig = Pick<
  Config,
  | 'DCM_WATCH_STREAMS_PER_CALLER'
  | 'DCM_GRPC_HEALTH_WATCHES_MAX'
  | 'DCM_GRPC_MAX_CONCURRENT_STREAMS'
  | 'DCM_GRPC_KEEPALIVE_TIME_MS'
  | 'DCM_GRPC_KEEPALIVE_TIMEOUT_MS'
  | 'DCM_GRPC_MAX_CONNECTION_IDLE_MS'
  | 'DCM_GRPC_MAX_CONNECTION_AGE_MS'
  | 'DCM_GRPC_MAX_CONNECTION_AGE_GRACE_MS'
>;

export const grpcLimitsFromConfig = (c: GrpcLimitsConfig): GrpcServerLimits => ({
  watchStreamsPerCaller: c.DCM_WATCH_STREAMS_PER_CALLER,
  healthWatchesMax: c.DCM_GRPC_HEALTH_WATCHES_MAX,
  maxConcurrentStreams: c.DCM_GRPC_MAX_CONCURRENT_STREAMS,
  keepaliveTimeMs: c.DCM_GRPC_KEEPALIVE_TIME_MS,
  keepaliveTimeoutMs: c.DCM_GRPC_KEEPALIVE_TIMEOUT_MS,
  maxConnectionIdleMs: c.DCM_GRPC_MAX_CONNECTION_IDLE_MS,
  maxConnectionAgeMs: c.DCM_GRPC_MAX_CONNECTION_AGE_MS,
  maxConnectionAgeGraceMs: c.DCM_GRPC_MAX_CONNECTION_AGE_GRACE_MS,
});

/** The grpc-js server options of the limits. */
export const grpcServerOptions = (l: GrpcServerLimits): ServerOptions => ({
  'grpc.max_concurrent_streams': l.maxConcurrentStreams,
  'grpc.keepalive_time_ms': l.keepaliveTimeMs,
  'grpc.keepalive_timeout_ms': l.keepaliveTimeoutMs,
  'grpc.max_connection_idle_ms': l.maxConnectionIdleMs,
  'grpc.max_connection_age_ms': l.maxConnectionAgeMs,
  'grpc.max_connection_age_grace_ms': l.maxConnectionAgeGraceMs,
});
