/**
 * Whether a lifecycle request may proceed, decided from the records and the status document
 * alone: pure functions, no I/O. Each refusal throws the error the APIs map to 409
 * (StateConflictError: the logical cloud's state does not allow it; ConflictError: an operation
 * is in progress).
 */
import { ConflictError, StateConflictError } from '../../errors.js';
import type { LogicalCloudRecord, PermissionRecord } from '../../domain/logical-cloud.js';
import type { LifecycleDocument, LifecycleState } from './lifecycle-status.store.js';

/** The most user permissions one apply works. */
export const MAX_PERMISSIONS = 100;

/** States in which objects of the logical cloud may exist on clusters. */
export const HOLDS_RESOURCES: readonly LifecycleState[] = [
  'Instantiating',
  'Instantiated',
  'InstantiateFailed',
  'Terminating',
  'TerminateFailed',
];

type Status = Pick<LifecycleDocument, 'state' | 'operation'> | null | undefined;

export const holdsResources = (doc: Status): boolean =>
  doc !== null && doc !== undefined && HOLDS_RESOURCES.includes(doc.state);

/** An applied logical cloud whose last apply ended (well or not) and on which nothing runs: its clusters can be reconciled. */
export const isSettledApplied = (doc: Status): boolean =>
  doc !== null &&
  doc !== undefined &&
  !doc.operation.inProgress &&
  (doc.state === 'Instantiated' || doc.state === 'InstantiateFailed');

/**
 * A change of the logical cloud's records: any `update` may proceed (the next apply carries it);
 * `delete` and a change of its `identity` (namespace, user, level) only while nothing of it is
 * on a cluster.
 */
export function checkChange(lc: LogicalCloudRecord, change: 'update' | 'delete' | 'identity', doc: Status): void {
  if (change === 'update' || !holdsResources(doc)) return;
  if (change === 'delete') {
    throw new StateConflictError(
      `Logical Cloud ${lc.name} is applied (${doc!.state}); terminate it before deleting it`,
    );
  }
  throw new StateConflictError(
    `the namespace, user and level of Logical Cloud ${lc.name} cannot change while it is applied (${doc!.state}); terminate it first`,
  );
}

/** What an apply is checked against: how many references and permissions the logical cloud has, and its permissions. */
export interface ApplyRecords {
  referenceCount: number;
  permissionCount: number;
  permissions: Pick<PermissionRecord, 'data'>[];
}

/** An apply needs a cluster reference; a standard (level 1) logical cloud a user and 1..MAX_PERMISSIONS permissions, one in its namespace. */
export function checkApply(lc: LogicalCloudRecord, records: ApplyRecords): void {
  const name = lc.name;
  if (records.referenceCount === 0)
    throw new StateConflictError(`Logical Cloud ${name} has no cluster references; add at least one before applying`);
  if (lc.data.level !== '1') return;
  if (!lc.data.user) throw new StateConflictError(`Logical Cloud ${name} has no user`);
  if (records.permissionCount > MAX_PERMISSIONS) {
    throw new StateConflictError(
      `Logical Cloud ${name} has ${records.permissionCount} user permissions; at most ${MAX_PERMISSIONS} can be applied`,
    );
  }
  if (!records.permissions.some((p) => p.data.namespace !== '')) {
    throw new StateConflictError(
      `Logical Cloud ${name} needs at least one user permission in its namespace ${lc.data.namespace}`,
    );
  }
}

/** A terminate needs a logical cloud that may hold objects on clusters. */
export function checkTerminate(lc: LogicalCloudRecord, doc: Status): void {
  if (!holdsResources(doc))
    throw new StateConflictError(`Logical Cloud ${lc.name} is not applied; there is nothing to terminate`);
}

/** A stop needs an operation in progress. */
export function checkStop(
  lc: LogicalCloudRecord,
  doc: LifecycleDocument | null | undefined,
): asserts doc is LifecycleDocument {
  if (!doc?.operation.inProgress)
    throw new StateConflictError(`no operation is in progress on Logical Cloud ${lc.name}: there is nothing to stop`);
}

/** A revocation needs a tenant user, no operation in progress and an applied logical cloud. */
export function checkRevoke(lc: LogicalCloudRecord, doc: Status): void {
  if (lc.data.level !== '1' || !lc.data.user) {
    throw new StateConflictError(
      `Logical Cloud ${lc.name} has no tenant user (level ${lc.data.level}): it has no credentials to revoke`,
    );
  }
  if (doc?.operation.inProgress)
    throw new ConflictError(`an operation on Logical Cloud ${lc.name} is already in progress`);
  if (!doc || (doc.state !== 'Instantiated' && doc.state !== 'InstantiateFailed')) {
    throw new StateConflictError(
      `Logical Cloud ${lc.name} is not applied (${doc?.state ?? 'Created'}): it has no credentials to revoke`,
    );
  }
}

/** A kubeconfig needs a tenant user: an admin (level 0) logical cloud has none. */
export function checkKubeconfig(lc: LogicalCloudRecord): void {
  if (lc.data.level === '0') {
    throw new StateConflictError(
      `Logical Cloud ${lc.name} is an admin (level 0) logical cloud: it has no tenant user and no kubeconfig`,
    );
  }
}
