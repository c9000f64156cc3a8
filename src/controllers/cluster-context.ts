/**
 * What a controller knows while it works one cluster of one logical cloud, and how it
 * reports: every object it touches gets a status line (category, kind, name, status, message).
 */
import type { ClusterRecord, ClusterSecrets } from '../domain/cluster.js';
import type {
  ClusterQuotaRecord,
  ClusterReferenceRecord,
  LogicalCloudRecord,
  PermissionRecord,
} from '../domain/logical-cloud.js';
import type { TenantIdentity } from '../domain/tenant-identity.js';
import { NotFound } from '../kubernetes/cluster-errors.js';
import type { ClusterGateway, KubeObject } from '../kubernetes/cluster-gateway.js';
import type { RuleWarning } from '../kubernetes/discovery.js';
import { managedLabels, managedSelector, type LogicalCloudIdentity } from './object-names.js';

export type ResourceCategory =
  'namespace' | 'user-certificate' | 'role' | 'role-binding' | 'quota' | 'isolation' | 'ca' | 'mesh';

/**
 * Created: applied. Pending: declared, not ready yet (an Istio control plane). Ready: declared
 * and reported ready by the cluster. Failed / Deleted / DeleteFailed: as they say.
 */
export type ResourceState = 'Created' | 'Pending' | 'Ready' | 'Failed' | 'Deleted' | 'DeleteFailed';

export interface ResourceStatus {
  category: ResourceCategory;
  kind: string;
  name: string;
  status: ResourceState;
  message?: string;
}

export interface ClusterWork {
  project: string;
  logicalCloud: LogicalCloudRecord;
  reference: ClusterReferenceRecord;
  cluster: ClusterRecord;
  /** The cluster's admin kubeconfig and CA key, opened for this piece of work only. */
  clusterSecrets: ClusterSecrets;
  permissions: PermissionRecord[];
  quotas: ClusterQuotaRecord[];
  /** Of a standard (level 1) logical cloud: its tenant's certificate subject and the group RBAC binds, for this apply. */
  tenant?: TenantIdentity;
}

export class ClusterContext {
  readonly resources: ResourceStatus[] = [];
  readonly warnings: RuleWarning[] = [];
  /** Set when it is certain that this apply created nothing on the cluster (its namespace never got there). */
  nothingCreated = false;
  /**
   * Set for a drift check: everything is read and compared, nothing taken from what this replica
   * verified a moment ago (e.g. the cluster-wide tenant guard).
   */
  thorough = false;

  constructor(
    readonly work: ClusterWork,
    /** The cluster's gateway (named connection for the code that built contexts before the gateway). */
    readonly connection: ClusterGateway,
  ) {}

  get identity(): LogicalCloudIdentity {
    return {
      project: this.work.project,
      logicalCloud: this.work.logicalCloud.name,
      logicalCloudId: this.work.logicalCloud.id,
    };
  }

  get namespace(): string {
    return this.work.logicalCloud.data.namespace;
  }

  get labels(): Record<string, string> {
    return managedLabels(this.identity);
  }

  get selector(): string {
    return managedSelector(this.identity);
  }

  record(status: ResourceStatus): void {
    this.resources.push(status);
  }

  /** Records that working an object failed (or its deletion did), with the error's message. */
  recordFailure(
    object: Pick<ResourceStatus, 'category' | 'kind' | 'name'>,
    error: unknown,
    status: 'Failed' | 'DeleteFailed' = 'Failed',
  ): void {
    this.resources.push({ ...object, status, message: messageOf(error) });
  }

  failed(): boolean {
    return this.resources.some((r) => r.status === 'Failed' || r.status === 'DeleteFailed');
  }
}

export interface ManagedKind {
  category: ResourceCategory;
  apiVersion: string;
  kind: string;
  namespaced: boolean;
}

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

/**
 * Applies the desired objects of some kinds, then deletes the objects of those kinds that
 * carry this logical cloud's labels but are no longer desired. Each object's failure is
 * recorded and does not stop the others.
 */
export async function reconcileObjects(
  ctx: ClusterContext,
  kinds: ManagedKind[],
  desired: KubeObject[],
  /** Objects of these kinds that another controller owns: never pruned here. */
  ownedElsewhere: (o: KubeObject) => boolean = () => false,
): Promise<void> {
  const kindOf = (o: { kind?: string }) => kinds.find((k) => k.kind === o.kind)!;
  for (const object of desired) {
    const kind = kindOf(object);
    try {
      await ctx.connection.apply(object);
      ctx.record({ category: kind.category, kind: kind.kind, name: object.metadata!.name!, status: 'Created' });
    } catch (error) {
      ctx.record({
        category: kind.category,
        kind: kind.kind,
        name: object.metadata!.name!,
        status: 'Failed',
        message: messageOf(error),
      });
    }
  }
  const wanted = new Set(desired.map((o) => `${o.kind}/${o.metadata?.name}`));
  await pruneObjects(ctx, kinds, (o) => !ownedElsewhere(o) && !wanted.has(`${o.kind}/${o.metadata?.name}`));
}

/** Deletes this logical cloud's objects of the given kinds that `select` picks. */
export async function pruneObjects(
  ctx: ClusterContext,
  kinds: ManagedKind[],
  select: (o: KubeObject) => boolean = () => true,
): Promise<void> {
  for (const kind of kinds) {
    let existing: KubeObject[];
    try {
      existing = await ctx.connection.list(kind.apiVersion, kind.kind, {
        ...(kind.namespaced ? { namespace: ctx.namespace } : {}),
        labelSelector: ctx.selector,
      });
    } catch (error) {
      ctx.record({
        category: kind.category,
        kind: kind.kind,
        name: '*',
        status: 'DeleteFailed',
        message: messageOf(error),
      });
      continue;
    }
    for (const object of existing) {
      object.kind ??= kind.kind;
      if (!select(object)) continue;
      const name = object.metadata!.name!;
      try {
        await ctx.connection.delete({
          apiVersion: kind.apiVersion,
          kind: kind.kind,
          name,
          ...(kind.namespaced ? { namespace: ctx.namespace } : {}),
        });
        ctx.record({ category: kind.category, kind: kind.kind, name, status: 'Deleted' });
      } catch (error) {
        ctx.record({
          category: kind.category,
          kind: kind.kind,
          name,
          status: 'DeleteFailed',
          message: messageOf(error),
        });
      }
    }
  }
}

export const isNotFound = (error: unknown): boolean => error instanceof NotFound;

export { messageOf };
