/**
 * The write of a logical cloud's update: its record, the level-1 namespace it claims, and its
 * inline permissions, all or nothing.
 */
import type { NamedRecordStore } from '../../db/named-record-store.js';
import type { LogicalCloudData, LogicalCloudRecord, PermissionData } from '../../domain/logical-cloud.js';
import { NotFoundError, PreconditionFailedError } from '../../errors.js';
import type { Caller } from '../project-policies/project-policy.service.js';
import { replacePermissions, wantedPermissions, type InlinePermission } from './inline-permissions.js';
import type { NamespaceClaims } from './namespace-claim.js';

export interface LogicalCloudUpdate {
  project: string;
  name: string;
  current: LogicalCloudRecord;
  input: { data: LogicalCloudData; permissions?: InlinePermission[] };
  expectedRevision: number | undefined;
  caller: Caller;
}

/**
 * Writes the update: claims the namespace it comes to hold first, then the record (at the expected
 * revision), then the permissions; a failure puts back what was there and gives the namespace back,
 * and the namespace held before is released once the update is written.
 */
export async function writeLogicalCloudUpdate(
  stores: { logicalClouds: NamedRecordStore<LogicalCloudData>; permissions: NamedRecordStore<PermissionData> },
  namespaces: NamespaceClaims,
  { project, name, current, input, expectedRevision, caller }: LogicalCloudUpdate,
): Promise<void> {
  const heldBefore = current.data.level === '1' ? current.data.namespace : '';
  const holdsAfter = input.data.level === '1' ? input.data.namespace : '';
  if (holdsAfter !== heldBefore) await namespaces.claim(caller, project, name, current.id, input.data);

  const outcome = await stores.logicalClouds
    .update({ project }, name, input.data, expectedRevision)
    .catch(async (error: unknown) => {
      if (holdsAfter !== heldBefore) await namespaces.release(holdsAfter, current.id);
      throw error;
    });
  if (outcome.kind !== 'updated' && holdsAfter !== heldBefore) await namespaces.release(holdsAfter, current.id);
  if (outcome.kind === 'not-found') throw new NotFoundError(`Logical Cloud ${name} not found in project ${project}`);
  if (outcome.kind === 'stale') {
    throw new PreconditionFailedError(
      `Logical Cloud ${name} was changed since revision ${expectedRevision}; GET it again`,
    );
  }
  const scope = { logicalCloudId: current.id };
  const existing = (await stores.permissions.list(scope)).items;
  const wanted = wantedPermissions(current.data, input.data, input.permissions, existing);
  try {
    await replacePermissions(
      stores.permissions,
      scope,
      existing.map((p) => p.name),
      wanted,
    );
  } catch (error) {
    // All or nothing: the logical cloud and its permissions as they were, the namespace given back.
    const before = new Map(existing.map((p) => [p.name, p.data]));
    await replacePermissions(stores.permissions, scope, [...wanted.keys()], before).catch(() => undefined);
    await stores.logicalClouds.update({ project }, name, current.data).catch(() => undefined);
    if (holdsAfter !== heldBefore) await namespaces.release(holdsAfter, current.id).catch(() => undefined);
    throw error;
  }
  if (heldBefore !== holdsAfter && heldBefore !== '') await namespaces.release(heldBefore, current.id);
}
