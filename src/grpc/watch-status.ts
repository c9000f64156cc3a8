/**
 * WatchStatus: the status of a logical cloud, then every change of it, until the client goes
 * away or the DCM stops. At most `limit` streams per caller (principal source and name) are open
 * at once; development mode, where every caller is the same `development` admin, is not counted.
 */
import grpc from '@grpc/grpc-js';
import type { ServerWritableStream, handleServerStreamingCall } from '@grpc/grpc-js';
import { principalOfCall } from '../auth/call-principal.js';
import { UnavailableError } from '../errors.js';
import type { LifecycleService } from '../features/lifecycle/lifecycle.service.js';
import type { StatusEvents } from '../features/lifecycle/status-events.js';
import type { Logger } from '../logger.js';
import { toGrpcError } from './errors.js';
import { statusMessage, type StatusMessage } from './lifecycle-handlers.js';
import { LOGICAL_CLOUD_FIELDS, requireFields, type Request } from './unary.js';

interface LogicalCloudRef {
  project: string;
  logical_cloud: string;
}

export interface WatchStatusOptions {
  lifecycle: LifecycleService;
  statusEvents: StatusEvents;
  logger: Logger;
  /** WatchStatus streams one caller may hold open at once (DCM_WATCH_STREAMS_PER_CALLER). */
  limit: number;
  /** The streams open now, each by the function that ends it when the DCM shuts down. */
  streams: Set<() => void>;
}

export function watchStatusHandler(
  opts: WatchStatusOptions,
): handleServerStreamingCall<LogicalCloudRef, StatusMessage> {
  const { lifecycle, statusEvents, logger, limit, streams } = opts;
  /** Open WatchStatus streams per caller (`source:name`); an entry goes when its count reaches 0. */
  const watchesPerCaller = new Map<string, number>();

  return (call: ServerWritableStream<LogicalCloudRef, StatusMessage>) => {
    const { project, logical_cloud: logicalCloud } = call.request;
    const principal = principalOfCall(call.metadata);
    const callerKey = `${principal.source}:${principal.name}`;
    // Development mode has no identities (every caller is the one `development` admin): nothing to count per caller.
    const counted = principal.source !== 'development';
    const held = watchesPerCaller.get(callerKey) ?? 0;
    if (counted && held >= limit) {
      call.emit('error', {
        code: grpc.status.RESOURCE_EXHAUSTED,
        details:
          `at most ${limit} WatchStatus streams per caller are open at once (DCM_WATCH_STREAMS_PER_CALLER); ` +
          'cancel one and watch again',
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
      streams.delete(endForShutdown);
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
    streams.add(endForShutdown);
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
          const message = await statusMessage(lifecycle, project, logicalCloud);
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
      requireFields(call.request as unknown as Request, LOGICAL_CLOUD_FIELDS);
      const { logicalCloud: record } = await lifecycle.getStatus(project, logicalCloud);
      if (!open) return;
      // Subscribe first, then read: no change between the read and the subscription is missed.
      unsubscribe = statusEvents.subscribe(record.id, refresh);
      refresh();
    })().catch(fail);
  };
}
