/**
 * Following the fleet: keeps each logical cloud's selected cluster references equal to what its
 * clusterSelector selects, and an applied logical cloud applied where they point. A periodic
 * check runs on one replica (the job's lease) over the logical clouds that select clusters (one
 * pushed-down equality on the top-level `selects`) and those followed before (their selection
 * state, written before any selected reference: a selector removed leaves them until followed),
 * never over every logical cloud. A cluster registered, relabelled or unregistered, or a logical
 * cloud written, is followed at once by the replica that made the change (a relabel: only the
 * logical clouds whose selectors could match the cluster, by an index of the selecting ones read
 * then). Changing the references is safe from any replica (unique indexes, conditional writes). A
 * change of the references of an applied logical cloud owes it an automatic apply (or a terminate
 * when it has no reference left): the same operation, lease and status as a manual one, started
 * only by the replica holding the job's lease, once the logical cloud is idle, so each change is
 * worked once; each is written to the audit log with its cause.
 */
import { DuplicateNameError, type NamedRecordStore } from '../../db/named-record-store.js';
import type { LeaseStore } from '../../db/lease-store.js';
import type { ClusterReferenceData, ClusterReferenceRecord, LogicalCloudRecord } from '../../domain/logical-cloud.js';
import { ConflictError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import type { LifecycleService } from '../lifecycle/lifecycle.service.js';
import type { LifecycleStatusStore } from '../lifecycle/lifecycle-status.store.js';
import { holdsResources, isSettledApplied } from '../lifecycle/preconditions.js';
import type { LogicalCloudStore } from '../logical-clouds/logical-cloud.store.js';
import type { ClusterSelectionService, Fleet } from './cluster-selection.service.js';
import type { ClusterSelectionStore, SelectionState } from './cluster-selection.store.js';
import { removalOf } from './cluster-selector.schema.js';
import { noChanges, referenceChanges, type ReferenceChanges } from './selection-plan.js';
import { SelectionIndex } from './selection-index.js';

export interface FleetFollowerDependencies {
  selection: Pick<ClusterSelectionService, 'fleet' | 'evaluate'>;
  logicalClouds: Pick<LogicalCloudStore, 'selecting' | 'getById'>;
  references: Pick<NamedRecordStore<ClusterReferenceData>, 'findWhere' | 'create' | 'delete' | 'update' | 'count'>;
  state: Pick<ClusterSelectionStore, 'get' | 'all' | 'put' | 'settle' | 'owed' | 'forget' | 'forgetUnchanged'>;
  lifecycle: Pick<LifecycleService, 'apply' | 'terminate'>;
  status: Pick<LifecycleStatusStore, 'get'>;
  /** The job's lease: event-driven work runs only on the replica that holds it. */
  lease: { store: Pick<LeaseStore, 'acquire'>; id: string; holder: string; ttlMs: number };
  logger: Logger;
}

/** What a turn has read already (not read again), and whether it starts every owed apply or only its own. */
interface Known {
  lcs?: LogicalCloudRecord[];
  states?: SelectionState[];
  everyOwed?: boolean;
}

/** Who an automatic apply is made by: not an admin, so the project policy as it is bounds it (reapply-policy.ts). */
const FOLLOWER = { name: 'dcm:cluster-selection', admin: false, projects: new Set<string>() };

export class FleetFollower {
  private readonly audit: Logger;
  private queue: Promise<void> = Promise.resolve();

  constructor(private readonly deps: FleetFollowerDependencies) {
    const { logger } = deps;
    const level = logger.level === 'silent' || logger.levelVal <= 30 ? logger.level : 'info';
    this.audit = logger.child({ name: 'audit', audit: true }, { level });
  }

  /** One turn of the periodic check: the logical clouds that select or were followed, then every owed apply. */
  sweep(cause = 'periodic check'): Promise<void> {
    return this.serially(async () => {
      const [selecting, followed] = await Promise.all([this.deps.logicalClouds.selecting(), this.deps.state.all()]);
      const ids = new Set([...selecting.map((lc) => lc.id), ...followed.map((s) => s._id)]);
      await this.follow(ids, cause, { lcs: selecting, states: followed, everyOwed: true });
    });
  }

  /** A cluster was registered, relabelled or unregistered: the logical clouds whose selectors could match it before or after. */
  async clusterChanged(
    before: Record<string, string> | undefined,
    after: Record<string, string> | undefined,
    cause: string,
  ): Promise<void> {
    await this.serially(async () => {
      // Indexed from what is stored now: a selector written through another replica is not missed.
      const selecting = await this.deps.logicalClouds.selecting();
      const index = new SelectionIndex();
      for (const lc of selecting) index.set(lc.id, lc.data.clusterSelector);
      const ids = index.candidates(...[before, after].filter((l) => l !== undefined));
      await this.follow(ids, cause, { lcs: selecting });
    });
  }

  /** A cluster left the registry: the logical clouds that had selected it. */
  async clusterUnregistered(provider: string, cluster: string, cause: string): Promise<void> {
    const holding = await this.deps.references.findWhere(
      {},
      { 'data.clusterProvider': provider, 'data.cluster': cluster },
    );
    const ids = new Set(holding.map((r) => r.scope.logicalCloudId!));
    if (ids.size > 0) await this.serially(() => this.follow(ids, cause));
  }

  /** A logical cloud's selector changed (or any change on the logical cloud): it alone. */
  async logicalCloudChanged(logicalCloudId: string, cause: string): Promise<void> {
    await this.serially(() => this.follow(new Set([logicalCloudId]), cause));
  }

  forget(logicalCloudId: string): Promise<void> {
    return this.deps.state.forget(logicalCloudId);
  }

  private holdsLease(): Promise<boolean> {
    const { store, id, holder, ttlMs } = this.deps.lease;
    return store.acquire(id, holder, ttlMs);
  }

  private serially(work: () => Promise<void>): Promise<void> {
    const next = this.queue.then(work);
    this.queue = next.catch((error: unknown) => this.deps.logger.error({ err: error }, 'following the fleet failed'));
    return next;
  }

  /** Re-evaluates the logical clouds `ids`, then starts what is owed. */
  private async follow(ids: Set<string>, cause: string, known: Known = {}): Promise<void> {
    const { logicalClouds, references, selection, state } = this.deps;
    if (ids.size > 0) {
      const read = new Map((known.lcs ?? []).map((lc) => [lc.id, lc]));
      const [lcs, refs, states] = await Promise.all([
        Promise.all([...ids].map(async (id) => read.get(id) ?? (await logicalClouds.getById(id)))),
        // An `$in` of a few ids is asked as one pushed-down equality each (findWhere).
        references.findWhere({}, { logicalCloudId: { $in: [...ids] } }),
        known.states ?? Promise.all([...ids].map((id) => state.get(id))),
      ]);
      const previous = new Map(states.flatMap((s) => (s ? [[s._id, s] as const] : [])));
      const byLc = new Map<string, ClusterReferenceRecord[]>();
      for (const r of refs) byLc.set(r.scope.logicalCloudId!, [...(byLc.get(r.scope.logicalCloudId!) ?? []), r]);
      let fleet: Promise<Fleet> | undefined;
      for (const [i, id] of [...ids].entries()) {
        const lc = lcs[i];
        const own = byLc.get(id) ?? [];
        const before = previous.get(id) ?? null;
        if (!lc || (!lc.data.clusterSelector && !own.some((r) => r.data.selected))) {
          // Gone, or nothing selects nor was selected: it leaves the followed ones (once no apply is owed).
          if (before && !before.applyOwed) await state.forgetUnchanged(before);
          continue;
        }
        await this.followOne(lc, own, await (fleet ??= selection.fleet()), before, cause);
      }
    }
    // Owed applies are started by the replica holding the job's lease only: each change is worked once.
    if (!(await this.holdsLease())) return;
    for (const id of await state.owed()) if (known.everyOwed || ids.has(id)) await this.startOwed(id);
  }

  private async followOne(
    lc: LogicalCloudRecord,
    own: ClusterReferenceRecord[],
    fleet: Fleet,
    previous: SelectionState | null,
    cause: string,
  ): Promise<void> {
    const selection = await this.deps.selection.evaluate(lc, fleet);
    const changes = referenceChanges(selection, own, fleet.clusters, removalOf(lc.data));
    const membership = (s: Pick<SelectionState, 'selected'>) =>
      JSON.stringify(s.selected.map((c) => [c.provider, c.cluster, c.pending ?? '']));
    const changed = !previous || membership(previous) !== membership(selection);
    if (!changed && noChanges(changes) && JSON.stringify(previous.excluded) === JSON.stringify(selection.excluded))
      return;
    const applied = holdsResources(await this.deps.status.get(lc.id));
    const reshaped = changes.create.length + changes.remove.length > 0;
    // Terminated by the follower when its selection became empty: applied again once it has clusters.
    const emptied = previous?.emptied === true && !applied;
    const refilled = emptied && changes.create.length > 0;
    // A selected cluster that was unreachable and is reachable again is applied now.
    const reachableAgain = selection.selected.some(
      (s) =>
        !s.pending && previous?.selected.some((p) => p.provider === s.provider && p.cluster === s.cluster && p.pending),
    );
    await this.deps.state.put({
      _id: lc.id,
      ...selection,
      changedAt: changed || !previous ? new Date() : previous.changedAt,
      cause: changed || !previous ? cause : previous.cause,
      applyOwed: (previous?.applyOwed ?? false) || (applied && (reshaped || reachableAgain)) || refilled,
      emptied,
    });
    await this.changeReferences(lc.id, lc.scope.project!, lc.name, changes, cause);
  }

  private async changeReferences(
    logicalCloudId: string,
    project: string,
    logicalCloud: string,
    changes: ReferenceChanges,
    cause: string,
  ): Promise<void> {
    const { references } = this.deps;
    const scope = { logicalCloudId };
    const note = (event: string, reference: string, cluster: string) =>
      this.audit.info(
        { event, project, logicalCloud, clusterReference: reference, cluster, cause },
        `${event}: ${cluster}`,
      );
    for (const c of changes.create) {
      const data: ClusterReferenceData = {
        description: 'selected by spec.clusterSelector',
        userData1: '',
        userData2: '',
        clusterProvider: c.provider,
        cluster: c.cluster,
        loadbalancerIp: '',
        selected: true,
      };
      try {
        await references.create(scope, c.name, data);
        note('cluster-selected', c.name, `${c.provider}/${c.cluster}`);
      } catch (error) {
        // Another writer referenced the cluster (or took the name) meanwhile: the next turn sees it.
        if (!(error instanceof DuplicateNameError)) throw error;
      }
    }
    for (const r of changes.remove) {
      if (await references.delete(scope, r.name))
        note('cluster-deselected', r.name, `${r.data.clusterProvider}/${r.data.cluster}`);
    }
    for (const [list, orphaned] of [
      [changes.orphan, true],
      [changes.adopt, false],
    ] as const) {
      for (const r of list) {
        const { orphaned: _was, ...data } = r.data;
        const outcome = await references.update(scope, r.name, orphaned ? { ...data, orphaned } : data, r.revision);
        if (outcome.kind === 'updated')
          note(
            orphaned ? 'cluster-orphaned' : 'cluster-adopted',
            r.name,
            `${r.data.clusterProvider}/${r.data.cluster}`,
          );
      }
    }
  }

  /** Starts the apply (or terminate) owed to a logical cloud once nothing runs on it. */
  private async startOwed(logicalCloudId: string): Promise<void> {
    const { logicalClouds, references, status, state, lifecycle } = this.deps;
    const [lc, doc, selection] = await Promise.all([
      logicalClouds.getById(logicalCloudId),
      status.get(logicalCloudId),
      state.get(logicalCloudId),
    ]);
    if (!lc) return this.forget(logicalCloudId);
    if (doc?.operation.inProgress) return; // owed still: the next turn
    const refill = selection?.emptied === true && doc?.state === 'Terminated';
    // Not applied (and not emptied by the follower): the next apply carries the references.
    if (!isSettledApplied(doc) && !refill) return state.settle(logicalCloudId, selection?.emptied);
    const project = lc.scope.project!;
    const left = await references.count({ logicalCloudId });
    if (left === 0 && refill) return state.settle(logicalCloudId, true);
    const what = left === 0 ? 'terminate' : 'apply';
    try {
      if (left === 0) await lifecycle.terminate(project, lc.name);
      else await lifecycle.apply(project, lc.name, FOLLOWER, { automatic: true });
      this.audit.info(
        { event: `automatic-${what}`, project, logicalCloud: lc.name, cause: selection?.cause ?? 'cluster selection' },
        `automatic ${what} of logical cloud ${project}/${lc.name}: its cluster selection changed`,
      );
    } catch (error) {
      if (error instanceof ConflictError) return; // an operation started meanwhile: owed still
      this.deps.logger.warn({ err: error, project, logicalCloud: lc.name }, `automatic ${what} refused`);
    }
    await state.settle(logicalCloudId, what === 'terminate');
  }
}
