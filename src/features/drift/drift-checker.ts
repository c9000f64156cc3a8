/**
 * Checks one logical cloud on one cluster for drift and, unless its reconcile is paused,
 * repairs it: holding the logical cloud's lease (so exactly one replica does it, and never
 * while an apply or terminate runs), it runs the cluster's apply pipeline through a
 * DriftRecorder, which notes every object that differs from what the pipeline applies. The
 * findings become drift events (status, metric); a repair writes the cluster's status as an
 * apply does.
 */
import { ConflictError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import type { LogicalCloudRecord } from '../../domain/logical-cloud.js';
import { reconcilePaused } from '../../domain/logical-cloud.js';
import type { ClusterStatus, LifecycleDocument } from '../lifecycle/lifecycle-status.store.js';
import type { DriftEvent, DriftEventStore } from './drift-events.store.js';
import { DriftRecorder, type DriftFinding } from './drift-recorder.js';

/** What the checker needs of the lifecycle (the composition passes the lifecycle's own parts). */
export interface DriftRepairTarget {
  status(logicalCloudId: string): Promise<LifecycleDocument | null>;
  logicalCloud(logicalCloudId: string): Promise<LogicalCloudRecord | undefined>;
  /** Runs `work` holding the logical cloud's lease; ConflictError when an operation (or another replica) holds it. */
  exclusive<T>(lc: LogicalCloudRecord, work: () => Promise<T>): Promise<T>;
  /** Runs the apply pipeline of one cluster reference through `wrap`; `writeStatus: false` leaves status as it is. */
  reconcileCluster(
    logicalCloudId: string,
    reference: string,
    opts: { wrapConnection: <C extends object>(connection: C) => C; writeStatus: boolean },
  ): Promise<ClusterStatus | undefined>;
  /** Nudges the watchers of the logical cloud's status (REST long-poll, gRPC WatchStatus). */
  statusChanged(logicalCloudId: string): void;
  /** Records the logical cloud's overall state (Instantiated: every cluster Applied; else InstantiateFailed). */
  setState(logicalCloudId: string, state: 'Instantiated' | 'InstantiateFailed'): Promise<void>;
}

export interface DriftObserver {
  driftDetected(event: { kind: string; change: string; action: string }): void;
}

export type CheckOutcome = 'checked' | 'skipped' | 'busy';

/**
 * Applied and at rest: the only state in which drift is looked for. A cluster whose apply
 * failed is checked too: a repair that met a namespace still being deleted fails, and the
 * namespace's deletion event brings the check that then restores it.
 */
const atRest = (doc: LifecycleDocument | null): doc is LifecycleDocument =>
  doc !== null && !doc.operation.inProgress && (doc.state === 'Instantiated' || doc.state === 'InstantiateFailed');

const firstFailure = (status: ClusterStatus | undefined): string | undefined =>
  status?.resources.find((r) => r.status === 'Failed' || r.status === 'DeleteFailed')?.message;

const sameFinding = (a: DriftFinding, b: DriftFinding) =>
  a.kind === b.kind &&
  a.name === b.name &&
  a.namespace === b.namespace &&
  a.change === b.change &&
  a.details === b.details;

export class DriftChecker {
  constructor(
    private readonly target: DriftRepairTarget,
    private readonly events: Pick<DriftEventStore, 'record' | 'latest'>,
    private readonly logger: Logger,
    private readonly observer?: DriftObserver,
  ) {}

  /** Checks (and repairs) the logical cloud on the cluster; `busy` when its lease is held elsewhere (check again later). */
  async check(logicalCloudId: string, provider: string, cluster: string): Promise<CheckOutcome> {
    const doc = await this.target.status(logicalCloudId);
    if (!atRest(doc)) return 'skipped';
    const references = doc.clusters
      .filter(
        (c) => c.provider === provider && c.cluster === cluster && (c.state === 'Applied' || c.state === 'Failed'),
      )
      .map((c) => c.reference);
    if (references.length === 0) return 'skipped';
    const lc = await this.target.logicalCloud(logicalCloudId);
    if (!lc || lc.data.level !== '1') return 'skipped';
    try {
      return await this.target.exclusive(lc, async () => {
        if (!atRest(await this.target.status(logicalCloudId))) return 'skipped';
        for (const reference of references) await this.checkReference(lc, reference, provider, cluster);
        await this.settleState(logicalCloudId);
        return 'checked';
      });
    } catch (error) {
      if (error instanceof ConflictError) return 'busy';
      throw error;
    }
  }

  /** After a repair the overall state says what the clusters are: a cluster restored (or broken) by it counts. */
  private async settleState(logicalCloudId: string): Promise<void> {
    const doc = await this.target.status(logicalCloudId);
    if (!atRest(doc) || doc.clusters.length === 0) return;
    const state = doc.clusters.every((c) => c.state === 'Applied') ? 'Instantiated' : 'InstantiateFailed';
    if (state !== doc.state) await this.target.setState(logicalCloudId, state);
  }

  private async checkReference(
    lc: LogicalCloudRecord,
    reference: string,
    provider: string,
    cluster: string,
  ): Promise<void> {
    const paused = reconcilePaused(lc.data);
    const recorder = new DriftRecorder(paused ? 'report' : 'repair');
    let failure: string | undefined;
    try {
      const status = await this.target.reconcileCluster(lc.id, reference, {
        wrapConnection: (connection) => recorder.wrap(connection as never) as typeof connection,
        writeStatus: !paused,
      });
      if (!paused) failure = firstFailure(status);
    } catch (error) {
      failure = error instanceof Error ? error.message : String(error);
    }
    if (recorder.findings.length === 0) return;
    const action = paused ? 'reported' : failure ? 'restore-failed' : 'restored';
    // What is only reported (or could not be restored) is recorded once, not at every check.
    const earlier =
      action === 'restored'
        ? []
        : (await this.events.latest(lc.id, 50)).filter((e) => e.reference === reference && e.action === action);
    const fresh = recorder.findings.filter((f) => !earlier.some((e) => sameFinding(e, f)));
    if (fresh.length === 0) return;
    const detectedAt = new Date();
    const events: Omit<DriftEvent, '_id'>[] = fresh.map((f) => ({
      ...f,
      logicalCloudId: lc.id,
      reference,
      provider,
      cluster,
      detectedAt,
      action,
      ...(failure ? { message: failure } : {}),
    }));
    await this.events.record(events);
    for (const e of events) this.observer?.driftDetected({ kind: e.kind, change: e.change, action: e.action });
    this.target.statusChanged(lc.id);
    this.logger.warn(
      {
        logicalCloudId: lc.id,
        logicalCloud: lc.name,
        provider,
        cluster,
        action,
        drift: events.map((e) => `${e.kind} ${e.namespace ? `${e.namespace}/` : ''}${e.name} ${e.change}`),
      },
      paused ? 'drift found (reconcile paused: reported only)' : 'drift found and repaired',
    );
  }
}
