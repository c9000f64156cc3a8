/**
 * Project policies: read by the project's callers, set and reset by admins only (the
 * transports authorize that), and enforced on every write a non-admin caller makes to a
 * logical cloud, its permissions and its cluster references, and again at its apply.
 */
import type { Principal } from '../../auth/authorize.js';
import {
  clusterAdmitted,
  defaultProjectPolicy,
  permissionRefusal,
  type PolicyCluster,
  type ProjectPolicy,
  type RequestedPermission,
} from '../../auth/tenant-policy.js';
import {
  atLeastAsStrict,
  networkModeOf,
  podSecurityOf,
  type LogicalCloudData,
  type NetworkMode,
  type PodSecurityLevel,
} from '../../domain/logical-cloud.js';
import { PolicyDeniedError } from '../../errors.js';
import type { Described } from '../metadata.js';
import type { TopLevelService } from '../top-level.service.js';
import type { ProjectPolicyStore } from './project-policy.store.js';

/** Who asks: admins are not bounded by any project's policy. */
export type Caller = Pick<Principal, 'name' | 'admin' | 'projects'>;

export interface ProjectPolicyView {
  project: string;
  policy: ProjectPolicy;
  /** false: no admin has set one, this is the default of a new project. */
  custom: boolean;
  updatedAt?: Date;
  updatedBy?: string;
}

/** What a write or an apply would give the logical cloud, as far as the policy bounds it. */
export interface BoundaryRequest {
  level?: '0' | '1';
  permissions?: RequestedPermission[];
  clusters?: PolicyCluster[];
  /** The isolation asked for (defaults filled in by the caller or not: absent fields are the defaults). */
  isolation?: { podSecurity?: PodSecurityLevel; network?: NetworkMode };
  /** serviceMesh.nameConstraints as asked (false: intermediates without the URI name constraint). */
  nameConstraints?: boolean;
  /** The logical cloud's namespace (level 1), held against the policy's namespacePrefix. */
  namespace?: string;
}

export class ProjectPolicyService {
  constructor(
    private readonly store: ProjectPolicyStore,
    private readonly projects: TopLevelService<Described>,
  ) {}

  async get(project: string): Promise<ProjectPolicyView> {
    const record = await this.projects.get(project);
    const stored = await this.store.get(record.id);
    if (!stored) return { project, policy: defaultProjectPolicy(), custom: false };
    return { project, policy: stored.policy, custom: true, updatedAt: stored.updatedAt, updatedBy: stored.updatedBy };
  }

  async set(project: string, policy: ProjectPolicy, caller: Caller): Promise<ProjectPolicyView> {
    const record = await this.projects.get(project);
    const stored = await this.store.put(record.id, project, policy, caller.name);
    return { project, policy, custom: true, updatedAt: stored.updatedAt, updatedBy: stored.updatedBy };
  }

  async reset(project: string): Promise<void> {
    const record = await this.projects.get(project);
    await this.store.delete(record.id);
  }

  /** The label prefixes the project's logical clouds may set although Kubernetes or Istio reserve them (for every caller). */
  async allowedLabelPrefixes(project: string): Promise<string[]> {
    return (await this.get(project)).policy.allowedLabelPrefixes;
  }

  /** Throws PolicyDeniedError (403) naming the rule or cluster unless the caller is an admin or the policy allows all of it. */
  async enforce(caller: Caller, project: string, request: BoundaryRequest): Promise<void> {
    if (caller.admin) return;
    const { policy } = await this.get(project);
    const refusal = boundaryRefusal(policy, request);
    if (refusal) throw new PolicyDeniedError(`denied by the policy of project ${project}: ${refusal}`);
  }
}

/** What a logical cloud itself asks of the policy (beside its permissions and clusters): level, isolation, mesh CA constraint. */
export function logicalCloudBoundary(data: LogicalCloudData): BoundaryRequest {
  return {
    level: data.level,
    ...(data.level === '1'
      ? { namespace: data.namespace, isolation: { podSecurity: podSecurityOf(data), network: networkModeOf(data) } }
      : {}),
    ...(data.serviceMesh?.enabled && data.serviceMesh.nameConstraints === false ? { nameConstraints: false } : {}),
  };
}

/** Why the policy refuses the request, or undefined. */
export function boundaryRefusal(policy: ProjectPolicy, request: BoundaryRequest): string | undefined {
  if (request.level === '0' && !policy.allowAdminLevel) {
    return 'admin-level (level "0") logical clouds, which use the clusters\' own admin access, are not allowed';
  }
  for (const permission of request.permissions ?? []) {
    const refused = permissionRefusal(policy, permission);
    if (refused) return refused;
  }
  if (
    request.namespace !== undefined &&
    policy.namespacePrefix !== '' &&
    !request.namespace.startsWith(policy.namespacePrefix)
  ) {
    return `namespace ${request.namespace} does not start with the project's namespace prefix ${policy.namespacePrefix} (policy namespacePrefix)`;
  }
  const podSecurity = request.isolation?.podSecurity;
  if (podSecurity !== undefined && !atLeastAsStrict(podSecurity, policy.podSecurity.minimum)) {
    return (
      `podSecurity ${podSecurity} is less strict than the project's minimum (${policy.podSecurity.minimum}); an admin ` +
      `may allow it (policy podSecurity.minimum)`
    );
  }
  const network = request.isolation?.network;
  if (network !== undefined && !policy.network.allowed.includes(network)) {
    return `network isolation ${network} is not among the project's allowed modes (${policy.network.allowed.join(', ')}) (policy network.allowed)`;
  }
  if (request.nameConstraints === false && !policy.mesh.allowUnconstrainedIntermediates) {
    return 'serviceMesh.nameConstraints false (intermediates that may sign any trust domain) needs an admin or the policy mesh.allowUnconstrainedIntermediates';
  }
  for (const cluster of request.clusters ?? []) {
    if (!clusterAdmitted(policy.clusters, cluster)) {
      return `cluster ${cluster.name} of provider ${cluster.provider} is not among the clusters the project may use`;
    }
  }
  return undefined;
}
