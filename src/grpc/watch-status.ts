/**
 * WatchStatus: the status of a logical cloud, then every change of it, until the client goes
 * away or the DCM stops. At most `limit` streams per caller (principal source and name) are open
 * at once; development mode, where every caller is the same `development` admin, is not counted.
 */
import { StatusFollower, StatusStreamLife } from './status-follower.js';
import type { ServerWritableStream, handleServerStreamingCall } from '@grpc/grpc-js';
import { principalOfCall } from '../auth/call-principal.js';
import type { LifecycleService } from '../features/lifecycle/lifecycle.service.js';
import type { StatusEvents } from '../features/lifecycle/status-events.js';
import type { Logger } from '../logger.js';
import type { CallerStreams } from './caller-streams.js';
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
  /** The status streams each caller holds open (DCM_WATCH_STREAMS_PER_CALLER), shared with StatusNotify. */
  callerStreams: CallerStreams;
  /** The streams open now, each by the function that ends it when the DCM shuts down. */
  streams: Set<() => void>;
}

export function watchStatusHandler(
  opts: WatchStatusOptions,
): handleServerStreamingCall<LogicalCloudRef, StatusMessage> {
  const { lifecycle, statusEvents, logger, callerStreams, streams } = opts;

  return (call: ServerWritableStream<LogicalCloudRef, StatusMessage>) => {
    const { project, logical_cloud: logicalCloud } = call.request;
    const principal = principalOfCall(call.metadata);
    const release = callerStreams.claim(call, principal, 'WatchStatus', 'cancel one and watch again');
    if (!release) return;
    let unsubscribe = () => undefined as void;
    // Given back in this order when the stream ends: the subscription, the caller's stream count.
    const life = new StatusStreamLife(call, 'WatchStatus', logger, streams, 'watch again');
    life.onClose(release);
    life.onClose(() => unsubscribe());
    const { fail } = life;

    const refresh = new StatusFollower({
      isOpen: () => life.open,
      render: () => statusMessage(lifecycle, project, logicalCloud),
      write: (message: StatusMessage) => call.write(message),
      fail,
    }).refresh;

    (async () => {
      requireFields(call.request as unknown as Request, LOGICAL_CLOUD_FIELDS);
      const { logicalCloud: record } = await lifecycle.getStatus(project, logicalCloud);
      if (!life.open) return;
      // Subscribe first, then read: no change between the read and the subscription is missed.
      unsubscribe = statusEvents.subscribe(record.id, refresh);
      refresh();
    })().catch(fail);
  };
}
