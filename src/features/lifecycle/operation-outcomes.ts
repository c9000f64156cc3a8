/**
 * How an operation's status document ends when it did not run its normal course: a cluster a
 * stop kept it from reaching, an operation that broke off, an apply that could not start; and
 * the small placement helpers the operations share. Pure: documents in, documents out.
 */
import type { ClusterReferenceRecord } from '../../domain/logical-cloud.js';
import { samePlacement } from './cluster-placements.js';
import type { LogicalCloudRecords } from './cluster-reconciler.js';
import type { ClusterPlacement, ClusterStatus, LifecycleDocument } from './lifecycle-status.store.js';

/** Resource and warning lines per cluster kept when an operation that broke off is recorded. */
const RECORDED_LINES = 20;

/**
 * The record of an operation that broke off, kept short (the full record may be what could not
 * be written): its unfinished clusters failed, the reason in the operation.
 */
export function brokenOff(doc: LifecycleDocument, reason: string): LifecycleDocument {
  const { kind } = doc.operation;
  const { heldBefore: _heldBefore, ...rest } = doc;
  const done = (state: ClusterStatus['state']) => state === 'Applied' || state === 'Terminated';
  return {
    ...rest,
    state: kind === 'apply' ? 'InstantiateFailed' : 'TerminateFailed',
    operation: {
      ...doc.operation,
      inProgress: false,
      finishedAt: new Date(),
      error: `the ${kind} broke off: ${reason}`,
    },
    clusters: doc.clusters.map((c) => ({
      ...c,
      state: done(c.state) ? c.state : kind === 'apply' ? 'Failed' : 'TerminateFailed',
      resources: c.resources.slice(0, RECORDED_LINES),
      warnings: c.warnings.slice(0, RECORDED_LINES),
    })),
  };
}

/** The record of an apply that could not start on any cluster: every cluster Failed with the reason. */
export function failedAtStart(doc: LifecycleDocument, message: string): LifecycleDocument {
  const { heldBefore, ...rest } = doc;
  return {
    ...rest,
    state: 'InstantiateFailed',
    operation: { ...doc.operation, inProgress: false, finishedAt: new Date() },
    clusters: doc.clusters.map((c) => ({
      ...c,
      state: 'Failed',
      resources: [{ category: 'user-certificate', kind: 'Certificate', name: '', status: 'Failed', message }],
      warnings: [],
    })),
    placements: heldBefore ?? doc.placements,
  };
}

/**
 * A cluster a stopped operation never worked (Pending, or marked Applying with the first ones but
 * not taken up): it ends in the operation's failed state, saying so.
 */
export function unreached(c: ClusterStatus, state: 'Failed' | 'TerminateFailed'): ClusterStatus {
  if (c.state !== 'Pending' && c.state !== 'Applying') return c;
  const message = 'the operation was stopped before it reached this cluster';
  return {
    ...c,
    state,
    resources: [
      {
        category: 'namespace',
        kind: 'Cluster',
        name: c.cluster,
        status: state === 'Failed' ? 'Failed' : 'DeleteFailed',
        message,
      },
    ],
  };
}

/** The reference record of a placement among the records the operation read (undefined: no longer referenced). */
export function referenceOf(records: LogicalCloudRecords, p: ClusterPlacement): ClusterReferenceRecord | undefined {
  return records.references.find((r) => r.name === p.reference);
}

export function mergePlacements(a: ClusterPlacement[], b: ClusterPlacement[]): ClusterPlacement[] {
  return [...a, ...b.filter((p) => !a.some((q) => samePlacement(p, q)))];
}
