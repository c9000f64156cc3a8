/**
 * The gRPC API (proto/dcm/v1/dcm.proto): the same services, the same zod schemas and the
 * same view functions as REST, through the very CRUD specs the REST routers declare. Also
 * serves grpc.health.v1 and server reflection. This module builds the server from the handlers
 * of each part, binds it and shuts it down.
 */
import { CallerStreams } from './caller-streams.js';
import grpc from '@grpc/grpc-js';
import type { UntypedServiceImplementation } from '@grpc/grpc-js';
import { ReflectionService } from '@grpc/reflection';
import type { CertificateAuthorityService } from '../features/certificate-authority/certificate-authority.service.js';
import type { ClusterHealthService } from '../features/cluster-registry/cluster-health.service.js';
import type { LifecycleService } from '../features/lifecycle/lifecycle.service.js';
import type { StatusEvents } from '../features/lifecycle/status-events.js';
import type { DownloadRateLimiter } from '../features/lifecycle/tenant-kubeconfig.js';
import type { ProjectPolicyService } from '../features/project-policies/project-policy.service.js';
import { defaultConfig } from '../config.js';
import type { Logger } from '../logger.js';
import { certificateAuthorityHandlers } from './certificate-authority-handlers.js';
import { clusterHealthHandlers } from './cluster-health-handlers.js';
import { crudHandlers, type CrudServices } from './crud-handlers.js';
import { createHealthService } from './health.js';
import { lifecycleHandlers } from './lifecycle-handlers.js';
import { projectPolicyHandlers } from './project-policy-handlers.js';
import { loadDcmProto } from './proto.js';
import { grpcLimitsFromConfig, grpcServerOptions, type GrpcServerLimits } from './server-limits.js';
import { statusNotifyHandlers } from './status-notify.js';
import { unaryHandlers } from './unary.js';
import { watchStatusHandler } from './watch-status.js';
import { clusterSelectionHandlers } from './cluster-selection-handlers.js';
import type { ClusterService } from '../features/cluster-registry/cluster.service.js';
import type { ClusterSelectionService } from '../features/cluster-selection/cluster-selection.service.js';

/** The services the gRPC API calls (the composition root passes its own). */
export interface GrpcServices extends CrudServices {
  lifecycle: LifecycleService;
  certificateAuthority: CertificateAuthorityService;
  projectPolicies: ProjectPolicyService;
  clusterHealth: ClusterHealthService;
  clusters: ClusterService;
  clusterSelection: ClusterSelectionService;
}

export interface GrpcServerOptions {
  services: GrpcServices;
  statusEvents: StatusEvents;
  logger: Logger;
  /** Whether the DCM can serve (the database answers): health says SERVING or NOT_SERVING. */
  ready: () => Promise<boolean>;
  /** Run on every call before its handler: authentication, authorization, metrics and audit (src/auth/grpc.ts). */
  interceptors?: grpc.ServerInterceptor[];
  /**
   * WatchStatus streams one caller (principal source and name) may hold open at once; default 10.
   * Not counted in development mode, where every caller is the same `development` admin.
   * Overrides `limits.watchStreamsPerCaller`.
   */
  watchStreamsPerCaller?: number;
  /** Stream and connection limits (default: the configuration's defaults, grpcLimitsFromConfig(defaultConfig())). */
  limits?: Partial<GrpcServerLimits>;
  /** Token users' kubeconfig downloads per (caller, logical cloud), shared with REST; beyond, RESOURCE_EXHAUSTED. */
  kubeconfigDownloads?: DownloadRateLimiter;
}

export interface DcmGrpcServer {
  server: grpc.Server;
  /** Binds host:port (0: any free port) and answers the port bound. */
  listen(host: string, port: number, credentials?: grpc.ServerCredentials): Promise<number>;
  /** Stops taking calls, ends the status watches, waits for the calls under way up to graceMs, then cuts the rest. */
  shutdown(graceMs: number): Promise<void>;
  /** Streams open now (WatchStatus, StatusRegister and health Watch). */
  activeWatches(): number;
  /** Peer addresses holding health Watch streams now (what the per-peer count remembers). */
  healthWatchPeers(): number;
}

export function createGrpcServer(opts: GrpcServerOptions): DcmGrpcServer {
  const { services, statusEvents, logger } = opts;
  const proto = loadDcmProto();
  const limits: GrpcServerLimits = { ...grpcLimitsFromConfig(defaultConfig()), ...opts.limits };
  if (opts.watchStreamsPerCaller !== undefined) limits.watchStreamsPerCaller = opts.watchStreamsPerCaller;
  for (const [name, value] of Object.entries(limits)) {
    if (!Number.isInteger(value) || value < 1) throw new RangeError(`gRPC limit ${name} must be a positive integer`);
  }
  const server = new grpc.Server({ ...grpcServerOptions(limits), interceptors: opts.interceptors ?? [] });
  let shuttingDown = false;
  /** The streams open now (WatchStatus and health Watch), each by the function that ends it on shutdown. */
  const streams = new Set<() => void>();
  // One budget of status streams per caller, whether it watches with WatchStatus or EMCO's StatusRegister.
  const callerStreams = new CallerStreams(limits.watchStreamsPerCaller);
  const unary = unaryHandlers(logger);

  const impl: UntypedServiceImplementation = {
    ...crudHandlers(unary, services),
    ...lifecycleHandlers(unary, services.lifecycle, opts.kubeconfigDownloads),
    WatchStatus: watchStatusHandler({
      lifecycle: services.lifecycle,
      statusEvents,
      logger,
      callerStreams,
      streams,
    }),
    ...certificateAuthorityHandlers(unary, services.certificateAuthority),
    ...projectPolicyHandlers(unary, services.projectPolicies),
    ...clusterHealthHandlers(unary, services.clusterHealth),
    ...clusterSelectionHandlers(unary, services.clusters, services.clusterSelection),
  };
  server.addService(proto.LogicalCloudService.service, impl);
  // EMCO's StatusNotify (proto/statusnotify.proto), for EMCO's services watching logical clouds.
  server.addService(
    proto.StatusNotify.service,
    statusNotifyHandlers(unary, {
      lifecycle: services.lifecycle,
      statusEvents,
      logger,
      callerStreams,
      streams,
    }),
  );

  const health = createHealthService({ ready: opts.ready, shuttingDown: () => shuttingDown, limits, streams });
  server.addService(proto.Health.service, health.implementation);

  new ReflectionService(proto.packageDefinition).addToServer(server);

  return {
    server,
    // credentials: plaintext unless given (TLS, mTLS: src/security/tls.ts)
    listen: (host, port, credentials = grpc.ServerCredentials.createInsecure()) =>
      new Promise((resolve, reject) => {
        const address = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
        server.bindAsync(address, credentials, (error, bound) => (error ? reject(error) : resolve(bound)));
      }),
    shutdown: async (graceMs) => {
      shuttingDown = true;
      for (const end of [...streams]) end();
      await new Promise<void>((resolve) => {
        const force = setTimeout(() => {
          logger.warn('gRPC calls still running after the grace period: cutting them');
          server.forceShutdown();
          resolve();
        }, graceMs);
        force.unref();
        server.tryShutdown(() => {
          clearTimeout(force);
          resolve();
        });
      });
    },
    activeWatches: () => streams.size,
    healthWatchPeers: () => health.watchPeers(),
  };
}
