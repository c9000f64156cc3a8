/**
 * How an operation's status document starts (an apply, a terminate) and how it ends after its
 * normal course (see operation-outcomes.ts for the other endings). Pure: documents in, documents out.
 */
import { meshNotReady } from '../../controllers/service-mesh.controller.js';
import type { LogicalCloudRecord } from '../../domain/logical-cloud.js';
import type { ClusterPlacement, LifecycleDocument } from './lifecycle-status.store.js';
import { mergePlacements, unreached } from './operation-outcomes.js';

/** What a new apply records beside its clusters. */
export interface ApplyRequest {
  /** Start this new credential generation (a revocation). */
  credentialGeneration?: string;
  /** Also remove the identities the tenant made in its namespace (a revocation that cleans up). */
  removeTenantIdentities?: boolean;
  /** An explicit apply: whether its caller is an admin; `inherit`: an automatic one (renewal) keeps what the last explicit apply recorded. */
  policyExempt: boolean | 'inherit';
}

/** The record of a new apply of the logical cloud onto these clusters; `previous`: the document before it. */
export function applyStarted(
  project: string,
  lc: LogicalCloudRecord,
  placements: ClusterPlacement[],
  request: ApplyRequest,
  previous: LifecycleDocument | null,
): LifecycleDocument {
  const { credentialGeneration, removeTenantIdentities } = request;
  return {
    _id: lc.id,
    project,
    logicalCloud: lc.name,
    state: 'Instantiating',
    operation: {
      kind: 'apply',
      inProgress: true,
      requestedAt: new Date(),
      ...(credentialGeneration ? { credentialGeneration } : {}),
      ...(removeTenantIdentities ? { removeTenantIdentities: true } : {}),
    },
    clusters: placements.map((p) => ({ ...p, state: 'Pending', resources: [], warnings: [] })),
    policyExempt: request.policyExempt === 'inherit' ? previous?.policyExempt === true : request.policyExempt,
    // Until this apply is done, objects may be left where the previous one put them.
    placements: mergePlacements(previous?.placements ?? [], placements),
    heldBefore: previous?.placements ?? [],
  };
}

/** The record of a new terminate on every cluster that may hold objects of the logical cloud. */
export function terminateStarted(previous: LifecycleDocument): LifecycleDocument {
  return {
    ...previous,
    state: 'Terminating',
    operation: { kind: 'terminate', inProgress: true, requestedAt: new Date() },
    clusters: previous.placements.map((p) => ({ ...p, state: 'Pending', resources: [], warnings: [] })),
  };
}

/**
 * The record of an apply that ran its course: `stopped` on request or not, `placements` the
 * clusters that may hold objects of the logical cloud now.
 */
export function applyFinished(
  found: LifecycleDocument,
  stopped: boolean,
  placements: ClusterPlacement[],
): LifecycleDocument {
  const { heldBefore: _done, ...final } = found; // only meaningful while the apply is under way
  // A cluster whose Istio control plane was declared but is still not ready is not Applied (its mesh-status says Pending).
  const clusters = (stopped ? final.clusters.map((c) => unreached(c, 'Failed')) : final.clusters).map((c) =>
    c.state === 'Applied' && meshNotReady(c.resources) ? { ...c, state: 'Failed' as const } : c,
  );
  const failed = clusters.some((c) => c.state === 'Failed' || c.state === 'TerminateFailed');
  return {
    ...final,
    clusters,
    state: failed ? 'InstantiateFailed' : 'Instantiated',
    operation: {
      ...final.operation,
      inProgress: false,
      finishedAt: new Date(),
      ...(stopped ? { stopped: true } : {}),
    },
    placements,
  };
}

/**
 * The record of a terminate that ran its course: `stopped` on request or not, `stillHolding` the
 * clusters it worked that may still hold objects of the logical cloud.
 */
export function terminateFinished(
  final: LifecycleDocument,
  stopped: boolean,
  stillHolding: ClusterPlacement[],
): LifecycleDocument {
  const holding = [...stillHolding];
  // Clusters a stop kept the terminate from reaching still hold the logical cloud's objects.
  if (stopped)
    for (const c of final.clusters)
      if (c.state === 'Pending') holding.push({ reference: c.reference, provider: c.provider, cluster: c.cluster });
  return {
    ...final,
    clusters: stopped ? final.clusters.map((c) => unreached(c, 'TerminateFailed')) : final.clusters,
    state: holding.length > 0 ? 'TerminateFailed' : 'Terminated',
    operation: {
      ...final.operation,
      inProgress: false,
      finishedAt: new Date(),
      ...(stopped ? { stopped: true } : {}),
    },
    placements: holding,
  };
}
