/**
 * grpc.health.v1: Check, and Watch (the current status, then the stream stays open until the
 * client goes away or the DCM stops).
 *
 * Like Check, Watch needs no authentication (the auth interceptor guards dcm.v1 only): probes,
 * load balancers and client-side health checking carry no token, and the answer is only
 * SERVING or NOT_SERVING. Its streams are bounded instead: at most DCM_WATCH_STREAMS_PER_CALLER
 * per peer address (the caller of an unauthenticated call; port dropped, so that more
 * connections do not buy more streams) and DCM_GRPC_HEALTH_WATCHES_MAX over all peers (peers
 * behind one proxy share its address; the global cap bounds them whatever their number).
 * Beyond either: RESOURCE_EXHAUSTED at once, nothing kept.
 */
import grpc from '@grpc/grpc-js';
import type { UntypedServiceImplementation, handleServerStreamingCall, handleUnaryCall } from '@grpc/grpc-js';
import { LOGICAL_CLOUD_SERVICE } from './proto.js';
import type { GrpcServerLimits } from './server-limits.js';

const HEALTH_SERVICES = new Set(['', LOGICAL_CLOUD_SERVICE]);

/**
 * The host of a peer as grpc-js names it (`<address>:<port>`, IPv6 unbracketed; `unknown` without
 * a socket address): the port is dropped, so that new connections from one host share its count.
 */
export const peerHost = (peer: string): string => peer.replace(/:\d+$/, '');

export interface HealthOptions {
  /** Whether the DCM can serve (the database answers): SERVING or NOT_SERVING. */
  ready: () => Promise<boolean>;
  /** Whether the DCM is shutting down (then NOT_SERVING). */
  shuttingDown: () => boolean;
  limits: Pick<GrpcServerLimits, 'watchStreamsPerCaller' | 'healthWatchesMax'>;
  /** The streams open now, each by the function that ends it when the DCM shuts down. */
  streams: Set<() => void>;
}

export interface HealthService {
  implementation: UntypedServiceImplementation;
  /** Peer addresses holding health Watch streams now (what the per-peer count remembers). */
  watchPeers(): number;
}

export function createHealthService(opts: HealthOptions): HealthService {
  const { limits, streams } = opts;
  const watchLimit = limits.watchStreamsPerCaller;
  /** Open health Watch streams per peer host, and over all of them; an entry goes when its count reaches 0. */
  const healthWatchesPerPeer = new Map<string, number>();
  let healthWatchCount = 0;

  const health = async (service: string): Promise<string> => {
    if (!HEALTH_SERVICES.has(service)) {
      throw Object.assign(new Error(`unknown service ${service}`), { code: grpc.status.NOT_FOUND });
    }
    if (opts.shuttingDown()) return 'NOT_SERVING';
    return (await opts.ready().catch(() => false)) ? 'SERVING' : 'NOT_SERVING';
  };

  const check: handleUnaryCall<{ service: string }, { status: string }> = (call, callback) => {
    health(call.request.service).then(
      (status) => {
        if (!call.cancelled) callback(null, { status });
      },
      (error: { code?: grpc.status; message: string }) => {
        if (!call.cancelled) callback({ code: error.code ?? grpc.status.INTERNAL, details: error.message });
      },
    );
  };

  const watch: handleServerStreamingCall<{ service: string }, { status: string }> = (call) => {
    const peer = peerHost(call.getPeer());
    const held = healthWatchesPerPeer.get(peer) ?? 0;
    const refusal =
      healthWatchCount >= limits.healthWatchesMax
        ? `at most ${limits.healthWatchesMax} health Watch streams are open at once ` +
          '(DCM_GRPC_HEALTH_WATCHES_MAX); use Check, or watch again later'
        : held >= watchLimit
          ? `at most ${watchLimit} health Watch streams per peer address are open at once ` +
            '(DCM_WATCH_STREAMS_PER_CALLER); cancel one and watch again'
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
      streams.delete(end);
      healthWatchCount--;
      const left = (healthWatchesPerPeer.get(peer) ?? 1) - 1;
      if (left > 0) healthWatchesPerPeer.set(peer, left);
      else healthWatchesPerPeer.delete(peer);
    };
    const end = () => {
      release();
      if (!call.cancelled) call.end();
    };
    streams.add(end);
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
  };

  return {
    implementation: { Check: check, Watch: watch } as UntypedServiceImplementation,
    watchPeers: () => healthWatchesPerPeer.size,
  };
}
