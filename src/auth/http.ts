/**
 * Authentication and authorization of the REST API: a guard in front of the /v2 routes
 * (before the body is read). A request's path says what it does (`httpAction`); the rules
 * are in authorize.ts. Refusals answer 401 (with `WWW-Authenticate: Bearer`), 403 or 503 in
 * the service's error shape. The list of projects a project caller gets shows only its own.
 */
import type { Request, RequestHandler, Response } from 'express';
import type { StoredRecord } from '../db/named-record-store.js';
import { NotFoundError } from '../errors.js';
import { projectView } from '../features/projects/project.schema.js';
import type { ProjectData } from '../features/projects/project.service.js';
import { pageOf, setPageHeaders } from '../http/pagination.js';
import type { Action, Operation, Principal } from './authorize.js';
import { AUTH_HTTP_STATUS, AuthError } from './errors.js';
import type { AccessGate, RequestContext } from './gate.js';

/** POSTs under a logical cloud that start an operation on its clusters (rotate-ca re-issues CAs and applies). */
const LIFECYCLE_OPERATIONS = new Set([
  'apply',
  'instantiate',
  'update',
  'terminate',
  'stop',
  'rotate-ca',
  'revoke-credentials',
]);

/**
 * What a request under /v2 does, from its method and its path below /v2 (as the router
 * matches it: literal segments in any case, parameters percent-decoded).
 */
export function httpAction(method: string, path: string): Action {
  const unknown: Action = { resource: 'unknown', description: `${method} /v2${path}` };
  let segments: string[];
  try {
    segments = path
      .split('/')
      .filter((s) => s !== '')
      .map(decodeURIComponent);
  } catch {
    return unknown;
  }
  const read = method === 'GET' || method === 'HEAD';
  const op = read ? 'read' : 'write';
  const literal = (i: number) => segments[i]?.toLowerCase();
  const [, project, , logicalCloud] = segments;

  if (literal(0) === 'cluster-providers') return { resource: 'cluster-registry', operation: op };
  if (literal(0) === 'ca' && literal(1) === 'root' && segments.length === 2 && read)
    return { resource: 'ca-root', operation: 'read' };
  if (literal(0) !== 'projects') return unknown;
  if (project === undefined) return { resource: 'projects', operation: op };
  if (segments.length === 2) return { resource: 'project', project, operation: op };
  if (segments.length === 3 && literal(2) === 'policy') return { resource: 'project-policy', project, operation: op };
  if (literal(2) !== 'logical-clouds') return unknown;
  if (logicalCloud === undefined) return { resource: 'logical-clouds', project, operation: op };
  const on = (operation: Operation): Action => ({ resource: 'logical-cloud', project, logicalCloud, operation });
  const rest = segments.slice(4).map((s) => s.toLowerCase());
  if (read && rest.length === 1 && rest[0] === 'status') return on('status');
  if (
    read &&
    rest.at(-1) === 'kubeconfig' &&
    (rest.length === 1 || (rest.length === 3 && rest[0] === 'cluster-references'))
  )
    return on('kubeconfig');
  if (!read && rest.length === 1 && LIFECYCLE_OPERATIONS.has(rest[0]!)) return on('lifecycle');
  return on(op);
}

/** The caller and the action of a request that passed the guard (for audit and metrics). */
export const principalOf = (res: Response): Principal | undefined => res.locals.principal as Principal | undefined;
export const actionOf = (res: Response): Action | undefined => res.locals.action as Action | undefined;

export interface ProjectReader {
  get(name: string): Promise<StoredRecord<ProjectData>>;
}

/**
 * `WWW-Authenticate` (RFC 6750) carries fixed text only, one value per kind of refusal: never
 * the error's message, which names the caller, the project or the path, which are the
 * request's own text (a `€` or a line break there made Node refuse the header, and the
 * refusal a 500; a CR LF would have been a header of the caller's making). The reason is in
 * the body.
 */
const WWW_AUTHENTICATE = {
  /** No credentials, or not a bearer token: the scheme only. */
  missing: 'Bearer realm="dcm"',
  invalid_token:
    'Bearer realm="dcm", error="invalid_token", error_description="the bearer token is not valid or has expired"',
  insufficient_scope: 'Bearer realm="dcm", error="insufficient_scope", error_description="the caller may not do this"',
} as const;

export function sendAuthError(res: Response, error: AuthError): void {
  if (error.bearerError) res.setHeader('WWW-Authenticate', WWW_AUTHENTICATE[error.bearerError]);
  else if (error.failure === 'unauthenticated') res.setHeader('WWW-Authenticate', WWW_AUTHENTICATE.missing);
  res.status(AUTH_HTTP_STATUS[error.failure]).json({ name: error.name, message: error.message, details: [] });
}

/** GET /v2/projects of a project caller: its projects that exist, paged like every list. */
async function sendOwnProjects(
  req: Request,
  res: Response,
  principal: Principal,
  projects: ProjectReader,
): Promise<void> {
  const page = pageOf(req);
  const names = [...principal.projects].sort();
  const found = await Promise.all(
    names.map((name) =>
      projects.get(name).catch((error: unknown) => {
        if (error instanceof NotFoundError) return undefined;
        throw error;
      }),
    ),
  );
  const records = found.filter((r): r is StoredRecord<ProjectData> => r !== undefined);
  setPageHeaders(req, res, page, records.length);
  // Answered here in place of the route: metrics still name the route (see routePattern).
  res.locals.route = '/v2/projects';
  res.json(records.slice(page.offset, page.offset + page.limit).map(projectView));
}

/** The guard of the /v2 routes. */
export function httpGuard(gate: AccessGate, projects: ProjectReader): RequestHandler {
  return async (req, res, next) => {
    const context: RequestContext = {
      transport: 'http',
      requestId: String(req.id),
      method: req.method,
      path: req.originalUrl.split('?')[0],
    };
    try {
      const action = httpAction(req.method, req.path);
      res.locals.action = action;
      const principal = await gate.authenticate(req.headers.authorization, context);
      res.locals.principal = principal;
      gate.authorize(principal, action, context);
      if (action.resource === 'projects' && action.operation === 'read' && !principal.admin) {
        await sendOwnProjects(req, res, principal, projects);
        return;
      }
      next();
    } catch (error) {
      if (error instanceof AuthError) sendAuthError(res, error);
      else next(error);
    }
  };
}
