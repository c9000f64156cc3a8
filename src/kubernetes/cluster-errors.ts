/**
 * What a call to a cluster failed with, by kind. Made in one place (`toClusterError`, and
 * `clusterErrorFor` for an HTTP status) from the library's exceptions and socket errors, with
 * the API server's own message; callers ask for the kind (`instanceof NotFound`), never for a
 * status number.
 */

/** A call to a cluster failed: a server error, a timeout, a reset, or an error of the DCM's own. */
export class ClusterError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ClusterError';
  }
}

/** The cluster answered and refused the request (a 4xx): it changed nothing. */
export class Refused extends ClusterError {}

/** No such object (404), or no such collection. */
export class NotFound extends Refused {}

/** The cluster does not serve the kind at all (no such resource in its discovery). */
export class NotServed extends NotFound {}

/** The object changed meanwhile, or exists already (409). */
export class Conflict extends Refused {}

/** The DCM's credentials were not accepted, or do not allow the request (401, 403). */
export class Forbidden extends Refused {}

/** The API server rejected the request as malformed or invalid (400, 422). */
export class Invalid extends Refused {}

/** The request never reached the cluster: no connection was made (refused, no such host, no route). */
export class Unreachable extends ClusterError {}

const BY_STATUS: Record<number, new (message: string) => ClusterError> = {
  400: Invalid,
  401: Forbidden,
  403: Forbidden,
  404: NotFound,
  409: Conflict,
  422: Invalid,
};

/** The error of an HTTP status the API server answered with (undefined: no status, a plain ClusterError). */
export function clusterErrorFor(message: string, status: number | undefined): ClusterError {
  if (status === undefined) return new ClusterError(message);
  const Kind = BY_STATUS[status] ?? (status >= 400 && status < 500 ? Refused : ClusterError);
  return new Kind(message);
}

/**
 * Whether a failed call certainly changed nothing on the cluster: it refused the request
 * (4xx), or the request never reached it. A timeout, a reset or a 5xx may have done it.
 */
export const certainlyNotDone = (error: unknown): boolean => error instanceof Refused || error instanceof Unreachable;

/** Socket errors of a connection that was never established. */
const NOT_CONNECTED = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

/** The API server's message of a library exception (its Status body), else the error's own. */
function messageOf(error: unknown): { message: string; status?: number; notConnected?: boolean } {
  const e = error as { code?: number | string; body?: unknown; message?: string };
  if (typeof e?.code === 'number' && e.body !== undefined) {
    let body = e.body;
    if (typeof body === 'string') {
      try {
        body = JSON.parse(body);
      } catch {
        /* plain text */
      }
    }
    const status = body as { message?: string };
    const message = typeof status?.message === 'string' ? status.message : String(e.body).slice(0, 500);
    return { message, status: e.code };
  }
  const notConnected = typeof e?.code === 'string' && NOT_CONNECTED.has(e.code);
  return { message: e?.message ?? String(error), notConnected };
}

/** The ClusterError a watch ended with: the library's Watch gives the answer's status as `statusCode`. */
export function watchEndedError(error: unknown, what: string): ClusterError {
  const e = error as { statusCode?: unknown; message?: string };
  if (typeof e?.statusCode === 'number') return clusterErrorFor(`${what}: ${e.message ?? ''}`, e.statusCode);
  return toClusterError(error, what);
}

/** The ClusterError of anything a call to the library threw, its message prefixed with what was done. */
export function toClusterError(error: unknown, what: string): ClusterError {
  if (error instanceof ClusterError) return error;
  const { message, status, notConnected } = messageOf(error);
  if (notConnected) return new Unreachable(`${what}: ${message}`);
  return clusterErrorFor(`${what}: ${message}`, status);
}
