/**
 * EMCO's StatusNotify (proto/statusnotify.proto) for logical clouds: StatusRegister sends the
 * logical cloud's status in EMCO's values (status-notify-view.ts) at once, then again at every
 * change of it (the status change events WatchStatus follows), until the client goes away,
 * deregisters or the DCM stops. StatusDeregister ends the streams the caller registered under
 * that clientId; a clientId is the caller's own, so nobody ends another caller's streams.
 *
 * The access interceptor (src/auth/grpc.ts) lets a registration through only to a caller who may
 * read the logical cloud's status. Like WatchStatus, at most `limit` registrations per caller
 * (principal source and name) are open at once, not counted in development mode.
 */
import { StatusFollower, StatusStreamLife } from './status-follower.js';
import type { CallerStreams } from './caller-streams.js';
import type { ServerWritableStream, UntypedServiceImplementation } from '@grpc/grpc-js';
import { principalOfCall } from '../auth/call-principal.js';
import { statusView } from '../features/lifecycle/lifecycle.schema.js';
import type { LifecycleService } from '../features/lifecycle/lifecycle.service.js';
import type { StatusEvents } from '../features/lifecycle/status-events.js';
import type { Logger } from '../logger.js';
import { toGrpcError } from './errors.js';
import { parseDeregistration, parseRegistration } from './status-notify-registration.js';
import { statusNotification, type StatusNotificationMessage } from './status-notify-view.js';
import type { Unary } from './unary.js';

type Request = Record<string, unknown>;

export interface StatusNotifyOptions {
  lifecycle: LifecycleService;
  statusEvents: StatusEvents;
  logger: Logger;
  /** The status streams each caller holds open (DCM_WATCH_STREAMS_PER_CALLER), shared with WatchStatus. */
  callerStreams: CallerStreams;
  /** The streams open now, each by the function that ends it when the DCM shuts down. */
  streams: Set<() => void>;
}

export function statusNotifyHandlers(unary: Unary, opts: StatusNotifyOptions): UntypedServiceImplementation {
  const { lifecycle, statusEvents, logger, callerStreams, streams } = opts;
  /** The end of each open stream, by caller and clientId. */
  const clients = new Map<string, Set<() => void>>();
  const clientKey = (callerKey: string, clientId: string) => `${callerKey}\n${clientId}`;

  const StatusRegister = (call: ServerWritableStream<Request, StatusNotificationMessage>) => {
    const principal = principalOfCall(call.metadata);
    const callerKey = `${principal.source}:${principal.name}`;
    let registration: ReturnType<typeof parseRegistration>;
    try {
      registration = parseRegistration(call.request);
    } catch (error) {
      call.emit('error', toGrpcError(error, logger, 'StatusRegister'));
      return;
    }
    const { project, logicalCloud } = registration;
    const release = callerStreams.claim(call, principal, 'StatusRegister', 'deregister one and register again');
    if (!release) return;
    const client = clientKey(callerKey, registration.clientId);
    let unsubscribe = () => undefined as void;
    // Given back when the stream ends (the last added first): the subscription, the client's entry, the stream count.
    const life = new StatusStreamLife(call, 'StatusRegister', logger, streams, 'register again');
    life.onClose(release);
    life.onClose(() => {
      const ends = clients.get(client);
      ends?.delete(endByDeregistration);
      if (ends?.size === 0) clients.delete(client);
    });
    life.onClose(() => unsubscribe());
    const { fail } = life;
    // Deregistered: the stream ends with OK, after what was written.
    const endByDeregistration = () => {
      if (!life.open) return;
      life.close();
      follower.after(() => {
        call.end();
      });
    };
    clients.set(client, (clients.get(client) ?? new Set()).add(endByDeregistration));

    const follower = new StatusFollower({
      isOpen: () => life.open,
      render: async () =>
        statusNotification(statusView(await lifecycle.getStatus(project, logicalCloud)), registration),
      write: (notification: StatusNotificationMessage) => call.write(notification),
      fail,
    });
    const refresh = follower.refresh;

    (async () => {
      const { logicalCloud: record } = await lifecycle.getStatus(project, logicalCloud);
      if (!life.open) return;
      // Subscribe first, then read: no change between the read and the subscription is missed.
      unsubscribe = statusEvents.subscribe(record.id, refresh);
      refresh();
    })().catch(fail);
  };

  return {
    StatusRegister,
    StatusDeregister: unary('StatusDeregister', async (request: Request, caller) => {
      const clientId = parseDeregistration(request);
      const ends = clients.get(clientKey(`${caller.source}:${caller.name}`, clientId));
      for (const end of [...(ends ?? [])]) end();
      return {};
    }),
  };
}
