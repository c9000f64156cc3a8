/**
 * The gRPC API (proto/dcm/v1/dcm.proto): the same services, the same zod schemas and the
 * same view functions as REST, through the very CRUD specs the REST routers declare. Also
 * serves grpc.health.v1 and server reflection.
 */
import grpc from '@grpc/grpc-js';
import type {
  ServerUnaryCall,
  ServerWritableStream,
  UntypedServiceImplementation,
  handleServerStreamingCall,
  handleUnaryCall,
} from '@grpc/grpc-js';
import { ReflectionService } from '@grpc/reflection';
import type { Principal } from '../auth/authorize.js';
import { principalOfCall } from '../auth/call-principal.js';
import type { CertificateAuthorityService } from '../features/certificate-authority/certificate-authority.service.js';
import type { createClusterQuotaService } from '../features/cluster-quotas/cluster-quotas.router.js';
import type { createClusterReferenceService } from '../features/cluster-references/cluster-references.router.js';
import type { ClusterHealthService } from '../features/cluster-registry/cluster-health.router.js';
import type { createKvPairService } from '../features/kv-pairs/kv-pairs.router.js';
import type { LifecycleService } from '../features/lifecycle/lifecycle.service.js';
import type { LogicalCloudService } from '../features/logical-clouds/logical-cloud.service.js';
import type { ProjectPolicyService } from '../features/project-policies/project-policy.service.js';
import type { createPermissionService } from '../features/user-permissions/user-permissions.router.js';
import { defaultConfig, type Config } from '../config.js';
import { InvalidInputError, UnavailableError } from '../errors.js';
import { clusterQuotaCrud } from '../features/cluster-quotas/cluster-quotas.router.js';
import { clusterReferenceCrud } from '../features/cluster-references/cluster-references.router.js';
import { kvPairCrud } from '../features/kv-pairs/kv-pairs.router.js';
import { operationBody, RevokeRequest, statusView } from '../features/lifecycle/lifecycle.router.js';
import { GrpcRotateCaRequest, logicalCloudCaView, rootCaView, rotateCaBody } from '../features/certificate-authority/certificate-authority.router.js';
import type { OperationSummary } from '../features/lifecycle/lifecycle.service.js';
import { downloadAs, DownloadRateLimitedError, type DownloadRateLimiter } from '../features/lifecycle/tenant-kubeconfig.js';
import type { StatusEvents } from '../features/lifecycle/status-events.js';
import { logicalCloudCrud } from '../features/logical-clouds/logical-clouds.router.js';
import { permissionCrud } from '../features/user-permissions/user-permissions.router.js';
import { ProjectPolicyBody, projectPolicyView } from '../features/project-policies/project-policy.router.js';
import { policyFromBody } from '../features/project-policies/project-policy.schema.js';
import type { CrudSpec, Params } from '../http/crud-routes.js';
import { parsePage } from '../http/pagination.js';
import { parseInput } from '../http/validation.js';
import { kubeconfigToYaml } from '../kubeconfig/kubeconfig.js';
import type { Logger } from '../logger.js';
import { toGrpcError } from './errors.js';
import { LOGICAL_CLOUD_SERVICE, loadDcmProto } from './proto.js';
import { fromStruct, toStruct, type ProtoStruct } from './struct.js';

const HEALTH_SERVICES = new Set(['', LOGICAL_CLOUD_SERVICE]);

interface PageMessage {
  limit: number;
  offset: number;
}
interface ResourceMessage {
  name: string;
  revision: number;
  body: ProtoStruct;
}
interface StatusMessage {
  state: string;
  status: string;
  in_progress: boolean;
  body: ProtoStruct;
}
interface LogicalCloudRef {
  project: string;
  logical_cloud: string;
}
type Request = Record<string, unknown>;

/** The services the gRPC API calls (the composition root passes its own). */
export interface GrpcServices {
  lifecycle: LifecycleService;
  logicalClouds: LogicalCloudService;
  clusterReferences: ReturnType<typeof createClusterReferenceService>;
  permissions: ReturnType<typeof createPermissionService>;
  clusterQuotas: ReturnType<typeof createClusterQuotaService>;
  kvPairs: ReturnType<typeof createKvPairService>;
  certificateAuthority: CertificateAuthorityService;
  projectPolicies: ProjectPolicyService;
  clusterHealth: ClusterHealthService;
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

export const DEFAULT_WATCH_STREAMS_PER_CALLER = 10;

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
export const grpcServerOptions = (l: GrpcServerLimits): grpc.ServerOptions => ({
  'grpc.max_concurrent_streams': l.maxConcurrentStreams,
  'grpc.keepalive_time_ms': l.keepaliveTimeMs,
  'grpc.keepalive_timeout_ms': l.keepaliveTimeoutMs,
  'grpc.max_connection_idle_ms': l.maxConnectionIdleMs,
  'grpc.max_connection_age_ms': l.maxConnectionAgeMs,
  'grpc.max_connection_age_grace_ms': l.maxConnectionAgeGraceMs,
});

/**
 * The host of a peer as grpc-js names it (`<address>:<port>`, IPv6 unbracketed; `unknown` without
 * a socket address): the port is dropped, so that new connections from one host share its count.
 */
export const peerHost = (peer: string): string => peer.replace(/:\d+$/, '');

export interface DcmGrpcServer {
  server: grpc.Server;
  /** Binds host:port (0: any free port) and answers the port bound. */
  listen(host: string, port: number, credentials?: grpc.ServerCredentials): Promise<number>;
  /** Stops taking calls, ends the status watches, waits for the calls under way up to graceMs, then cuts the rest. */
  shutdown(graceMs: number): Promise<void>;
  /** Streams open now (WatchStatus and health Watch). */
  activeWatches(): number;
  /** Peer addresses holding health Watch streams now (what the per-peer count remembers). */
  healthWatchPeers(): number;
}

/** Request fields that must not be empty, named as in the .proto. */
function requireFields(request: Request, fields: string[]): void {
  const missing = fields.filter((f) => typeof request[f] !== 'string' || request[f] === '');
  if (missing.length > 0) throw InvalidInputError.forFields(missing.map((field) => ({ field, message: 'is required' })));
}

type ServerSurfaceCall = Pick<ServerUnaryCall<unknown, unknown>, 'cancelled' | 'getDeadline'>;

/** Whether a call's deadline has passed (grpc-js then answers DEADLINE_EXCEEDED itself). */
function expired(call: ServerSurfaceCall): boolean {
  const deadline = call.getDeadline();
  const ms = deadline instanceof Date ? deadline.getTime() : deadline;
  return Number.isFinite(ms) && ms <= Date.now();
}

/** A call whose answer nobody waits for any more: cancelled by the client, or past its deadline. */
const gone = (call: ServerSurfaceCall) => call.cancelled || expired(call);

const pageOf = (page: PageMessage | null | undefined) =>
  parsePage({ limit: page?.limit ? page.limit : undefined, offset: page?.offset ? page.offset : undefined }, 'page');

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
  const watches = new Set<() => void>();
  const watchLimit = limits.watchStreamsPerCaller;
  /** Open WatchStatus streams per caller (`source:name`); an entry goes when its count reaches 0. */
  const watchesPerCaller = new Map<string, number>();
  /** Open health Watch streams per peer host, and over all of them; an entry goes when its count reaches 0. */
  const healthWatchesPerPeer = new Map<string, number>();
  let healthWatchCount = 0;

  /** A unary handler: refuses to start after a cancel or a passed deadline, and never answers a cancelled call. */
  const unary =
    <Req extends Request, Res>(method: string, work: (request: Req, caller: Principal) => Promise<Res>): handleUnaryCall<Req, Res> =>
    (call: ServerUnaryCall<Req, Res>, callback) => {
      // Nothing is started for a call that is already over.
      if (gone(call)) return;
      work(call.request, principalOfCall(call.metadata)).then(
        (response) => {
          if (!gone(call)) callback(null, response);
        },
        (error: unknown) => {
          if (gone(call)) return;
          if (error instanceof DownloadRateLimitedError) {
            const trailers = new grpc.Metadata();
            trailers.set('retry-after', String(error.retryAfterSeconds));
            callback({ code: grpc.status.RESOURCE_EXHAUSTED, details: error.message, metadata: trailers });
            return;
          }
          callback(toGrpcError(error, logger, method));
        },
      );
    };

  const resource = (name: string, revision: number, body: unknown): ResourceMessage => ({ name, revision, body: toStruct(body) });

  /** Create/Get/List/Update/Delete of one resource, from the CRUD spec its REST routes are declared with. */
  function crud<C, U, R extends { name: string; revision: number }>(
    noun: string,
    plural: string,
    spec: CrudSpec<C, U, R>,
    params: (request: Request) => Params,
    scopeFields: string[],
  ): UntypedServiceImplementation {
    const view = (record: R, p: Params) => resource(record.name, record.revision, spec.view(record, p));
    return {
      [`Create${noun}`]: unary(`Create${noun}`, async (request: Request & { body: ProtoStruct | null }, caller) => {
        requireFields(request, scopeFields);
        const input = parseInput(spec.createSchema, fromStruct(request.body), 'body');
        return view(await spec.create(params(request), input, caller), params(request));
      }),
      [`Get${noun}`]: unary(`Get${noun}`, async (request: Request) => {
        requireFields(request, [...scopeFields, 'name']);
        return view(await spec.get(params(request), request.name as string), params(request));
      }),
      [`List${plural}`]: unary(`List${plural}`, async (request: Request & { page: PageMessage | null }) => {
        requireFields(request, scopeFields);
        const { items, total } = await spec.list(params(request), pageOf(request.page));
        return { items: items.map((item) => view(item, params(request))), total };
      }),
      [`Update${noun}`]: unary(`Update${noun}`, async (request: Request & { body: ProtoStruct | null; expected_revision: number }, caller) => {
        requireFields(request, [...scopeFields, 'name']);
        const input = parseInput(spec.updateSchema, fromStruct(request.body), 'body');
        const revision = request.expected_revision > 0 ? request.expected_revision : undefined;
        return view(await spec.update(params(request), request.name as string, input, revision, caller), params(request));
      }),
      [`Delete${noun}`]: unary(`Delete${noun}`, async (request: Request, caller) => {
        requireFields(request, [...scopeFields, 'name']);
        await spec.delete(params(request), request.name as string, caller);
        return {};
      }),
    };
  }

  const projectParams = (r: Request): Params => ({ project: r.project as string });
  const childParams = (r: Request): Params => ({ project: r.project as string, logicalCloud: r.logical_cloud as string });
  const child = ['project', 'logical_cloud'];

  const statusMessage = async (project: string, logicalCloud: string): Promise<StatusMessage> => {
    const body = statusView(await services.lifecycle.getStatus(project, logicalCloud));
    return { state: body.state, status: body.status, in_progress: body.operation?.inProgress ?? false, body: toStruct(body) };
  };
  const operation = (summary: OperationSummary) => ({ state: summary.state, body: toStruct(operationBody(summary)) });

  const watchStatus: handleServerStreamingCall<LogicalCloudRef, StatusMessage> = (call: ServerWritableStream<LogicalCloudRef, StatusMessage>) => {
    const { project, logical_cloud: logicalCloud } = call.request;
    const principal = principalOfCall(call.metadata);
    const callerKey = `${principal.source}:${principal.name}`;
    // Development mode has no identities (every caller is the one `development` admin): nothing to count per caller.
    const counted = principal.source !== 'development';
    const held = watchesPerCaller.get(callerKey) ?? 0;
    if (counted && held >= watchLimit) {
      call.emit('error', {
        code: grpc.status.RESOURCE_EXHAUSTED,
        details: `at most ${watchLimit} WatchStatus streams per caller are open at once (DCM_WATCH_STREAMS_PER_CALLER); cancel one and watch again`,
      });
      return;
    }
    if (counted) watchesPerCaller.set(callerKey, held + 1);
    let unsubscribe = () => undefined as void;
    let open = true;
    const close = () => {
      if (!open) return;
      open = false;
      unsubscribe();
      watches.delete(endForShutdown);
      if (!counted) return;
      const left = (watchesPerCaller.get(callerKey) ?? 1) - 1;
      if (left > 0) watchesPerCaller.set(callerKey, left);
      else watchesPerCaller.delete(callerKey);
    };
    const fail = (error: unknown) => {
      if (!open) return;
      close();
      call.emit('error', toGrpcError(error, logger, 'WatchStatus'));
    };
    const endForShutdown = () => fail(new UnavailableError('the DCM is shutting down; watch again'));
    watches.add(endForShutdown);
    call.on('cancelled', close);
    call.on('close', close);
    call.on('error', close);

    let last = '';
    let reads = Promise.resolve();
    /** Reads the status again (one read after another, so messages keep their order) and sends it if it changed. */
    const refresh = () => {
      reads = reads.then(async () => {
        if (!open) return;
        try {
          const message = await statusMessage(project, logicalCloud);
          const key = JSON.stringify(message);
          if (!open || key === last) return;
          last = key;
          call.write(message);
        } catch (error) {
          fail(error);
        }
      });
    };

    (async () => {
      requireFields(call.request as unknown as Request, child);
      const { logicalCloud: record } = await services.lifecycle.getStatus(project, logicalCloud);
      if (!open) return;
      // Subscribe first, then read: no change between the read and the subscription is missed.
      unsubscribe = statusEvents.subscribe(record.id, refresh);
      refresh();
    })().catch(fail);
  };

  const impl: UntypedServiceImplementation = {
    ...crud('LogicalCloud', 'LogicalClouds', logicalCloudCrud(services.logicalClouds), projectParams, ['project']),
    ...crud('ClusterReference', 'ClusterReferences', clusterReferenceCrud(services.clusterReferences), childParams, child),
    ...crud('UserPermission', 'UserPermissions', permissionCrud(services.permissions), childParams, child),
    ...crud('ClusterQuota', 'ClusterQuotas', clusterQuotaCrud(services.clusterQuotas), childParams, child),
    ...crud('KvPair', 'KvPairs', kvPairCrud(services.kvPairs), childParams, child),
    Apply: unary('Apply', async (r: Request, caller) => {
      requireFields(r, child);
      return operation(await services.lifecycle.apply(r.project as string, r.logical_cloud as string, caller));
    }),
    Terminate: unary('Terminate', async (r: Request) => {
      requireFields(r, child);
      return operation(await services.lifecycle.terminate(r.project as string, r.logical_cloud as string));
    }),
    GetStatus: unary('GetStatus', async (r: Request) => {
      requireFields(r, child);
      return statusMessage(r.project as string, r.logical_cloud as string);
    }),
    GetKubeconfig: unary('GetKubeconfig', async (r: Request, caller) => {
      requireFields(r, child);
      const reference = (r.cluster_reference as string) || undefined;
      // A token user's download mints a token on every cluster: counted per (caller, logical cloud), with REST's.
      const kubeconfig = await downloadAs(opts.kubeconfigDownloads, `${caller.source}:${caller.name}`, () =>
        services.lifecycle.kubeconfig(r.project as string, r.logical_cloud as string, reference),
      );
      return { yaml: kubeconfigToYaml(kubeconfig) };
    }),
    WatchStatus: watchStatus,
    GetRootCa: unary('GetRootCa', async () => ({ body: toStruct(rootCaView(services.certificateAuthority.root())) })),
    GetLogicalCloudCa: unary('GetLogicalCloudCa', async (r: Request) => {
      requireFields(r, child);
      return { body: toStruct(logicalCloudCaView(await services.certificateAuthority.logicalCloudCa(r.project as string, r.logical_cloud as string))) };
    }),
    RotateCa: unary('RotateCa', async (r: Request, caller) => {
      requireFields(r, child);
      const reference = (r.cluster_reference as string) || undefined;
      if (reference !== undefined) parseInput(GrpcRotateCaRequest, { cluster_reference: reference });
      const result = await services.certificateAuthority.rotate(r.project as string, r.logical_cloud as string, reference, caller);
      return { state: result.summary.state, body: toStruct(rotateCaBody(result)) };
    }),
    RevokeCredentials: unary('RevokeCredentials', async (r: Request & { body?: ProtoStruct | null }, caller) => {
      requireFields(r, child);
      const body = parseInput(RevokeRequest, fromStruct(r.body), 'body');
      return operation(await services.lifecycle.revokeCredentials(r.project as string, r.logical_cloud as string, caller, body));
    }),
    GetProjectPolicy: unary('GetProjectPolicy', async (r: Request) => {
      requireFields(r, ['project']);
      return { body: toStruct(projectPolicyView(await services.projectPolicies.get(r.project as string))) };
    }),
    SetProjectPolicy: unary('SetProjectPolicy', async (r: Request & { body: ProtoStruct | null }, caller) => {
      requireFields(r, ['project']);
      const body = parseInput(ProjectPolicyBody, fromStruct(r.body), 'body');
      return { body: toStruct(projectPolicyView(await services.projectPolicies.set(r.project as string, policyFromBody(body.spec), caller))) };
    }),
    GetClusterStatus: unary('GetClusterStatus', async (r: Request, caller) => {
      requireFields(r, ['cluster_provider', 'cluster']);
      return { body: toStruct(await services.clusterHealth.status(r.cluster_provider as string, r.cluster as string, r.probe === true, caller)) };
    }),
    ResetProjectPolicy: unary('ResetProjectPolicy', async (r: Request) => {
      requireFields(r, ['project']);
      await services.projectPolicies.reset(r.project as string);
      return {};
    }),
  };
  server.addService(proto.LogicalCloudService.service, impl);

  const health = async (service: string): Promise<string> => {
    if (!HEALTH_SERVICES.has(service)) throw Object.assign(new Error(`unknown service ${service}`), { code: grpc.status.NOT_FOUND });
    if (shuttingDown) return 'NOT_SERVING';
    return (await opts.ready().catch(() => false)) ? 'SERVING' : 'NOT_SERVING';
  };
  server.addService(proto.Health.service, {
    Check: ((call, callback) => {
      health(call.request.service).then(
        (status) => {
          if (!call.cancelled) callback(null, { status });
        },
        (error: { code?: grpc.status; message: string }) => {
          if (!call.cancelled) callback({ code: error.code ?? grpc.status.INTERNAL, details: error.message });
        },
      );
    }) as handleUnaryCall<{ service: string }, { status: string }>,
    /**
     * The current status, then the stream stays open until the client goes away or the DCM stops.
     * Like Check, Watch needs no authentication (the auth interceptor guards dcm.v1 only): probes,
     * load balancers and client-side health checking carry no token, and the answer is only
     * SERVING or NOT_SERVING. Its streams are bounded instead: at most DCM_WATCH_STREAMS_PER_CALLER
     * per peer address (the caller of an unauthenticated call; port dropped, so that more
     * connections do not buy more streams) and DCM_GRPC_HEALTH_WATCHES_MAX over all peers (peers
     * behind one proxy share its address; the global cap bounds them whatever their number).
     * Beyond either: RESOURCE_EXHAUSTED at once, nothing kept.
     */
    Watch: ((call) => {
      const peer = peerHost(call.getPeer());
      const held = healthWatchesPerPeer.get(peer) ?? 0;
      const refusal =
        healthWatchCount >= limits.healthWatchesMax
          ? `at most ${limits.healthWatchesMax} health Watch streams are open at once (DCM_GRPC_HEALTH_WATCHES_MAX); use Check, or watch again later`
          : held >= watchLimit
            ? `at most ${watchLimit} health Watch streams per peer address are open at once (DCM_WATCH_STREAMS_PER_CALLER); cancel one and watch again`
            : undefined;
      if (refusal !== undefined) {
        call.emit('error', { code: grpc.status.RESOURCE_EXHAUSTED, details: refusal });
        return;
      }
      healthWatchesPerPeer.set(peer, held + 1);
      healthWatchCount++;
      let open = true;
      const release = () => {
        if (!open) return;
        open = false;
        watches.delete(end);
        healthWatchCount--;
        const left = (healthWatchesPerPeer.get(peer) ?? 1) - 1;
        if (left > 0) healthWatchesPerPeer.set(peer, left);
        else healthWatchesPerPeer.delete(peer);
      };
      const end = () => {
        release();
        if (!call.cancelled) call.end();
      };
      watches.add(end);
      call.on('cancelled', release);
      call.on('close', release);
      call.on('error', release);
      health(call.request.service).then(
        (status) => {
          if (!call.cancelled) call.write({ status });
        },
        () => {
          if (!call.cancelled) call.write({ status: 'SERVICE_UNKNOWN' });
        },
      );
    }) as handleServerStreamingCall<{ service: string }, { status: string }>,
  });

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
      for (const end of [...watches]) end();
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
    activeWatches: () => watches.size,
    healthWatchPeers: () => healthWatchesPerPeer.size,
  };
}
