/**
 * Apply and terminate logical clouds on their clusters, report status, hand out the
 * tenant's kubeconfigs. An operation is recorded in MongoDB first and answered at once;
 * the clusters are then worked in the background, in parallel with bounded concurrency,
 * each failing only its own entries.
 *
 * Several replicas may share one database: a replica works a logical cloud's operation only
 * while it holds that logical cloud's lease (see lease-store.ts), renewing it as it goes.
 * An operation found in progress whose lease has expired (its replica died) is claimed by
 * another replica, which runs it again from the start: every step is safe to repeat.
 */
import { randomUUID } from 'node:crypto';
import { ClusterContext, messageOf, type ClusterWork } from '../../controllers/cluster-context.js';
import { applyCluster, removeCluster, type Controllers } from '../../controllers/cluster-pipeline.js';
import { meshNotReady } from '../../controllers/service-mesh.controller.js';
import { ConflictError, NotFoundError, StateConflictError, UnavailableError } from '../../errors.js';
import { buildKubeconfig, type Kubeconfig, type KubeconfigEntry } from '../../kubeconfig/kubeconfig.js';
import { ClusterError, type ClusterConnection } from '../../kubernetes/cluster-connection.js';
import type { LeaseStore } from '../../db/lease-store.js';
import type { Logger } from '../../logger.js';
import type { ClusterRecord, ClusterSecrets, ClusterService } from '../cluster-registry/cluster.service.js';
import { pairsToMap } from '../../db/named-record-store.js';
import { tenantServiceAccount, type TenantIdentity } from '../../domain/tenant-identity.js';
import type { LogicalCloudRecord } from '../logical-clouds/logical-cloud.model.js';
import type { LifecycleGuard, LogicalCloudService, LogicalCloudStores } from '../logical-clouds/logical-cloud.service.js';
import type { Caller, ProjectPolicyService } from '../project-policies/project-policy.service.js';
import { newGenerationId, type CredentialsStore } from './credentials.store.js';
import type { StopRequestStore } from './stop-requests.store.js';
import type { ClusterHealth } from '../cluster-registry/cluster-health.store.js';
import type {
  ClusterPlacement,
  ClusterStatus,
  LifecycleDocument,
  LifecycleState,
  LifecycleStatusStore,
} from './lifecycle-status.store.js';

export const MAX_PERMISSIONS = 100;

/** Resource and warning lines per cluster kept when an operation that broke off is recorded. */
const RECORDED_LINES = 20;

/** The design's words for the overall status (endpoint 15). */
export const STATUS_TEXT: Record<LifecycleState, string> = {
  Created: 'Not Applied',
  Instantiating: 'Creation in Progress',
  Instantiated: 'Created',
  InstantiateFailed: 'Creation Failed',
  Terminating: 'Termination in Progress',
  Terminated: 'Terminated',
  TerminateFailed: 'Termination Failed',
};

/** States in which objects of the logical cloud may exist on clusters. */
const HOLDS_RESOURCES: LifecycleState[] = ['Instantiating', 'Instantiated', 'InstantiateFailed', 'Terminating', 'TerminateFailed'];

/** Told how long each cluster of an operation took and how it ended (metrics). */
export interface LifecycleObserver {
  clusterFinished(event: { kind: 'apply' | 'terminate'; provider: string; cluster: string; outcome: 'success' | 'failure'; seconds: number }): void;
  operationFinished(event: { kind: 'apply' | 'terminate'; outcome: 'success' | 'failure'; seconds: number; clusters: number }): void;
}

export interface LifecycleOptions {
  concurrency: number;
  /** This replica's name in leases. */
  replicaId: string;
  /** How long a claim on a logical cloud lasts unless renewed (renewed every third of it). */
  leaseTtlMs: number;
  connect: (cluster: ClusterRecord, secrets: ClusterSecrets) => ClusterConnection;
  observer?: LifecycleObserver;
  /** Stop requests (EMCO's …/stop), shared by the replicas. */
  stops: StopRequestStore;
  /** Lifetime asked for the bound tokens of token users' kubeconfigs (a new token at each download). */
  tokenSeconds: number;
  /** The clusters' last known health: an apply to a cluster found unreachable recently fails at once. */
  health?: { get(provider: string, cluster: string): Promise<ClusterHealth | undefined>; freshMs: number };
}

export interface LogicalCloudStatus {
  logicalCloud: LogicalCloudRecord;
  status: LifecycleDocument | null;
  /** The tenant's credential generation and the validity of each cluster's certificate (no key, no certificate text). */
  credentials: Awaited<ReturnType<CredentialsStore['summary']>>;
  /** The last known health of the logical cloud's clusters, by `provider/cluster`. */
  health: Map<string, ClusterHealth>;
}

export interface OperationSummary {
  logicalCloud: LogicalCloudRecord;
  clusters: string[];
  quotas: string[];
  state: LifecycleState;
}

/** Works the items, at most `limit` at a time; stops taking new ones once `stop()` says so. */
async function mapWithConcurrency<T>(items: T[], limit: number, work: (item: T) => Promise<void>, stop: () => boolean = () => false): Promise<void> {
  const queue = [...items];
  const workers = Array.from({ length: Math.max(1, Math.min(limit, queue.length)) }, async () => {
    for (let item = queue.shift(); item !== undefined && !stop(); item = queue.shift()) await work(item);
  });
  await Promise.all(workers);
}

/** This replica's claim on one logical cloud's operation; `lost` once a renewal found it taken, `stopped` once a stop was asked for. */
interface Claim {
  lost: boolean;
  stopped: boolean;
}

export class LifecycleService implements LifecycleGuard {
  /** Operations this replica is working, by logical cloud id. */
  private readonly running = new Map<string, Promise<void>>();
  private readonly claims = new Map<string, Claim>();
  private sweeper: NodeJS.Timeout | undefined;
  private sweeping: Promise<number> | undefined;

  constructor(
    private readonly logicalClouds: LogicalCloudService,
    private readonly stores: LogicalCloudStores,
    private readonly clusters: ClusterService,
    private readonly status: LifecycleStatusStore,
    private readonly credentials: CredentialsStore,
    private readonly leases: LeaseStore,
    private readonly policies: Pick<ProjectPolicyService, 'enforce'>,
    private readonly controllers: Controllers,
    private readonly options: LifecycleOptions,
    private readonly logger: Logger,
  ) {}

  // ---- guard used by the logical-cloud service ------------------------------------------

  async checkMutable(lc: LogicalCloudRecord, change: 'update' | 'delete' | 'identity'): Promise<void> {
    if (change === 'update') return;
    const doc = await this.status.get(lc.id);
    if (!doc || !HOLDS_RESOURCES.includes(doc.state)) return;
    if (change === 'delete') {
      throw new StateConflictError(`Logical Cloud ${lc.name} is applied (${doc.state}); terminate it before deleting it`);
    }
    throw new StateConflictError(
      `the namespace, user and level of Logical Cloud ${lc.name} cannot change while it is applied (${doc.state}); terminate it first`,
    );
  }

  /**
   * Runs `work` holding the logical cloud's lease under a holder of its own: an apply or
   * terminate (on any replica) cannot start meanwhile, and `work` cannot start while one runs.
   */
  async exclusive<T>(lc: LogicalCloudRecord, work: () => Promise<T>): Promise<T> {
    const holder = `${this.options.replicaId}/change/${randomUUID().slice(0, 8)}`;
    const busy = () => new ConflictError(`an operation on Logical Cloud ${lc.name} is in progress; change it once it has finished`);
    if (this.running.has(lc.id)) throw busy();
    if (!(await this.leases.acquire(lc.id, holder, this.options.leaseTtlMs))) throw busy();
    try {
      return await work();
    } finally {
      await this.leases.release(lc.id, holder).catch(() => undefined);
    }
  }

  async onDeleted(lc: LogicalCloudRecord): Promise<void> {
    await Promise.all([this.status.delete(lc.id), this.credentials.delete(lc.id)]);
  }

  // ---- operations -----------------------------------------------------------------------

  /**
   * Applies the logical cloud. A non-admin caller's apply is checked against the project's
   * policy as a whole (a policy narrowed since the logical cloud was written is enforced here).
   * `credentialGeneration`: start that new credential generation (revocation).
   */
  async apply(project: string, name: string, caller: Caller, request: { credentialGeneration?: string } = {}): Promise<OperationSummary> {
    const lc = await this.logicalClouds.resolve(project, name);
    this.refuseWhileRunning(lc);
    const [references, permissions, quotas] = await Promise.all([
      this.stores.clusterReferences.list({ logicalCloudId: lc.id }),
      this.stores.permissions.list({ logicalCloudId: lc.id }),
      this.stores.clusterQuotas.list({ logicalCloudId: lc.id }),
    ]);
    if (references.total === 0) throw new StateConflictError(`Logical Cloud ${name} has no cluster references; add at least one before applying`);
    if (lc.data.level === '1') {
      if (!lc.data.user) throw new StateConflictError(`Logical Cloud ${name} has no user`);
      if (permissions.total > MAX_PERMISSIONS) {
        throw new StateConflictError(`Logical Cloud ${name} has ${permissions.total} user permissions; at most ${MAX_PERMISSIONS} can be applied`);
      }
      if (!permissions.items.some((p) => p.data.namespace !== '')) {
        throw new StateConflictError(`Logical Cloud ${name} needs at least one user permission in its namespace ${lc.data.namespace}`);
      }
    }
    if (!caller.admin) {
      // A cluster no longer registered is judged by its names alone (the apply then fails it).
      const clusters = await Promise.all(
        references.items.map(async (r) => {
          const cluster = await this.clusters.get(r.data.clusterProvider, r.data.cluster).catch((error: unknown) => {
            if (error instanceof NotFoundError) return undefined;
            throw error;
          });
          return { provider: r.data.clusterProvider, name: r.data.cluster, labels: pairsToMap(cluster?.data.labels ?? []) };
        }),
      );
      await this.policies.enforce(caller, project, {
        level: lc.data.level,
        permissions: permissions.items.map((p) => ({ ...p.data, name: p.name })),
        clusters,
      });
    }
    await this.claim(lc);
    const previous = await this.status.get(lc.id);
    const placements: ClusterPlacement[] = references.items.map((r) => ({ reference: r.name, provider: r.data.clusterProvider, cluster: r.data.cluster }));
    const doc: LifecycleDocument = {
      _id: lc.id,
      project,
      logicalCloud: name,
      state: 'Instantiating',
      operation: {
        kind: 'apply',
        inProgress: true,
        requestedAt: new Date(),
        ...(request.credentialGeneration ? { credentialGeneration: request.credentialGeneration } : {}),
      },
      clusters: placements.map((p) => ({ ...p, state: 'Pending', resources: [], warnings: [] })),
      // Until this apply is done, objects may be left where the previous one put them.
      placements: mergePlacements(previous?.placements ?? [], placements),
      heldBefore: previous?.placements ?? [],
    };
    await this.recordOrRelease(doc);
    this.start(lc.id, () => this.runApply(project, lc.id));
    return { logicalCloud: lc, clusters: placements.map((p) => p.reference), quotas: quotas.items.map((q) => q.name), state: doc.state };
  }

  async terminate(project: string, name: string): Promise<OperationSummary> {
    const lc = await this.logicalClouds.resolve(project, name);
    this.refuseWhileRunning(lc);
    const before = await this.status.get(lc.id);
    if (!before || !HOLDS_RESOURCES.includes(before.state)) {
      throw new StateConflictError(`Logical Cloud ${name} is not applied; there is nothing to terminate`);
    }
    await this.claim(lc);
    const previous = await this.status.get(lc.id);
    if (!previous || !HOLDS_RESOURCES.includes(previous.state)) {
      await this.leases.release(lc.id, this.options.replicaId);
      throw new StateConflictError(`Logical Cloud ${name} is not applied; there is nothing to terminate`);
    }
    const doc: LifecycleDocument = {
      ...previous,
      state: 'Terminating',
      operation: { kind: 'terminate', inProgress: true, requestedAt: new Date() },
      clusters: previous.placements.map((p) => ({ ...p, state: 'Pending', resources: [], warnings: [] })),
    };
    await this.recordOrRelease(doc);
    this.start(lc.id, () => this.runTerminate(project, lc.id));
    return { logicalCloud: lc, clusters: previous.placements.map((p) => p.reference), quotas: [], state: doc.state };
  }

  /**
   * EMCO's stop: the operation under way starts no further cluster (those already being worked
   * finish); the clusters it did not reach end Failed ("stopped"), and so does the operation.
   */
  async stop(project: string, name: string): Promise<OperationSummary> {
    const lc = await this.logicalClouds.resolve(project, name);
    const doc = await this.status.get(lc.id);
    if (!doc?.operation.inProgress) throw new StateConflictError(`no operation is in progress on Logical Cloud ${name}: there is nothing to stop`);
    await this.options.stops.request(lc.id);
    const claim = this.claims.get(lc.id);
    if (claim) claim.stopped = true;
    return { logicalCloud: lc, clusters: doc.clusters.map((c) => c.reference), quotas: [], state: doc.state };
  }

  /**
   * Revocation without a CRL (Kubernetes checks none for client certificates): a new
   * credential generation (new key, new group) and a normal apply, which issues new
   * certificates on every cluster and moves every binding to the new group, so every earlier
   * kubeconfig stops working there.
   */
  async revokeCredentials(project: string, name: string, caller: Caller): Promise<OperationSummary> {
    const lc = await this.logicalClouds.resolve(project, name);
    if (lc.data.level !== '1' || !lc.data.user) {
      throw new StateConflictError(`Logical Cloud ${name} has no tenant user (level ${lc.data.level}): it has no credentials to revoke`);
    }
    const doc = await this.status.get(lc.id);
    if (doc?.operation.inProgress) throw new ConflictError(`an operation on Logical Cloud ${name} is already in progress`);
    if (!doc || (doc.state !== 'Instantiated' && doc.state !== 'InstantiateFailed')) {
      throw new StateConflictError(`Logical Cloud ${name} is not applied (${doc?.state ?? 'Created'}): it has no credentials to revoke`);
    }
    return this.apply(project, name, caller, { credentialGeneration: newGenerationId() });
  }

  async getStatus(project: string, name: string): Promise<LogicalCloudStatus> {
    const lc = await this.logicalClouds.resolve(project, name);
    const [status, credentials] = await Promise.all([this.status.get(lc.id), this.credentials.summary(lc.id)]);
    const health = new Map<string, ClusterHealth>();
    for (const c of status?.clusters ?? []) {
      const known = await this.options.health?.get(c.provider, c.cluster);
      if (known) health.set(`${c.provider}/${c.cluster}`, known);
    }
    return { logicalCloud: lc, status, credentials, health };
  }

  /** The tenant's kubeconfig for one cluster reference, or for every cluster with a certificate. */
  async kubeconfig(project: string, name: string, reference?: string): Promise<Kubeconfig> {
    const lc = await this.logicalClouds.resolve(project, name);
    if (lc.data.level === '0') {
      throw new StateConflictError(`Logical Cloud ${name} is an admin (level 0) logical cloud: it has no tenant user and no kubeconfig`);
    }
    const references = (await this.stores.clusterReferences.list({ logicalCloudId: lc.id })).items;
    const wanted = reference ? references.filter((r) => r.name === reference) : references;
    if (reference && wanted.length === 0) throw new NotFoundError(`Cluster reference ${reference} not found in Logical Cloud ${name}`);
    const [doc, credentials] = await Promise.all([this.status.get(lc.id), this.credentials.get(lc.id)]);
    const state = doc ? STATUS_TEXT[doc.state] : STATUS_TEXT.Created;
    const entries: KubeconfigEntry[] = [];
    if (lc.data.user?.type === 'token') {
      for (const ref of wanted) {
        const placed = doc?.clusters.find((c) => c.reference === ref.name && c.state === 'Applied');
        if (!placed || !credentials?.generationId || !['Instantiated', 'InstantiateFailed'].includes(doc!.state)) continue;
        entries.push(await this.tokenEntry(lc, ref.name, ref.data.clusterProvider, ref.data.cluster, tenantServiceAccount(credentials.generationId)));
      }
    }
    for (const ref of lc.data.user?.type === 'token' ? [] : wanted) {
      const certificate = credentials?.certificates.find((c) => c.reference === ref.name);
      if (!certificate || !doc || !['Instantiating', 'Instantiated', 'InstantiateFailed'].includes(doc.state)) continue;
      const cluster = await this.clusters.get(ref.data.clusterProvider, ref.data.cluster);
      entries.push({
        clusterName: ref.name,
        server: cluster.data.server,
        ...(cluster.data.certificateAuthorityData ? { certificateAuthorityData: cluster.data.certificateAuthorityData } : {}),
        ...(cluster.data.insecureSkipTlsVerify ? { insecureSkipTlsVerify: true } : {}),
        userName: lc.data.user!.name,
        clientCertificatePem: certificate.certificate,
        clientKeyPem: credentials!.privateKey,
        namespace: lc.data.namespace,
      });
    }
    if (entries.length === 0) {
      const what = reference ? `cluster reference ${reference}` : 'any cluster';
      const credential = lc.data.user?.type === 'token' ? 'ServiceAccount' : 'certificate';
      throw new StateConflictError(`Logical Cloud ${name} has no ${credential} for ${what} yet (status: ${state}); apply it and wait for Created`);
    }
    return buildKubeconfig(entries);
  }

  /** A token user's entry: a new bound token of the generation's ServiceAccount, at every download. */
  private async tokenEntry(lc: LogicalCloudRecord, reference: string, provider: string, clusterName: string, serviceAccount: string): Promise<KubeconfigEntry> {
    const cluster = await this.clusters.get(provider, clusterName);
    const connection = this.options.connect(cluster, this.clusters.secretsOf(cluster));
    try {
      const token = await connection.requestToken(lc.data.namespace, serviceAccount, this.options.tokenSeconds);
      return {
        clusterName: reference,
        server: cluster.data.server,
        ...(cluster.data.certificateAuthorityData ? { certificateAuthorityData: cluster.data.certificateAuthorityData } : {}),
        ...(cluster.data.insecureSkipTlsVerify ? { insecureSkipTlsVerify: true } : {}),
        userName: lc.data.user!.name,
        token,
        namespace: lc.data.namespace,
      };
    } catch (error) {
      throw new UnavailableError(`no token could be had from cluster ${clusterName}: ${(error as Error).message}`);
    } finally {
      connection.close();
    }
  }

  /** Resolves when the logical cloud's operation under way (if any) has finished. */
  async settled(project: string, name: string): Promise<void> {
    const lc = await this.logicalClouds.resolve(project, name);
    await this.running.get(lc.id);
  }

  /**
   * Claims and resumes operations in progress that no replica works any more (their
   * replica stopped or died and its lease expired). Returns how many it took over.
   */
  async resumeInterrupted(): Promise<number> {
    const interrupted = await this.status.inProgress();
    let resumed = 0;
    for (const found of interrupted) {
      if (this.running.has(found._id)) continue;
      if (!(await this.leases.acquire(found._id, this.options.replicaId, this.options.leaseTtlMs))) continue;
      // It may have finished between the query and the claim.
      const doc = await this.status.get(found._id);
      if (!doc?.operation.inProgress || this.running.has(doc._id)) {
        if (!this.running.has(found._id)) await this.leases.release(found._id, this.options.replicaId);
        continue;
      }
      this.logger.info(
        { project: doc.project, logicalCloud: doc.logicalCloud, operation: doc.operation.kind, replica: this.options.replicaId },
        'resuming interrupted operation',
      );
      this.start(doc._id, () => (doc.operation.kind === 'apply' ? this.runApply(doc.project, doc._id) : this.runTerminate(doc.project, doc._id)));
      resumed++;
    }
    return resumed;
  }

  /** Looks for interrupted operations to take over every half lease TTL, until `stopClaiming()`. */
  startClaiming(): void {
    if (this.sweeper) return;
    this.sweeper = setInterval(() => {
      if (this.sweeping) return;
      this.sweeping = this.resumeInterrupted()
        .catch((error: unknown) => {
          this.logger.warn({ err: error }, 'looking for interrupted operations failed');
          return 0;
        })
        .finally(() => (this.sweeping = undefined));
    }, Math.max(250, Math.floor(this.options.leaseTtlMs / 2)));
    this.sweeper.unref();
  }

  async stopClaiming(): Promise<void> {
    clearInterval(this.sweeper);
    this.sweeper = undefined;
    await this.sweeping;
  }

  /** Waits for every operation under way (graceful shutdown, tests). */
  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.all(this.running.values());
  }

  // ---- background work ------------------------------------------------------------------

  private refuseWhileRunning(lc: LogicalCloudRecord): void {
    if (this.running.has(lc.id)) throw new ConflictError(`an operation on Logical Cloud ${lc.name} is already in progress`);
  }

  /** Takes the logical cloud's lease for a new operation, or refuses: another replica is working it. */
  private async claim(lc: LogicalCloudRecord): Promise<void> {
    if (await this.leases.acquire(lc.id, this.options.replicaId, this.options.leaseTtlMs)) {
      if (!this.running.has(lc.id)) {
        // A stop asked of an earlier operation is not this one's.
        await this.options.stops.clear(lc.id);
        return;
      }
      // Already ours and running here (a concurrent request of this replica won the race).
    }
    throw new ConflictError(`an operation on Logical Cloud ${lc.name} is already in progress`);
  }

  /** Records a new operation; on failure gives the just-taken lease back. */
  private async recordOrRelease(doc: LifecycleDocument): Promise<void> {
    try {
      await this.status.put(doc);
    } catch (error) {
      await this.leases.release(doc._id, this.options.replicaId).catch(() => undefined);
      throw error;
    }
  }

  /** An apply does not wait for a cluster timeout where the last probe (recent enough) found the cluster unreachable. */
  private async refuseUnreachable(placement: ClusterPlacement): Promise<void> {
    const health = this.options.health;
    const known = await health?.get(placement.provider, placement.cluster);
    if (!health || !known || known.reachable || Date.now() - known.checkedAt.getTime() > health.freshMs) return;
    throw new ClusterError(`cluster ${placement.cluster} is unreachable (probed ${known.checkedAt.toISOString()}: ${known.message ?? 'no answer'}); not tried`);
  }

  /** Whether a stop was asked for the operation this replica runs: no further cluster is started. */
  private stopping(logicalCloudId: string): boolean {
    return this.claims.get(logicalCloudId)?.stopped === true;
  }

  /** Whether this replica still holds the logical cloud's lease for the operation it runs. */
  private holds(logicalCloudId: string): boolean {
    return this.claims.get(logicalCloudId)?.lost === false;
  }

  /** Runs an operation whose lease this replica has just taken, renewing the lease until it ends. */
  private start(logicalCloudId: string, work: () => Promise<void>): void {
    const { replicaId, leaseTtlMs } = this.options;
    const claim: Claim = { lost: false, stopped: false };
    this.claims.set(logicalCloudId, claim);
    const renewal = setInterval(() => {
      void this.leases
        .renew(logicalCloudId, replicaId, leaseTtlMs)
        .then((held) => {
          if (held || claim.lost) return;
          claim.lost = true;
          this.logger.warn({ logicalCloudId, replica: replicaId }, 'lease lost: another replica took the operation over; stopping');
        })
        .catch((error: unknown) => this.logger.warn({ err: error, logicalCloudId }, 'lease renewal failed'));
      // A stop asked of another replica reaches this one here.
      void this.options.stops
        .requested(logicalCloudId)
        .then((asked) => {
          if (asked) claim.stopped = true;
        })
        .catch(() => undefined);
    }, Math.max(100, Math.floor(leaseTtlMs / 3)));
    renewal.unref();
    const run = work()
      .catch(async (error: unknown) => {
        this.logger.error({ err: error, logicalCloudId }, 'lifecycle operation failed');
        await this.endFailed(logicalCloudId, error).catch((failure: unknown) =>
          this.logger.error({ err: failure, logicalCloudId }, 'the failed operation could not be recorded; another replica will take it over'),
        );
      })
      .finally(async () => {
        clearInterval(renewal);
        if (!claim.lost) await this.options.stops.clear(logicalCloudId).catch(() => undefined);
        if (!claim.lost) await this.leases.release(logicalCloudId, replicaId).catch(() => undefined);
        this.claims.delete(logicalCloudId);
        this.running.delete(logicalCloudId);
      });
    this.running.set(logicalCloudId, run);
  }

  /** Writes one cluster's status (its own document: a single upsert). */
  private writeCluster(logicalCloudId: string, status: ClusterStatus): Promise<void> {
    return this.status.setClusters(logicalCloudId, [status]);
  }

  private async loadWork(project: string, logicalCloudId: string) {
    const lc = await this.stores.logicalClouds.getById(logicalCloudId);
    if (!lc) return undefined;
    const scope = { logicalCloudId };
    const [references, permissions, quotas] = await Promise.all([
      this.stores.clusterReferences.list(scope),
      this.stores.permissions.list(scope),
      this.stores.clusterQuotas.list(scope),
    ]);
    return { lc, project, references: references.items, permissions: permissions.items, quotas: quotas.items };
  }

  /**
   * Works one cluster with the given pipeline; a cluster that cannot be reached fails alone.
   * `nothingCreated`: certainly nothing was created there (the cluster was never reached, or
   * refused the namespace).
   */
  private async workCluster(
    work: Omit<ClusterWork, 'reference' | 'cluster' | 'clusterSecrets'>,
    placement: ClusterPlacement,
    kind: 'apply' | 'remove',
  ): Promise<{ status: ClusterStatus; nothingCreated: boolean }> {
    const base = { ...placement, resources: [], warnings: [] };
    const reference = (await this.stores.clusterReferences.get({ logicalCloudId: work.logicalCloud.id }, placement.reference)) ?? {
      id: '',
      scope: { logicalCloudId: work.logicalCloud.id },
      name: placement.reference,
      revision: 0,
      createdAt: new Date(),
      updatedAt: new Date(),
      data: { clusterProvider: placement.provider, cluster: placement.cluster, loadbalancerIp: '', description: '', userData1: '', userData2: '' },
    };
    let cluster: ClusterRecord;
    let clusterSecrets: ClusterSecrets;
    let connection: ClusterConnection;
    try {
      cluster = await this.clusters.get(placement.provider, placement.cluster);
      if (kind === 'apply') await this.refuseUnreachable(placement);
      clusterSecrets = this.clusters.secretsOf(cluster);
      // Loading the kubeconfig can fail too: that fails this cluster's entries, and nothing else.
      connection = this.options.connect(cluster, clusterSecrets);
    } catch (error) {
      const status: ClusterStatus = {
        ...base,
        state: kind === 'apply' ? 'Failed' : 'TerminateFailed',
        resources: [{ category: 'namespace', kind: 'Cluster', name: placement.cluster, status: 'Failed', message: (error as Error).message }],
      };
      return { status, nothingCreated: true };
    }
    const ctx = new ClusterContext({ ...work, reference, cluster, clusterSecrets }, connection);
    try {
      if (kind === 'apply') await applyCluster(this.controllers, ctx);
      else await removeCluster(this.controllers, ctx);
    } finally {
      connection.close();
    }
    const failed = ctx.failed();
    const status: ClusterStatus = {
      ...base,
      state: kind === 'apply' ? (failed ? 'Failed' : 'Applied') : failed ? 'TerminateFailed' : 'Terminated',
      resources: ctx.resources,
      warnings: ctx.warnings,
    };
    return { status, nothingCreated: ctx.nothingCreated };
  }

  private async runApply(project: string, logicalCloudId: string): Promise<void> {
    const loaded = await this.loadWork(project, logicalCloudId);
    const doc = await this.status.get(logicalCloudId);
    if (!loaded || !doc) return;
    let tenant: TenantIdentity | undefined;
    try {
      tenant = await this.controllers.user.prepare(project, loaded.lc, doc.operation.credentialGeneration);
    } catch (error) {
      await this.failApply(doc, `the tenant's credentials could not be prepared: ${(error as Error).message}`);
      return;
    }
    const work = { project, logicalCloud: loaded.lc, permissions: loaded.permissions, quotas: loaded.quotas, ...(tenant ? { tenant } : {}) };
    const current = loaded.references.map((r) => ({ reference: r.name, provider: r.data.clusterProvider, cluster: r.data.cluster }));
    // A cluster no longer referenced is cleaned up (unless another reference now names it).
    const removed = doc.placements.filter((p) => !current.some((c) => c.provider === p.provider && c.cluster === p.cluster));

    // A cluster this apply added, on which it certainly created nothing, holds nothing of it.
    const heldBefore = doc.heldBefore ?? doc.placements;
    const holdsNothing = new Set<ClusterPlacement>();
    const stillHolding: ClusterPlacement[] = [];
    const started = performance.now();
    await mapWithConcurrency([...current.map((p) => ({ p, kind: 'apply' as const })), ...removed.map((p) => ({ p, kind: 'remove' as const }))], this.options.concurrency, async ({ p, kind }) => {
      if (kind === 'apply') await this.writeCluster(logicalCloudId, { ...p, state: 'Applying', resources: [], warnings: [] });
      const clusterStarted = performance.now();
      const { status: result, nothingCreated } = await this.workCluster(work, p, kind);
      this.options.observer?.clusterFinished({
        kind: kind === 'apply' ? 'apply' : 'terminate',
        provider: p.provider,
        cluster: p.cluster,
        outcome: result.state === 'Applied' || result.state === 'Terminated' ? 'success' : 'failure',
        seconds: (performance.now() - clusterStarted) / 1000,
      });
      if (!this.holds(logicalCloudId)) return;
      if (kind === 'apply' && nothingCreated && !heldBefore.some((q) => samePlacement(p, q))) holdsNothing.add(p);
      if (kind === 'remove') {
        // A removed cluster that was cleaned up leaves the status; one that failed stays visible.
        if (result.state === 'Terminated') return;
        stillHolding.push(p);
      }
      await this.writeCluster(logicalCloudId, result);
    }, () => !this.holds(logicalCloudId) || this.stopping(logicalCloudId));
    if (!this.holds(logicalCloudId)) return; // the replica that took over writes the outcome
    const found = await this.status.get(logicalCloudId);
    if (!found) return;
    const { heldBefore: _done, ...final } = found; // only meaningful while the apply is under way
    const stopped = this.stopping(logicalCloudId);
    // A cluster whose Istio control plane was declared but is still not ready is not Applied (its mesh-status says Pending).
    const clusters = (stopped ? final.clusters.map((c) => unreached(c, 'Failed')) : final.clusters).map((c) =>
      c.state === 'Applied' && meshNotReady(c.resources) ? { ...c, state: 'Failed' as const } : c,
    );
    const failed = clusters.some((c) => c.state === 'Failed' || c.state === 'TerminateFailed');
    await this.status.put({
      ...final,
      clusters,
      state: failed ? 'InstantiateFailed' : 'Instantiated',
      operation: { ...final.operation, inProgress: false, finishedAt: new Date(), ...(stopped ? { stopped: true } : {}) },
      placements: [...current.filter((p) => !holdsNothing.has(p)), ...stillHolding],
    });
    this.options.observer?.operationFinished({ kind: 'apply', outcome: failed ? 'failure' : 'success', seconds: (performance.now() - started) / 1000, clusters: current.length });
    this.logger.info({ project, logicalCloud: loaded.lc.name, failed }, 'apply finished');
  }

  /**
   * An operation that broke off (its status could not be written, say) ends failed instead of
   * being taken over and broken off again on every replica. What is recorded is kept short: the
   * full record may be what could not be written.
   */
  private async endFailed(logicalCloudId: string, error: unknown): Promise<void> {
    if (!this.holds(logicalCloudId)) return;
    const doc = await this.status.get(logicalCloudId);
    if (!doc?.operation.inProgress) return;
    const { kind } = doc.operation;
    const { heldBefore: _heldBefore, ...rest } = doc;
    const done = (state: ClusterStatus['state']) => state === 'Applied' || state === 'Terminated';
    await this.status.put({
      ...rest,
      state: kind === 'apply' ? 'InstantiateFailed' : 'TerminateFailed',
      operation: { ...doc.operation, inProgress: false, finishedAt: new Date(), error: `the ${kind} broke off: ${messageOf(error)}` },
      clusters: doc.clusters.map((c) => ({
        ...c,
        state: done(c.state) ? c.state : kind === 'apply' ? 'Failed' : 'TerminateFailed',
        resources: c.resources.slice(0, RECORDED_LINES),
        warnings: c.warnings.slice(0, RECORDED_LINES),
      })),
    });
  }

  /** Ends an apply that could not start on any cluster: every cluster Failed with the reason. */
  private async failApply(doc: LifecycleDocument, message: string): Promise<void> {
    if (!this.holds(doc._id)) return;
    const { heldBefore, ...rest } = doc;
    await this.status.put({
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
    });
    this.logger.warn({ project: doc.project, logicalCloud: doc.logicalCloud }, message);
  }

  private async runTerminate(project: string, logicalCloudId: string): Promise<void> {
    const loaded = await this.loadWork(project, logicalCloudId);
    const doc = await this.status.get(logicalCloudId);
    if (!loaded || !doc) return;
    const work = { project, logicalCloud: loaded.lc, permissions: loaded.permissions, quotas: loaded.quotas };
    const stillHolding: ClusterPlacement[] = [];
    const started = performance.now();
    await mapWithConcurrency(doc.placements, this.options.concurrency, async (p) => {
      await this.writeCluster(logicalCloudId, { ...p, state: 'Terminating', resources: [], warnings: [] });
      const clusterStarted = performance.now();
      const { status: result } = await this.workCluster(work, p, 'remove');
      this.options.observer?.clusterFinished({
        kind: 'terminate',
        provider: p.provider,
        cluster: p.cluster,
        outcome: result.state === 'Terminated' ? 'success' : 'failure',
        seconds: (performance.now() - clusterStarted) / 1000,
      });
      if (!this.holds(logicalCloudId)) return;
      if (result.state !== 'Terminated') stillHolding.push(p);
      await this.writeCluster(logicalCloudId, result);
    }, () => !this.holds(logicalCloudId) || this.stopping(logicalCloudId));
    if (!this.holds(logicalCloudId)) return;
    const final = await this.status.get(logicalCloudId);
    if (!final) return;
    // This credential generation is over: the next apply starts a new one (new key, new group),
    // so no certificate issued before the terminate is ever bound again.
    await this.credentials.delete(logicalCloudId);
    const stopped = this.stopping(logicalCloudId);
    // Clusters a stop kept the terminate from reaching still hold the logical cloud's objects.
    if (stopped) for (const c of final.clusters) if (c.state === 'Pending') stillHolding.push({ reference: c.reference, provider: c.provider, cluster: c.cluster });
    await this.status.put({
      ...final,
      clusters: stopped ? final.clusters.map((c) => unreached(c, 'TerminateFailed')) : final.clusters,
      state: stillHolding.length > 0 ? 'TerminateFailed' : 'Terminated',
      operation: { ...final.operation, inProgress: false, finishedAt: new Date(), ...(stopped ? { stopped: true } : {}) },
      placements: stillHolding,
    });
    this.options.observer?.operationFinished({
      kind: 'terminate',
      outcome: stillHolding.length > 0 ? 'failure' : 'success',
      seconds: (performance.now() - started) / 1000,
      clusters: doc.placements.length,
    });
    this.logger.info({ project, logicalCloud: loaded.lc.name, failed: stillHolding.length > 0 }, 'terminate finished');
  }
}

/** A cluster a stopped operation never started: it ends in the operation's failed state, saying so. */
function unreached(c: ClusterStatus, state: 'Failed' | 'TerminateFailed'): ClusterStatus {
  if (c.state !== 'Pending') return c;
  const message = 'the operation was stopped before it reached this cluster';
  return { ...c, state, resources: [{ category: 'namespace', kind: 'Cluster', name: c.cluster, status: state === 'Failed' ? 'Failed' : 'DeleteFailed', message }] };
}

const samePlacement = (a: ClusterPlacement, b: ClusterPlacement) =>
  a.reference === b.reference && a.provider === b.provider && a.cluster === b.cluster;

function mergePlacements(a: ClusterPlacement[], b: ClusterPlacement[]): ClusterPlacement[] {
  return [...a, ...b.filter((p) => !a.some((q) => samePlacement(p, q)))];
}
