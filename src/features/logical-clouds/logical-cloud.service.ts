/**
 * Logical clouds: create (with the design's inline user permissions), read (with their
 * permissions and cluster references), list, update, delete (with every child).
 *
 * No multi-document transactions (FerretDB has none): children are keyed by the logical
 * cloud's id, written before the logical cloud itself on create and removed after it on
 * delete, so a failure half-way leaves only records that nothing can reach.
 */
import { randomUUID } from 'node:crypto';
import { DuplicateNameError, type NamedRecordStore, type Page, type PageOf } from '../../db/named-record-store.js';
import type {
  ClusterQuotaData,
  ClusterReferenceData,
  ClusterReferenceRecord,
  KvPairData,
  LogicalCloudData,
  LogicalCloudRecord,
  PermissionData,
  PermissionRecord,
} from '../../domain/logical-cloud.js';
import { DEFAULT_RESERVED_NAMESPACES } from '../../domain/tenant-identity.js';
import { ConflictError, NotFoundError } from '../../errors.js';
import type { EventBus } from '../../jobs/event-bus.js';
import type { Described } from '../metadata.js';
import type { Caller, ProjectPolicyService } from '../project-policies/project-policy.service.js';
import type { TopLevelService } from '../top-level.service.js';
import { checkInlinePermissions, permissionData, type InlinePermission } from './inline-permissions.js';
import { checkContainerDefaults, checkLabels, enforcePolicy } from './logical-cloud-checks.js';
import type { LogicalCloudResolver } from './logical-cloud-child.service.js';
import { writeLogicalCloudUpdate } from './logical-cloud-update-write.js';
import { NamespaceClaims } from './namespace-claim.js';
import type { NamespaceClaimStore } from './namespace-claim.store.js';

export interface LogicalCloudInput {
  data: LogicalCloudData;
  /** undefined on update: keep the permissions as they are. */
  permissions?: InlinePermission[];
}

export interface LogicalCloudView {
  record: LogicalCloudRecord;
  permissions: PermissionRecord[];
  clusterReferences: ClusterReferenceRecord[];
}

export interface LogicalCloudStores {
  logicalClouds: NamedRecordStore<LogicalCloudData>;
  permissions: NamedRecordStore<PermissionData>;
  clusterReferences: NamedRecordStore<ClusterReferenceData>;
  clusterQuotas: NamedRecordStore<ClusterQuotaData>;
  kvPairs: NamedRecordStore<KvPairData>;
}

/**
 * Decides, from the lifecycle, whether a logical cloud may change or be deleted now (the apply
 * feature is it). What other features keep of a logical cloud follows it by events
 * (`logicalCloudUpdated`, `logicalCloudDeleted`: src/domain/events.ts).
 */
export interface LifecycleGuard {
  checkMutable(lc: LogicalCloudRecord, change: 'update' | 'delete' | 'identity'): Promise<void>;
  /** Runs a change that no operation on the logical cloud may overlap (409 while one runs). */
  exclusive<T>(lc: LogicalCloudRecord, work: () => Promise<T>): Promise<T>;
}

export class LogicalCloudService implements LogicalCloudResolver {
  private readonly namespaces: NamespaceClaims;

  constructor(
    private readonly stores: LogicalCloudStores,
    private readonly projects: TopLevelService<Described>,
    private readonly policies: Pick<ProjectPolicyService, 'enforce' | 'allowedLabelPrefixes'>,
    namespaceClaims: NamespaceClaimStore,
    /** The lifecycle's rules (a provider: the lifecycle is built after this service, and needs it). */
    private readonly guard: () => LifecycleGuard,
    private readonly events: Pick<EventBus, 'emit'>,
    /** DCM_RESERVED_NAMESPACES. */
    reservedNamespaces: readonly string[] = DEFAULT_RESERVED_NAMESPACES,
  ) {
    this.namespaces = new NamespaceClaims(namespaceClaims, stores.logicalClouds, reservedNamespaces);
  }

  async resolve(project: string, name: string): Promise<LogicalCloudRecord> {
    const lc = await this.stores.logicalClouds.get({ project }, name);
    if (lc) return lc;
    await this.projects.get(project);
    throw new NotFoundError(`Logical Cloud ${name} not found in project ${project}`);
  }

  /**
   * Writes first and checks afterwards what could make the write wrong (the name taken, the
   * project missing or deleted meanwhile), undoing it then: on the usual path that is one
   * read instead of three. The permissions hang off the new logical cloud's fresh id, so
   * nobody sees them before the logical cloud exists, nor after it is undone.
   */
  async create(project: string, name: string, input: LogicalCloudInput, caller: Caller): Promise<LogicalCloudView> {
    const permissions = input.permissions ?? [];
    checkInlinePermissions(input.data, permissions);
    await checkLabels(this.policies, project, input.data);
    await enforcePolicy(this.policies, caller, project, input.data, permissions);
    this.namespaces.refuseReserved(input.data);
    const id = randomUUID();
    const scope = { logicalCloudId: id };
    try {
      const written = await Promise.allSettled(
        permissions.map((p) => this.stores.permissions.create(scope, p.name, permissionData(input.data, p))),
      );
      const failed = written.find((w): w is PromiseRejectedResult => w.status === 'rejected');
      if (failed) throw failed.reason;
      const created = written.map((w) => (w as PromiseFulfilledResult<PermissionRecord>).value);
      const record = await this.stores.logicalClouds.create({ project }, name, input.data, id);
      try {
        await this.projects.get(project);
        await this.namespaces.claim(caller, project, name, id, input.data);
      } catch (error) {
        await this.stores.logicalClouds.delete({ project }, name);
        throw error;
      }
      const selects = Boolean(input.data.clusterSelector);
      await this.events.emit('logicalCloudCreated', { logicalCloudId: id, project, name, selects });
      // A cluster selector has made references meanwhile (cluster-selection feature).
      if (input.data.clusterSelector) return this.get(project, name);
      return { record, permissions: created, clusterReferences: [] };
    } catch (error) {
      await this.stores.permissions.deleteAll(scope);
      await this.namespaces.release(input.data.namespace, id);
      if (error instanceof DuplicateNameError) {
        await this.projects.get(project); // a missing project is the answer, not a conflict in it
        throw new ConflictError(`Logical Cloud ${name} already exists in project ${project}`);
      }
      throw error;
    }
  }

  async get(project: string, name: string): Promise<LogicalCloudView> {
    const record = await this.resolve(project, name);
    const [views] = await this.withChildren([record]);
    return views!;
  }

  async list(project: string, page: Page): Promise<PageOf<LogicalCloudView>> {
    const { items, total } = await this.stores.logicalClouds.list({ project }, page);
    if (total === 0) await this.projects.get(project); // logical clouds exist only in a project
    return { items: await this.withChildren(items), total };
  }

  /** Permissions and references of many logical clouds in two queries, not two per logical cloud. */
  private async withChildren(records: LogicalCloudRecord[]): Promise<LogicalCloudView[]> {
    if (records.length === 0) return [];
    const ids = { logicalCloudId: { $in: records.map((r) => r.id) } };
    const [permissions, references] = await Promise.all([
      this.stores.permissions.findWhere({}, ids),
      this.stores.clusterReferences.findWhere({}, ids),
    ]);
    const byName = <R extends { name: string }>(a: R, b: R) => a.name.localeCompare(b.name);
    return records.map((record) => ({
      record,
      permissions: permissions.filter((p) => p.scope.logicalCloudId === record.id).sort(byName),
      clusterReferences: references.filter((r) => r.scope.logicalCloudId === record.id).sort(byName),
    }));
  }

  /**
   * Replaces the logical cloud (and, when given, its inline permissions). A change of its
   * identity (namespace, user, level) or of its permissions runs holding the logical cloud's
   * lease, so it can neither race an apply (which claims the same lease) nor be read half-way by
   * one; a write that fails half-way puts back what was there.
   */
  async update(
    project: string,
    name: string,
    input: LogicalCloudInput,
    expectedRevision: number | undefined,
    caller: Caller,
  ): Promise<LogicalCloudView> {
    const current = await this.resolve(project, name);
    const identityChanged =
      current.data.namespace !== input.data.namespace ||
      current.data.level !== input.data.level ||
      current.data.user?.name !== input.data.user?.name ||
      (current.data.user?.type ?? 'certificate') !== (input.data.user?.type ?? 'certificate');
    if (input.permissions) checkInlinePermissions(input.data, input.permissions);
    await checkLabels(this.policies, project, input.data);
    await checkContainerDefaults(this.stores.clusterQuotas, current, input.data);
    await enforcePolicy(this.policies, caller, project, input.data, input.permissions);
    const change = async () => {
      await this.guard().checkMutable(current, identityChanged ? 'identity' : 'update');
      await writeLogicalCloudUpdate(this.stores, this.namespaces, {
        project,
        name,
        current,
        input,
        expectedRevision,
        caller,
      });
    };
    const touchesPermissions = input.permissions !== undefined || current.data.namespace !== input.data.namespace;
    if (identityChanged || touchesPermissions) await this.guard().exclusive(current, change);
    else await change();
    await this.events.emit('logicalCloudUpdated', {
      logicalCloudId: current.id,
      before: current.data,
      after: input.data,
    });
    return this.get(project, name);
  }

  async delete(project: string, name: string): Promise<void> {
    const lc = await this.resolve(project, name);
    await this.guard().checkMutable(lc, 'delete');
    if (!(await this.stores.logicalClouds.delete({ project }, name))) {
      throw new NotFoundError(`Logical Cloud ${name} not found in project ${project}`);
    }
    const scope = { logicalCloudId: lc.id };
    await Promise.all([
      this.namespaces.release(lc.data.namespace, lc.id),
      this.stores.permissions.deleteAll(scope),
      this.stores.clusterReferences.deleteAll(scope),
      this.stores.clusterQuotas.deleteAll(scope),
      this.stores.kvPairs.deleteAll(scope),
      this.events.emit('logicalCloudDeleted', { logicalCloudId: lc.id, project, name }),
    ]);
  }

  /** Claims the namespaces of logical clouds stored before namespaces were claimed (once per database). */
  claimStoredNamespaces(): Promise<void> {
    return this.namespaces.claimStored();
  }

  hasLogicalClouds(project: string): Promise<boolean> {
    return this.stores.logicalClouds.count({ project }).then((n) => n > 0);
  }
}
