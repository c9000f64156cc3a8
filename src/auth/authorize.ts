/**
 * Who may do what: the one authorization decision of the DCM. REST (src/auth/http.ts) and
 * gRPC (src/auth/grpc.ts) each only translate a call into an `Action`; the rules are here.
 *
 * - admin: everything, unbounded by project policies.
 * - project caller (`projects`): its projects' logical clouds and everything under them,
 *   including apply/terminate, status and kubeconfig; it reads (never changes) its projects
 *   and the cluster registry (whose views carry no secrets); the project list shows only its
 *   projects. Creating, changing or deleting projects, providers and clusters is admin-only.
 * - tenant (`logicalClouds: ['project/lc']`): only the status and kubeconfig of those logical clouds.
 * - anyone authenticated with some scope: the DCM's service-mesh root certificate (public, no key).
 *
 * Anything else is denied, also paths no rule knows. A denial is a 403 whether or not the
 * resource exists, so the answer says nothing about other tenants' projects.
 */

export interface Principal {
  /** Who, as audit and logs name them: a token's name, or an OIDC subject. Never the token. */
  name: string;
  source: 'token' | 'oidc' | 'development' | 'system';
  admin: boolean;
  /** Projects the caller manages. */
  projects: ReadonlySet<string>;
  /** `project/logicalCloud` whose status and kubeconfig the caller may read. */
  logicalClouds: ReadonlySet<string>;
}

/** Every caller of a DCM composed without authentication (development mode). */
export const DEVELOPMENT_PRINCIPAL: Principal = Object.freeze({
  name: 'development',
  source: 'development',
  admin: true,
  projects: new Set<string>(),
  logicalClouds: new Set<string>(),
});

/** The DCM itself, for work it starts on its own (renewing certificates): never bounded by a project's policy. */
export const SYSTEM_PRINCIPAL: Principal = Object.freeze({
  name: 'dcm',
  source: 'system',
  admin: true,
  projects: new Set<string>(),
  logicalClouds: new Set<string>(),
});

/**
 * A caller with no rights at all: what a service sees when no access guard named the caller
 * (a transport composed without one), so that a missing guard never makes an admin.
 */
export const UNSCOPED_PRINCIPAL: Principal = Object.freeze({
  name: 'unauthenticated',
  source: 'token',
  admin: false,
  projects: new Set<string>(),
  logicalClouds: new Set<string>(),
});

/** read: GET; write: create/update/delete; lifecycle: apply/terminate. */
export type Operation = 'read' | 'write' | 'lifecycle' | 'status' | 'kubeconfig';

export type Action =
  | { resource: 'cluster-registry'; operation: 'read' | 'write' }
  /** The DCM's service-mesh root certificate (certificates only). */
  | { resource: 'ca-root'; operation: 'read' }
  /** The project collection: list (read) or create (write). */
  | { resource: 'projects'; operation: 'read' | 'write' }
  | { resource: 'project'; project: string; operation: 'read' | 'write' }
  /** A project's policy (the tenant boundary of its logical clouds): read by its callers, set by admins. */
  | { resource: 'project-policy'; project: string; operation: 'read' | 'write' }
  /** A project's logical-cloud collection: list (read) or create (write). */
  | { resource: 'logical-clouds'; project: string; operation: 'read' | 'write' }
  /** A logical cloud or anything under it (references, permissions, quotas, kv-pairs, lifecycle). */
  | { resource: 'logical-cloud'; project: string; logicalCloud: string; operation: Operation }
  /** A path or method no rule knows: admin only. */
  | { resource: 'unknown'; description: string };

export type Decision = { allowed: true } | { allowed: false; reason: string };

const allow: Decision = { allowed: true };
const deny = (reason: string): Decision => ({ allowed: false, reason });

export const tenantKey = (project: string, logicalCloud: string): string => `${project}/${logicalCloud}`;

/** What an action is, in words, for denial messages and logs. */
export function describeAction(action: Action): string {
  switch (action.resource) {
    case 'cluster-registry':
      return action.operation === 'read' ? 'read the cluster registry' : 'change the cluster registry';
    case 'ca-root':
      return "read the DCM's root certificate";
    case 'projects':
      return action.operation === 'read' ? 'list projects' : 'create projects';
    case 'project':
      return `${action.operation === 'read' ? 'read' : 'change'} project ${action.project}`;
    case 'project-policy':
      return `${action.operation === 'read' ? 'read' : 'change'} the policy of project ${action.project}`;
    case 'logical-clouds':
      return `${action.operation === 'read' ? 'list' : 'create'} logical clouds of project ${action.project}`;
    case 'logical-cloud': {
      const verb = {
        read: 'read',
        write: 'change',
        lifecycle: 'apply or terminate',
        status: 'read the status of',
        kubeconfig: 'get the kubeconfig of',
      }[action.operation];
      return `${verb} logical cloud ${action.project}/${action.logicalCloud}`;
    }
    case 'unknown':
      return action.description;
  }
}

export function authorize(principal: Principal, action: Action): Decision {
  if (principal.admin) return allow;
  const scoped = principal.projects.size > 0;
  const no = () => deny(`${principal.name} may not ${describeAction(action)}`);
  switch (action.resource) {
    case 'cluster-registry':
      if (action.operation === 'write') return deny(`${principal.name} may not ${describeAction(action)} (admin only)`);
      return scoped ? allow : no();
    case 'ca-root':
      return scoped || principal.logicalClouds.size > 0 ? allow : no();
    case 'projects':
      if (action.operation === 'write') return deny(`${principal.name} may not ${describeAction(action)} (admin only)`);
      return scoped ? allow : no();
    case 'project':
      if (!principal.projects.has(action.project)) return no();
      return action.operation === 'read'
        ? allow
        : deny(`${principal.name} may not ${describeAction(action)} (admin only)`);
    case 'project-policy':
      if (!principal.projects.has(action.project)) return no();
      return action.operation === 'read'
        ? allow
        : deny(`${principal.name} may not ${describeAction(action)} (admin only)`);
    case 'logical-clouds':
      return principal.projects.has(action.project) ? allow : no();
    case 'logical-cloud':
      if (principal.projects.has(action.project)) return allow;
      if (
        (action.operation === 'status' || action.operation === 'kubeconfig') &&
        principal.logicalClouds.has(tenantKey(action.project, action.logicalCloud))
      )
        return allow;
      return no();
    case 'unknown':
      return no();
  }
}
