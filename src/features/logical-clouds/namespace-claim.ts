/**
 * A logical cloud's namespace, claimed DCM-wide: never a namespace Kubernetes, Istio, the DCM
 * or DCM_RESERVED_NAMESPACES reserve, never one another logical cloud holds (409 naming the
 * holder, only to a caller who may see it).
 */
import type { NamedRecordStore } from '../../db/named-record-store.js';
import type { LogicalCloudData } from '../../domain/logical-cloud.js';
import { reservedNamespaceOwner } from '../../domain/tenant-identity.js';
import { ConflictError } from '../../errors.js';
import type { Caller } from '../project-policies/project-policy.service.js';
import type { NamespaceClaimStore, NamespaceOwner } from './namespace-claim.store.js';

/** How long a fresh namespace claim counts as held even before its logical cloud is written (a create in flight). */
const CLAIM_GRACE_MS = 60_000;

export class NamespaceClaims {
  constructor(
    private readonly claims: NamespaceClaimStore,
    private readonly logicalClouds: Pick<NamedRecordStore<LogicalCloudData>, 'getById' | 'findWhere'>,
    /** DCM_RESERVED_NAMESPACES. */
    private readonly reservedNamespaces: readonly string[],
  ) {}

  /**
   * Namespaces of Kubernetes, the DCM's control planes and DCM_RESERVED_NAMESPACES (cluster add-ons)
   * are no tenant's (409 naming the owner).
   */
  refuseReserved(data: LogicalCloudData): void {
    const reserved = data.level === '1' ? reservedNamespaceOwner(data.namespace, this.reservedNamespaces) : undefined;
    if (reserved) throw namespaceTaken(data.namespace, reserved);
  }

  /**
   * Claims the logical cloud's namespace DCM-wide, or refuses (409) naming who holds it: Kubernetes,
   * Istio, the DCM's control planes, or another logical cloud (named only to a caller who may see it).
   */
  async claim(caller: Caller, project: string, name: string, id: string, data: LogicalCloudData): Promise<void> {
    if (data.level !== '1' || data.namespace === '') return;
    this.refuseReserved(data);
    const owner = { logicalCloudId: id, project, logicalCloud: name };
    const holder = await this.claims.claim(data.namespace, owner, (h) => this.stillHolds(h, data.namespace));
    if (!holder) return;
    const visible = caller.admin || holder.project === project || caller.projects.has(holder.project);
    const named = visible
      ? `Logical Cloud ${holder.logicalCloud} of project ${holder.project}`
      : 'a logical cloud of another project';
    throw namespaceTaken(data.namespace, named);
  }

  /** Gives the namespace back, if this logical cloud holds it. */
  release(namespace: string, logicalCloudId: string): Promise<void> {
    return this.claims.release(namespace, logicalCloudId);
  }

  /**
   * Claims the namespaces of logical clouds stored before namespaces were claimed (once per
   * database); where two of them share one, the first keeps it and the other is refused at its next update.
   */
  async claimStored(): Promise<void> {
    const all = await this.logicalClouds.findWhere({}, { 'data.level': '1' });
    for (const lc of all) {
      if (lc.data.namespace === '' || reservedNamespaceOwner(lc.data.namespace, this.reservedNamespaces)) continue;
      const owner = { logicalCloudId: lc.id, project: lc.scope.project!, logicalCloud: lc.name };
      await this.claims.claim(lc.data.namespace, owner, async () => true);
    }
  }

  private async stillHolds(holder: NamespaceOwner & { claimedAt: Date }, namespace: string): Promise<boolean> {
    if (Date.now() - holder.claimedAt.getTime() < CLAIM_GRACE_MS) return true;
    const lc = await this.logicalClouds.getById(holder.logicalCloudId);
    return lc !== null && lc !== undefined && lc.data.level === '1' && lc.data.namespace === namespace;
  }
}

function namespaceTaken(namespace: string, owner: string): ConflictError {
  return new ConflictError(`namespace ${namespace} belongs to ${owner}; choose another namespace`, [
    { field: 'spec.namespace', message: `${namespace} belongs to ${owner}` },
  ]);
}
